package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// A schema made by migrations 001 to 003 holds an outbox message settled
// the old way (dead, "uncertain: ..."); migration 004 makes it unknown and
// leaves the others as they were.
func TestMigrationOutboxUnknown(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	schema := newSchema(t, url)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE SCHEMA " + schema,
		"SET search_path TO " + schema,
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for v, name := range []string{"001_core", "002_catalog", "003_deployments"} {
		b, err := os.ReadFile(filepath.Join("migration", name+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(b)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations VALUES ($1, $2, now())", v+1, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO outbox_messages
		(idempotency_key, recipient, payload, state, attempts, last_error, next_attempt_at, created_at, wamid) VALUES
		('uncertain', '1', '{}', 'dead', 1, 'uncertain: attempt 1: graph: outcome unknown', now(), now(), NULL),
		('dead', '1', '{}', 'dead', 1, 'attempt 1: graph: invalid recipient', now(), now(), NULL),
		('sent', '1', '{}', 'sent', 1, '', now(), now(), 'wamid.S'),
		('pending', '1', '{}', 'pending', 0, '', now(), now(), NULL)`); err != nil {
		t.Fatal(err)
	}

	db, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for key, want := range map[string]struct {
		state     waflow.OutboxState
		lastError string
	}{
		"uncertain": {waflow.OutboxUnknown, "attempt 1: graph: outcome unknown"},
		"dead":      {waflow.OutboxDead, "attempt 1: graph: invalid recipient"},
		"sent":      {waflow.OutboxSent, ""},
		"pending":   {waflow.OutboxPending, ""},
	} {
		m, err := db.OutboxMessageByKey(ctx, key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if m.State != want.state || m.LastError != want.lastError {
			t.Errorf("%s: state %s, last error %q; want %s, %q", key, m.State, m.LastError, want.state, want.lastError)
		}
	}
	// The constraint still refuses a state that does not exist.
	if _, err := db.Pool().Exec(ctx, "UPDATE outbox_messages SET state = 'bogus' WHERE idempotency_key = 'dead'"); err == nil {
		t.Error("the outbox's state constraint accepted 'bogus'")
	}
}
