package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/catalog/catalogstore/catalogtest"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
)

// Two handles on one database file stand for two processes: Book is atomic
// across them because its transaction takes the file's write lock first.
func TestBookingAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waflow.db")
	var stores []catalogstore.Store
	for range 2 {
		db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		stores = append(stores, db)
	}
	catalogtest.BookingAcrossStores(t, stores...)
}

// TestGroupCommitVisibility: writes share a transaction (commit.go), so a
// write that gives up because of an earlier write of the same batch must
// not return before that write is committed: the caller's next read, on
// another connection, must see it.
func TestGroupCommitVisibility(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlitetest.Path(t), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for round := range 20 {
		slot := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(round) * time.Hour)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Go(func() {
				_, _, err := db.Book(ctx, catalogstore.Booking{Ref: fmt.Sprintf("BK-%d-%d", round, i), TokenID: fmt.Sprintf("t-%d-%d", round, i), Start: slot}, 1)
				if errors.Is(err, catalogstore.ErrSlotFull) {
					counts, err := db.BookingCounts(ctx, slot, slot.Add(time.Minute))
					if err == nil && counts[slot] != 1 {
						err = fmt.Errorf("told the slot is full, then read %d bookings in it", counts[slot])
					}
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Callers that give up (a cancelled context) while sharing a transaction
// with others must not undo the others' writes: every AddEvents that
// returned nil has its event stored, whatever happened to its neighbours.
func TestGroupCommitCancelledNeighbours(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlitetest.Path(t), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 400
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("ev-%d", i)
			cctx := ctx
			if i%2 == 1 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, time.Duration(i%7)*100*time.Microsecond)
				defer cancel()
			}
			ev := waflow.InboxEvent{DedupeKey: key, Kind: waflow.EventMessage, Payload: []byte(`{"i":1}`)}
			if _, err := db.AddEvents(cctx, []waflow.InboxEvent{ev}); err == nil {
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
			} else if i%2 == 0 {
				t.Errorf("AddEvents %s without a deadline: %v", key, err)
			}
		})
	}
	wg.Wait()
	for _, key := range acked {
		if _, err := db.InboxEventByKey(ctx, key); err != nil {
			t.Fatalf("%s was acknowledged, then: %v", key, err)
		}
	}
	if len(acked) < n/2 {
		t.Fatalf("%d of %d writes acknowledged; every write without a deadline should be", len(acked), n)
	}
}
