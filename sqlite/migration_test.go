package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/sqlite"
)

// A database made by migrations 001 to 003 holds an outbox message settled
// the old way (dead, "uncertain: ..."); migration 004 makes it unknown and
// leaves the others as they were.
func TestMigrationOutboxUnknown(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waflow.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		t.Fatal(err)
	}
	for v, name := range []string{"001_core", "002_catalog", "003_deployments"} {
		b, err := os.ReadFile(filepath.Join("migration", name+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := old.Exec("INSERT INTO schema_migrations VALUES (?, ?, 0)", v+1, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.Exec(`INSERT INTO outbox_messages
		(idempotency_key, recipient, payload, state, attempts, last_error, next_attempt_at, created_at, wamid, sent_at) VALUES
		('uncertain', '1', x'7b7d', 'dead', 1, 'uncertain: attempt 1: graph: outcome unknown', 0, 0, NULL, NULL),
		('dead', '1', x'7b7d', 'dead', 1, 'attempt 1: graph: invalid recipient', 0, 0, NULL, NULL),
		('sent', '1', x'7b7d', 'sent', 1, '', 0, 0, 'wamid.S', 5),
		('pending', '1', x'7b7d', 'pending', 0, '', 7, 0, NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := sqlite.Open(ctx, path, sqlite.Options{})
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
	if m, _ := db.OutboxMessageByKey(ctx, "sent"); m.WAMID != "wamid.S" || m.SentAt.UnixMicro() != 5 {
		t.Errorf("sent message changed: %+v", m)
	}
	// The rebuilt table keeps its indexes and its unique key.
	ms, err := db.ClaimOutbox(ctx, "w", 10, 1)
	if err != nil || len(ms) != 1 || ms[0].IdempotencyKey != "pending" {
		t.Fatalf("ClaimOutbox after the migration: %+v, %v", ms, err)
	}
	if _, created, err := db.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "dead", To: "1", Payload: []byte("{}")}); err != nil || created {
		t.Fatalf("Enqueue of an existing key after the migration: created %v, %v", created, err)
	}
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var n int
	if err := check.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('outbox_messages_due', 'outbox_messages_leased')").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d of the outbox's two indexes after the migration (%v)", n, err)
	}
}
