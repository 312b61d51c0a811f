package postgres_test

import (
	"context"
	"testing"

	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// Migration 005 converts the flow tokens stored in clear before it, and
// keeps everything else.
func TestMigrationRedactsStoredTokens(t *testing.T) {
	ctx := context.Background()
	db, schema := openSchema(t, nil)
	storetest.WriteLegacyTokenRows(t, db)
	// Forget that 005 was applied, as in a database of an older waflow.
	if _, err := db.Pool().Exec(ctx, "DELETE FROM schema_migrations WHERE version = 5"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err := postgres.Open(ctx, storetest.PostgresURL(t), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	storetest.CheckLegacyTokenRowsRedacted(t, db)
}
