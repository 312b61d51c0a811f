package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/storetest"
)

// Migration 005 converts the flow tokens stored in clear before it, and
// keeps everything else.
func TestMigrationRedactsStoredTokens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waflow.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.WriteLegacyTokenRows(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	markMigrationUnapplied(t, path, 5)
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	storetest.CheckLegacyTokenRowsRedacted(t, db)
}

// markMigrationUnapplied forgets that migration version was applied to the
// database at path, so that the next Open applies it again, as it would to
// a database of an older waflow.
func markMigrationUnapplied(t *testing.T, path string, version int) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("DELETE FROM schema_migrations WHERE version = ?", version); err != nil {
		t.Fatal(err)
	}
}
