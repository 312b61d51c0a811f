package webhook_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/storetest"
	"github.com/waflow/waflow/webhook"
)

// sig is the signature part of a flow token: what makes it a credential.
func sig(tok string) string { return tok[strings.LastIndexByte(tok, '.')+1:] }

// storedMessage parses body, which must give one event, and returns the
// stored message and its response_json's flow_token.
func storedMessage(t *testing.T, body []byte) (payload []byte, flowToken string) {
	t.Helper()
	evs, err := webhook.Parse(body)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse: %d events, %v", len(evs), err)
	}
	e, err := webhook.DecodeEvent(evs[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.DecodeMessage()
	if err != nil {
		t.Fatal(err)
	}
	if m.Interactive == nil || m.Interactive.NFMReply == nil {
		return evs[0].Payload, ""
	}
	r, err := webhook.ParseResponse(m.Interactive.NFMReply.ResponseJSON)
	if err != nil {
		return evs[0].Payload, ""
	}
	return evs[0].Payload, r.FlowToken
}

// The receiver never stores a flow token in clear: the stored message holds
// the redacted form, from which the worker still reads the claims.
func TestParseRedactsFlowTokens(t *testing.T) {
	iss := newIssuer(t, nil)
	tok, claims, _ := iss.Issue("book_table", userWAID)
	red := flowtoken.Redact(tok)
	at := time.Unix(1730231903, 0)
	reply := func(responseJSON any) []byte {
		m := nfmReply("wamid.r", "wamid.s", "", at)
		m["interactive"].(map[string]any)["nfm_reply"].(map[string]any)["response_json"] = responseJSON
		return notification(messagesChange(m))
	}
	escaped := strings.Replace(`{"flow_token":"`+tok+`","guests":2}`, "wf1.", `\u0077f1.`, 1)
	for name, tc := range map[string]struct {
		body []byte
		want string // the stored flow_token
	}{
		"response_json a string":    {reply(`{"flow_token":"` + tok + `","guests":2}`), red},
		"response_json an object":   {reply(map[string]any{"flow_token": tok, "guests": 2}), red},
		"a copy in another field":   {reply(`{"flow_token":"` + tok + `","note":"my token is ` + tok + `"}`), red},
		"written with JSON escapes": {reply(escaped), red},
		"duplicate keys":            {reply(`{"flow_token":"` + tok + `","flow_token":"` + tok + `"}`), red},
		"sent already redacted":     {reply(`{"flow_token":"` + red + `"}`), flowtoken.Redacted},
		"WhatsApp's default":        {reply(`{"flow_token":"unused"}`), flowtoken.Redacted},
		"no token":                  {reply(`{"guests":2}`), ""},
		"keys in another case": {notification(messagesChange(map[string]any{"id": "wamid.r", "from": userWAID, "type": "interactive",
			"Interactive": map[string]any{"Type": "nfm_reply", "NFM_Reply": map[string]any{"Response_JSON": `{"flow_token":"my-scheme-token"}`}}})), flowtoken.Redacted},
	} {
		t.Run(name, func(t *testing.T) {
			payload, got := storedMessage(t, tc.body)
			if got != tc.want {
				t.Fatalf("stored flow_token %q, want %q", got, tc.want)
			}
			for _, secret := range []string{sig(tok), "my-scheme-token", `\u0077f1`} {
				if bytes.Contains(payload, []byte(secret)) {
					t.Fatalf("the stored payload holds %q:\n%s", secret, payload)
				}
			}
			if got == red {
				if c, err := iss.ParseRedacted(got); err != nil || c.ID != claims.ID {
					t.Fatalf("ParseRedacted(stored) = %+v, %v", c, err)
				}
			}
		})
	}

	// A usual completion is kept byte for byte but for the token.
	m := nfmReply("wamid.r", "wamid.s", `{"flow_token":"`+tok+`","name":"<Zoë & co>"}`, at)
	raw, _ := json.Marshal(m)
	payload, _ := storedMessage(t, notification(messagesChange(m)))
	var e struct{ Message json.RawMessage }
	json.Unmarshal(payload, &e)
	if want := bytes.ReplaceAll(raw, []byte(tok), []byte(red)); !bytes.Equal(e.Message, want) {
		t.Fatalf("stored message\n%s\nwant\n%s", e.Message, want)
	}
}

// A completion processed end to end leaves the token in no stored row:
// neither the inbox event nor the completion, on both drivers.
func TestNoTokenStoredSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waflow.db")
	var db *sqlite.DB
	tok := completeAndCheckNoToken(t, func(now func() time.Time) waflow.Store {
		var err error
		db, err = sqlite.Open(ctx, path, sqlite.Options{Now: now, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
	// And grep the database files themselves.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(sig(tok))) {
			t.Fatalf("%s holds the flow token", filepath.Base(f))
		}
	}
}

func TestNoTokenStoredPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "waflow_redact_" + hex.EncodeToString(b[:])
	completeAndCheckNoToken(t, func(now func() time.Time) waflow.Store {
		store, err := storage.Open(ctx, url, storage.Options{PostgresSchema: schema, Now: now, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		pg := store.(*postgres.DB)
		t.Cleanup(func() { store.Close() })
		t.Cleanup(func() {
			if _, err := pg.Pool().Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("dropping the test schema: %v", err)
			}
		})
		return store
	})
}

// completeAndCheckNoToken sends three completions through the receiver and
// the worker (one handled, one retried after a failure, one rejected by its
// handler), then reads back every inbox event and completion and requires
// that none holds a token's signature. It returns the handled one's token.
func completeAndCheckNoToken(t *testing.T, open func(now func() time.Time) waflow.Store) string {
	// Retries are due at once: PostgreSQL schedules them on its own clock,
	// which the bench's clock does not move.
	b := newBenchOn(t, webhook.WorkerConfig{MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond}, open)
	tok, claims := issue(t, b.iss, b.store, "book_table", "wamid.sent")
	failing, _ := issue(t, b.iss, b.store, "book_table", "")
	b.complete("wamid.reply", "wamid.sent", responseJSON(tok, map[string]any{"guests": 4, "note": "token " + tok}))
	b.fail.Store(1)
	b.complete("wamid.failing", "", responseJSON(failing, map[string]any{"guests": 2}))
	b.drain()
	b.clock.Advance(time.Hour)
	b.drain()
	b.worker.Handle("other_flow", func(context.Context, webhook.Completed) error { return waflow.Rejectf("no") })
	rejected, _ := issue(t, b.iss, b.store, "other_flow", "")
	b.complete("wamid.rejected", "", responseJSON(rejected, map[string]any{"guests": 1}))
	b.drain()

	b.wantEvent("msg:wamid.reply", waflow.InboxDone, "handled")
	b.wantEvent("msg:wamid.failing", waflow.InboxDone, "handled")
	b.wantEvent("msg:wamid.rejected", waflow.InboxRejected, "rejected it")
	c, err := b.store.CompletionByToken(ctx, claims.ID)
	if err != nil || c.HandledAt.IsZero() {
		t.Fatalf("completion: %+v, %v", c, err)
	}
	var stored [][]byte
	for _, ev := range allEvents(t, b.store) {
		stored = append(stored, ev.Payload, []byte(ev.Result), []byte(ev.LastError))
	}
	cs, err := b.store.Completions(ctx, waflow.CompletionFilter{Limit: 1000})
	if err != nil || len(cs) != 3 { // the rejected one is kept too
		t.Fatalf("completions: %d, %v", len(cs), err)
	}
	for _, c := range cs {
		stored = append(stored, c.Response)
	}
	for _, s := range stored {
		for _, tk := range []string{tok, failing, rejected} {
			if bytes.Contains(s, []byte(sig(tk))) {
				t.Fatalf("a stored row holds a flow token:\n%s", s)
			}
		}
	}
	if !bytes.Contains(c.Response, []byte(flowtoken.Redact(tok))) {
		t.Fatalf("the completion does not hold the redacted token: %s", c.Response)
	}
	return tok
}

// The redacted forms storetest's legacy rows expect after migration 005 are
// flowtoken.Redact's.
func TestLegacyFixturesAreRedactsForm(t *testing.T) {
	iss, _ := flowtoken.NewIssuer([]byte(storetest.LegacyTokenSecret))
	for tok, red := range map[string]string{
		storetest.LegacyToken:        storetest.LegacyTokenRedacted,
		storetest.LegacyPendingToken: storetest.LegacyPendingTokenRedacted,
		storetest.LegacyObjectToken:  storetest.LegacyObjectTokenRedacted,
	} {
		if got := flowtoken.Redact(tok); got != red {
			t.Errorf("Redact(%s) = %s, storetest expects %s", tok, got, red)
		}
		if _, err := iss.Parse(tok); err != nil {
			t.Errorf("legacy token %s: %v", tok, err)
		}
	}
}

// A completion stored in clear by an older waflow and still pending is
// processed after migration 005 redacted it: nothing stored is lost.
func TestMigratedCompletionProcessedSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waflow.db")
	open := func() waflow.Store {
		db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	migratedCompletionProcessed(t, open, func(s waflow.Store) {
		s.Close()
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Exec("DELETE FROM schema_migrations WHERE version = 5"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMigratedCompletionProcessedPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "waflow_redact_" + hex.EncodeToString(b[:])
	open := func() waflow.Store {
		store, err := storage.Open(ctx, url, storage.Options{PostgresSchema: schema, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return store
	}
	t.Cleanup(func() {
		s, err := storage.Open(ctx, url, storage.Options{PostgresSchema: schema, Logger: quiet})
		if err != nil {
			t.Errorf("dropping the test schema: %v", err)
			return
		}
		defer s.Close()
		if _, err := s.(*postgres.DB).Pool().Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping the test schema: %v", err)
		}
	})
	migratedCompletionProcessed(t, open, func(s waflow.Store) {
		if _, err := s.(*postgres.DB).Pool().Exec(ctx, "DELETE FROM schema_migrations WHERE version = 5"); err != nil {
			t.Fatal(err)
		}
		s.Close()
	})
}

// migratedCompletionProcessed writes storetest's legacy rows through a
// store open returns, lets forget mark migration 005 unapplied and close
// it, opens it again (which applies 005) and runs the worker.
func migratedCompletionProcessed(t *testing.T, open func() waflow.Store, forget func(waflow.Store)) {
	s := open()
	storetest.WriteLegacyTokenRows(t, s)
	forget(s)
	s = open()
	iss, _ := flowtoken.NewIssuer([]byte(storetest.LegacyTokenSecret))
	w, err := webhook.NewWorker(webhook.WorkerConfig{Store: s, Tokens: iss, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	w.Handle("book_table", func(_ context.Context, c webhook.Completed) error {
		values = c.Values
		return nil
	})
	for {
		n, err := w.ProcessBatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	ev, err := s.InboxEventByKey(ctx, storetest.LegacyPendingEvent)
	if err != nil || ev.State != waflow.InboxDone {
		t.Fatalf("the migrated pending completion: %s %q, %v", ev.State, ev.Result, err)
	}
	if fmt.Sprint(values["guests"]) != "4" || values["note"] != "my token: "+storetest.LegacyPendingTokenRedacted+" <ok>" {
		t.Fatalf("handler values: %v", values)
	}
	c, err := s.CompletionByToken(ctx, storetest.LegacyPendingTokenID)
	if err != nil || c.HandledAt.IsZero() || bytes.Contains(c.Response, []byte(sig(storetest.LegacyPendingToken))) {
		t.Fatalf("completion: %+v, %v", c, err)
	}
}
