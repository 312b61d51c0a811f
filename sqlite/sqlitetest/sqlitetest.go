// Package sqlitetest gives tests a migrated SQLite database quickly.
//
// Opening a new database applies every migration, which costs 10 ms, and
// 150 to 250 ms under the race detector (SQLite re-reads its schema after
// each change, and modernc.org/sqlite is Go code the detector instruments).
// A test suite opening hundreds of databases spent most of its time there.
// This package migrates one database per test process, keeps a copy of it in
// memory (made with DB.Backup, VACUUM INTO, so it is whole without its
// write-ahead log) and writes that copy wherever a test wants a new database:
// opening the copy costs 3 ms, 20 ms under the race detector.
//
// Tests of the migrations themselves, and of what a first start does, open
// a new file with sqlite.Open instead.
package sqlitetest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/waflow/waflow/sqlite"
)

// migrated is the migrated database's file, made on first use.
var migrated = sync.OnceValues(func() ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "waflow-sqlitetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("sqlitetest: migrating the template database: %w", err)
	}
	defer db.Close()
	path := filepath.Join(dir, "waflow.db")
	if err := db.Backup(ctx, path); err != nil {
		return nil, fmt.Errorf("sqlitetest: copying the template database: %w", err)
	}
	return os.ReadFile(path)
})

// WriteFile writes a migrated, empty database to path (which must not
// exist), as waflow serve's first start would leave it. Open it with
// sqlite.Open, storage.Open or waflow serve -data-dir.
func WriteFile(t testing.TB, path string) {
	t.Helper()
	b, err := migrated()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("sqlitetest: %v", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		t.Fatalf("sqlitetest: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("sqlitetest: %v", err)
	}
}

// Path writes a migrated, empty database named waflow.db in a new folder of
// t.TempDir() and returns its path.
func Path(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "waflow.db")
	WriteFile(t, path)
	return path
}

// Open opens a migrated, empty database of its own (at Path) with opts,
// closed when the test ends.
func Open(t testing.TB, opts sqlite.Options) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), Path(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
