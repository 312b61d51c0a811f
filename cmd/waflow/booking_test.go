package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/sqlite"
)

func TestBookingCancel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "waflow.db"), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	if _, _, err := db.Book(ctx, catalogstore.Booking{Ref: "BK-1", TokenID: "tok-1", WAID: "491", Start: start, Reminder: true}, 1); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, out, errs := runWaflow(t, "booking", "-data-dir", dir, "cancel", "BK-1")
	if code != 0 || !strings.Contains(out, "BK-1 cancelled at") || !strings.Contains(out, start.Format("2006-01-02 15:04")) {
		t.Fatalf("booking cancel: exit %d\n%s%s", code, out, errs)
	}
	db, err = sqlite.Open(ctx, filepath.Join(dir, "waflow.db"), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	left, err := db.BookingsStarting(ctx, start.Add(-time.Hour), start.Add(time.Hour))
	db.Close()
	if err != nil || len(left) != 0 {
		t.Errorf("after cancel, BookingsStarting = %v, %v; want none", left, err)
	}

	if code, _, errs := runWaflow(t, "booking", "-data-dir", dir, "cancel", "BK-404"); code != 1 || !strings.Contains(errs, "no booking BK-404") {
		t.Errorf("unknown ref: exit %d, %q; want 1 and a message naming it", code, errs)
	}
	if code, _, errs := runWaflow(t, "booking", "-data-dir", dir, "delete", "BK-1"); code != 2 || !strings.Contains(errs, "booking cancel REF") {
		t.Errorf("unknown subcommand: exit %d, %q; want usage", code, errs)
	}
	if code, _, errs := runWaflow(t, "booking", "-data-dir", filepath.Join(dir, "nowhere"), "cancel", "BK-1"); code != 1 || !strings.Contains(errs, "no database at") {
		t.Errorf("no database: exit %d, %q", code, errs)
	}
}
