package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/racedetect"
)

// migratedFile is a migrated, empty database file, made once: opening a
// copy costs a tenth of migrating a new database (package sqlitetest does
// this for the other packages' tests; this package's own tests cannot
// import it).
var migratedFile = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "waflow-sqlite-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := Open(context.Background(), ":memory:", Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	path := filepath.Join(dir, "waflow.db")
	if err := db.Backup(context.Background(), path); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// openMigrated opens a copy of migratedFile of t's own.
func openMigrated(t *testing.T) (*DB, error) {
	t.Helper()
	b, err := migratedFile()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(t.TempDir(), "waflow.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return Open(context.Background(), path, Options{})
}

// A granted write runs to its end even when its caller's context is
// cancelled mid-statement: SQLite answers an interrupted INSERT inside an
// explicit transaction by rolling back the whole transaction, which would
// take the other writes of the batch with it.
func TestGrantedWriteIgnoresCancellation(t *testing.T) {
	t.Parallel() // its own database: overlaps the conformance suites
	db, err := openMigrated(t)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	tx, err := db.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE slow (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Millisecond, cancel)
	defer timer.Stop()
	// Long enough (tens of milliseconds) that the cancel lands inside it;
	// the race detector makes each row 40 times as slow.
	rows := 200000
	if racedetect.Enabled {
		rows = 20000
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO slow WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?) SELECT x FROM c`, rows)
	if err != nil {
		t.Fatalf("the write was interrupted by its caller's cancellation: %v", err)
	}
	if n, _ := res.RowsAffected(); n != int64(rows) {
		t.Fatalf("inserted %d rows, want %d", n, rows)
	}
	if ctx.Err() == nil {
		t.Fatal("the statement finished before the cancel: make it longer")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// When SQLite itself rolls the shared transaction back (here: a statement
// interrupted through the raw transaction, as a disk-full or I/O error
// would), no write of that batch may be told it committed, and no later
// write may run outside the transaction and be committed while told it
// failed.
func TestBatchAfterSQLiteRollback(t *testing.T) {
	db, err := openMigrated(t)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	insert := func(tx *opTx, key string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inbox_events (dedupe_key, kind, payload, received_at, next_attempt_at) VALUES (?, 'message', x'7b7d', 0, 0)`, key)
		return err
	}
	stored := func(key string) bool {
		var n int
		if err := db.r.QueryRow("SELECT count(*) FROM inbox_events WHERE dedupe_key = ?", key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	queued := func(n int) { // waits until n writes wait for their turn
		for deadline := time.Now().Add(5 * time.Second); len(db.writes) < n; {
			if time.Now().After(deadline) {
				t.Fatal("writes did not queue")
			}
			time.Sleep(time.Millisecond)
		}
	}

	a, err := db.begin(ctx) // A: keeps its change, then waits for the commit
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback() // a no-op after Commit; frees the committer if the test fails early
	if err := insert(a, "a"); err != nil {
		t.Fatal(err)
	}
	// D: sees A's row and concludes "already recorded" without writing,
	// as Enqueue and RecordCompletion do for a duplicate.
	dDone := make(chan error)
	go func() {
		dDone <- func() (err error) {
			d, err := db.begin(ctx)
			if err != nil {
				return err
			}
			defer d.end(&err)
			var n int
			if err := d.QueryRowContext(ctx, "SELECT count(*) FROM inbox_events WHERE dedupe_key = 'a'").Scan(&n); err != nil || n != 1 {
				return fmt.Errorf("D did not see A's row: %v", err)
			}
			return nil
		}()
	}()
	queued(1)
	bTurn := make(chan *opTx)
	go func() {
		b, err := db.begin(ctx)
		if err != nil {
			t.Error(err)
		}
		bTurn <- b
	}()
	queued(2)
	aDone := make(chan error)
	go func() { aDone <- a.Commit() }()
	b := <-bTurn // B: its statement is interrupted, and SQLite rolls everything back
	cDone := make(chan error)
	go func() {
		c, err := db.begin(ctx) // C: queued behind B in the same batch
		if err != nil {
			cDone <- err
			return
		}
		defer c.Rollback()
		if err := insert(c, "c"); err != nil {
			cDone <- err
			return
		}
		cDone <- c.Commit()
	}()
	queued(1)
	bctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(2*time.Millisecond, cancel)
	_, err = b.Tx.ExecContext(bctx, `INSERT INTO inbox_events (dedupe_key, kind, payload, received_at, next_attempt_at)
		WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 200000) SELECT 'b' || x, 'message', x'7b7d', 0, 0 FROM n`)
	if err == nil {
		t.Fatal("the statement was not interrupted: make it longer")
	}
	b.Rollback()
	if err := <-aDone; err == nil || stored("a") {
		t.Errorf("A: Commit = %v, stored %v; its change was rolled back, so it must be told so", err, stored("a"))
	}
	if err := <-dDone; err == nil {
		t.Errorf("D: told its duplicate was recorded, but A's row was never stored")
	}
	if err := <-cDone; (err == nil) != stored("c") {
		t.Errorf("C: Commit = %v, stored %v; the answer must match the database", err, stored("c"))
	}
	// The store goes on working.
	if _, err := db.exec(ctx, `INSERT INTO inbox_events (dedupe_key, kind, payload, received_at, next_attempt_at) VALUES ('d', 'message', x'7b7d', 0, 0)`); err != nil || !stored("d") {
		t.Fatalf("a write after the failed batch: %v, stored %v", err, stored("d"))
	}
}

// Writes racing Close end with ErrClosed or succeed; none waits forever for
// a turn the stopped committer will never give.
func TestWritesRacingClose(t *testing.T) {
	t.Parallel() // its own database: overlaps the conformance suites
	rounds := 100
	if testing.Short() {
		rounds = 10 // the fast path; go test without -short (and CI) runs them all
	}
	for round := range rounds {
		db, err := openMigrated(t)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					key := fmt.Sprintf("%d-%d-%d", round, w, i)
					if _, err := db.exec(context.Background(), `INSERT INTO inbox_events (dedupe_key, kind, payload, received_at, next_attempt_at) VALUES (?, 'message', x'7b7d', 0, 0)`, key); err != nil {
						return
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		db.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: writes still waiting 10 s after Close", round)
		}
	}
}

// A turn queued just as Close stopped the committer is answered ErrClosed,
// not left waiting: the window TestWritesRacingClose rarely hits, made
// certain.
func TestTurnQueuedAfterClose(t *testing.T) {
	db, err := openMigrated(t)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	turn := &writeTurn{granted: make(chan grant, 1), done: make(chan bool, 1), result: make(chan error, 1), ctx: context.Background()}
	db.writes <- turn // what begin does when its select picks the queue over closing
	got := make(chan error, 1)
	go func() { _, err := db.awaitTurn(turn); got <- err }()
	select {
	case err := <-got:
		if !errors.Is(err, waflow.ErrClosed) {
			t.Fatalf("awaitTurn = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a turn queued after Close waits forever")
	}
}
