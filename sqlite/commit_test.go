package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A granted write runs to its end even when its caller's context is
// cancelled mid-statement: SQLite answers an interrupted INSERT inside an
// explicit transaction by rolling back the whole transaction, which would
// take the other writes of the batch with it.
func TestGrantedWriteIgnoresCancellation(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "waflow.db"), Options{})
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
	// Long enough (tens of milliseconds) that the cancel lands inside it.
	res, err := tx.ExecContext(ctx, `INSERT INTO slow WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) SELECT x FROM c`)
	if err != nil {
		t.Fatalf("the write was interrupted by its caller's cancellation: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 200000 {
		t.Fatalf("inserted %d rows, want 200000", n)
	}
	if ctx.Err() == nil {
		t.Fatal("the statement finished before the cancel: make it longer")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
