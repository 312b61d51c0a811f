package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/sqlite"
)

// Migration 006 rebuilds completions: the rows stored before get a status
// (handled or recorded) and a received_at (their inbox event's, else
// recorded_at), and a token is still used by one completion at most.
func TestMigrationCompletionsKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waflow.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for v, name := range []string{"001_core", "002_catalog", "003_deployments", "004_outbox_unknown", "005_redact_flow_tokens"} {
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
	if _, err := old.Exec(`
		INSERT INTO flow_tokens (id, flow, issued_at, expires_at, state, used_at) VALUES
			('t1', 'f', 0, 9000000000000000, 'used', 10), ('t2', 'f', 0, 9000000000000000, 'used', 10),
			('t3', 'f', 0, 9000000000000000, 'issued', NULL);
		INSERT INTO inbox_events (id, dedupe_key, kind, payload, received_at, next_attempt_at) VALUES
			(7, 'msg:wamid.h', 'completion', x'7b7d', 5000000, 0);
		INSERT INTO completions (message_id, token_id, flow, wa_id, response, completed_at, recorded_at, handled_at, inbox_event_id) VALUES
			('wamid.h', 't1', 'f', '1555', x'7b7d', 10, 6000000, 7000000, 7),
			('wamid.r', 't2', 'f', '1555', x'7b7d', 10, 8000000, NULL, 99);`); err != nil {
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
	for msg, want := range map[string]struct {
		status   waflow.CompletionStatus
		received int64
	}{
		"wamid.h": {waflow.CompletionHandled, 5000000},
		"wamid.r": {waflow.CompletionRecorded, 8000000},
	} {
		c, err := db.Completion(ctx, msg)
		if err != nil || c.Status != want.status || c.ReceivedAt.UnixMicro() != want.received {
			t.Errorf("%s after the migration: %+v, %v; want %s received at %d", msg, c, err, want.status, want.received)
		}
	}
	// The unique index on token_id still holds for completions that used
	// their token, not for rejected ones.
	if _, err := db.RecordCompletion(ctx, waflow.Completion{MessageID: "wamid.x", TokenID: "t1", Flow: "f", Response: []byte("{}"), CompletedAt: time.UnixMicro(20)}); err == nil {
		t.Fatal("a second completion used token t1")
	}
	if err := db.RejectCompletion(ctx, "wamid.r", "no"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordCompletion(ctx, waflow.Completion{MessageID: "wamid.y", TokenID: "t2", Flow: "f", Response: []byte("{}"), CompletedAt: time.UnixMicro(20)}); err != nil {
		t.Fatalf("recording with the token of a rejected completion: %v", err)
	}
	if _, err := db.KeepCompletion(ctx, waflow.Completion{MessageID: "wamid.z", Response: []byte("{}"), CompletedAt: time.UnixMicro(20), Status: waflow.CompletionRejected}); err != nil {
		t.Fatalf("keeping an unattributed completion: %v", err)
	}
}
