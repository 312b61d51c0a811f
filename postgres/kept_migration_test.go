package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// Migration 006: the completions stored before get a status (handled or
// recorded) and a received_at (their inbox event's, else recorded_at), and a
// token is still used by one completion at most.
func TestMigrationCompletionsKept(t *testing.T) {
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
	for v, name := range []string{"001_core", "002_catalog", "003_deployments", "004_outbox_unknown", "005_redact_flow_tokens"} {
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
	at := func(us int64) time.Time { return time.UnixMicro(us).UTC() }
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO flow_tokens (id, flow, issued_at, expires_at, state, used_at) VALUES
			('t1', 'f', $1, $2, 'used', $1), ('t2', 'f', $1, $2, 'used', $1)`, []any{at(10), at(9e15)}},
		{`INSERT INTO inbox_events (id, dedupe_key, kind, payload, received_at, next_attempt_at) OVERRIDING SYSTEM VALUE VALUES
			(7, 'msg:wamid.h', 'completion', '{}', $1, $1)`, []any{at(5e6)}},
		{`INSERT INTO completions (message_id, token_id, flow, wa_id, response, completed_at, recorded_at, handled_at, inbox_event_id) VALUES
			('wamid.h', 't1', 'f', '1555', '{}', $1, $2, $3, 7), ('wamid.r', 't2', 'f', '1555', '{}', $1, $4, NULL, 99)`,
			[]any{at(10), at(6e6), at(7e6), at(8e6)}},
	} {
		if _, err := conn.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}

	db, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for msg, want := range map[string]struct {
		status   waflow.CompletionStatus
		received int64
	}{
		"wamid.h": {waflow.CompletionHandled, 5e6},
		"wamid.r": {waflow.CompletionRecorded, 8e6},
	} {
		c, err := db.Completion(ctx, msg)
		if err != nil || c.Status != want.status || c.ReceivedAt.UnixMicro() != want.received {
			t.Errorf("%s after the migration: %+v, %v; want %s received at %d", msg, c, err, want.status, want.received)
		}
	}
	if _, err := db.RecordCompletion(ctx, waflow.Completion{MessageID: "wamid.x", TokenID: "t1", Flow: "f", Response: []byte("{}"), CompletedAt: at(20)}); err == nil {
		t.Fatal("a second completion used token t1")
	}
	if err := db.RejectCompletion(ctx, "wamid.r", "no"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordCompletion(ctx, waflow.Completion{MessageID: "wamid.y", TokenID: "t2", Flow: "f", Response: []byte("{}"), CompletedAt: at(20)}); err != nil {
		t.Fatalf("recording with the token of a rejected completion: %v", err)
	}
	if _, err := db.KeepCompletion(ctx, waflow.Completion{MessageID: "wamid.z", Response: []byte("{}"), CompletedAt: at(20), Status: waflow.CompletionRejected}); err != nil {
		t.Fatalf("keeping an unattributed completion: %v", err)
	}
}
