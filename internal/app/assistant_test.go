package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/sqlite"
)

// With reminders on, the server's scheduler enqueues a booking's reminder
// once it is due; with them off, it enqueues none.
func TestAppSchedulesReminders(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := testConfig(t)
		cfg.Assistant = AssistantConfig{Reminders: on, Interval: 20 * time.Millisecond}
		ctx := context.Background()
		db, err := sqlite.Open(ctx, cfg.DatabaseURL, sqlite.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		// Starts in 10 minutes: due at once with the default lead (a day).
		start := time.Now().Add(10 * time.Minute)
		if _, _, err := db.Book(ctx, catalogstore.Booking{Ref: "BK-1", TokenID: "tok-1", WAID: "491", Start: start, Reminder: true}, 1); err != nil {
			t.Fatal(err)
		}
		if err := db.NoteInbound(ctx, "491", time.Now()); err != nil {
			t.Fatal(err)
		}
		db.Close()
		a, err := New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var found error
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, found = a.store.OutboxMessageByKey(ctx, "reminder:booking:BK-1"); found == nil || !on {
				break
			}
		}
		if !on {
			time.Sleep(100 * time.Millisecond) // several ticks, were it running
			_, found = a.store.OutboxMessageByKey(ctx, "reminder:booking:BK-1")
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if on && found != nil {
			t.Errorf("reminders on: no reminder enqueued (%v)", found)
		}
		if !on && !errors.Is(found, waflow.ErrNotFound) {
			t.Errorf("reminders off: a reminder was enqueued (%v)", found)
		}
	}
}
