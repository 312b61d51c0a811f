package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
	"github.com/waflow/waflow/storetest"
)

var (
	ctx         = context.Background()
	appSecret   = []byte("test-app-secret")
	tokenSecret = []byte("0123456789abcdef0123456789abcdef")
)

const (
	businessNumber = "15550001111"
	userWAID       = "15551234567"
	verifyToken    = "verify-me"
)

// openStore opens a database of the test's own: the receiver and worker
// tests run in parallel, as they mostly wait for SQLite's commits.
func openStore(t testing.TB, now func() time.Time) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, sqlitetest.Path(t), sqlite.Options{Now: now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustVerifier(t testing.TB, secrets ...[]byte) *signature.Verifier {
	t.Helper()
	v, err := signature.New(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// notification wraps changes in the envelope WhatsApp sends.
func notification(changes ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      "102290129340398",
			"time":    1730231903,
			"changes": changes,
		}},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func messagesChange(messages ...map[string]any) map[string]any {
	return map[string]any{"field": "messages", "value": map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]any{"display_phone_number": businessNumber, "phone_number_id": "106540352242922"},
		"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Kerry"}, "wa_id": userWAID}},
		"messages":          messages,
	}}
}

// nfmReply is a completion message as protocol.md 4.2 shows it: response_json
// is a string holding JSON.
func nfmReply(wamid, contextID, responseJSON string, at time.Time) map[string]any {
	m := map[string]any{
		"from":      userWAID,
		"id":        wamid,
		"timestamp": fmt.Sprint(at.Unix()),
		"type":      "interactive",
		"interactive": map[string]any{
			"type":      "nfm_reply",
			"nfm_reply": map[string]any{"name": "flow", "body": "Sent", "response_json": responseJSON},
		},
	}
	if contextID != "" {
		m["context"] = map[string]any{"from": businessNumber, "id": contextID}
	}
	return m
}

func responseJSON(token string, values map[string]any) string {
	v := map[string]any{}
	for k, x := range values {
		v[k] = x
	}
	if token != "" {
		v["flow_token"] = token
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func flowsChange(value map[string]any) map[string]any {
	return map[string]any{"field": "flows", "value": value}
}

func post(h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(signature.Header, sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func signed(body []byte) string { return signature.Sign(appSecret, body) }

func allEvents(t testing.TB, s waflow.Store) []waflow.InboxEvent {
	t.Helper()
	evs, err := s.InboxEvents(ctx, waflow.InboxFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func newIssuer(t testing.TB, now func() time.Time) *flowtoken.Issuer {
	t.Helper()
	iss, err := flowtoken.NewIssuer(tokenSecret)
	if err != nil {
		t.Fatal(err)
	}
	iss.Now = now
	return iss
}

// issue issues a token for flow and records it, as sending a flow message
// does.
func issue(t testing.TB, iss *flowtoken.Issuer, s waflow.Store, flow, wamid string) (string, flowtoken.Claims) {
	t.Helper()
	tok, c, err := iss.Issue(flow, userWAID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, waflow.FlowToken{ID: c.ID, Flow: c.Flow, WAID: c.WAID, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	if wamid != "" {
		if err := s.SetTokenMessage(ctx, c.ID, wamid); err != nil {
			t.Fatal(err)
		}
	}
	return tok, c
}

var _ = storetest.Epoch

// quiet is the logger of tests that do not look at logs.
var quiet = slog.New(slog.DiscardHandler)
