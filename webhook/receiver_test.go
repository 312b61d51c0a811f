package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/webhook"
)

func newReceiver(t *testing.T, inbox waflow.InboxStore, secrets ...[]byte) *webhook.Receiver {
	t.Helper()
	if len(secrets) == 0 {
		secrets = [][]byte{appSecret}
	}
	r, err := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: mustVerifier(t, secrets...), VerifyToken: verifyToken, Inbox: inbox, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewReceiverFailsClosed(t *testing.T) {
	t.Parallel()
	store := openStore(t, nil)
	v := mustVerifier(t, appSecret)
	for name, cfg := range map[string]webhook.ReceiverConfig{
		"no verifier":     {VerifyToken: verifyToken, Inbox: store},
		"no verify token": {Verifier: v, Inbox: store},
		"no inbox":        {Verifier: v, VerifyToken: verifyToken},
	} {
		if _, err := webhook.NewReceiver(cfg); err == nil {
			t.Errorf("%s: NewReceiver succeeded", name)
		}
	}
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, openStore(t, nil))
	for _, tc := range []struct {
		name  string
		query url.Values
		code  int
		body  string
	}{
		{"good", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1158201444"}}, 200, "1158201444"},
		{"wrong token", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"guess"}, "hub.challenge": {"1"}}, 403, ""},
		{"token prefix", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken[:4]}, "hub.challenge": {"1"}}, 403, ""},
		{"no token", url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1"}}, 403, ""},
		{"wrong mode", url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1"}}, 403, ""},
		{"no challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}}, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest("GET", "/webhook?"+tc.query.Encode(), nil))
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.code, rec.Body)
			}
			if tc.code == 200 && rec.Body.String() != tc.body {
				t.Fatalf("body %q, want the raw challenge %q", rec.Body, tc.body)
			}
			if tc.code != 200 && strings.Contains(rec.Body.String(), verifyToken) {
				t.Fatal("the refusal shows the verify token")
			}
		})
	}
}

// The real webhook and signature WhatsApp sent are accepted and stored.
func TestReceiverRealVector(t *testing.T) {
	t.Parallel()
	body := vectors.Read(t, "webhook_body.json")
	secret := bytes.TrimSpace(vectors.Read(t, "webhook_app_secret.txt"))
	sig := strings.TrimSpace(string(vectors.Read(t, "webhook_signature.txt")))
	store := openStore(t, nil)
	r := newReceiver(t, store, []byte("the-new-secret"), secret) // rotation: the old one still works
	if rec := post(r, body, sig); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if evs := allEvents(t, store); len(evs) != 1 || evs[0].Kind != waflow.EventMessage {
		t.Fatalf("stored: %+v", evs)
	}
	// A single changed byte breaks the signature.
	tampered := bytes.Replace(body, []byte("Hey there"), []byte("Hey therE"), 1)
	if rec := post(r, tampered, sig); rec.Code != 401 {
		t.Fatalf("tampered body: status %d", rec.Code)
	}
}

// Every refused POST gets its status and a message that says what was
// wrong, and stores nothing.
func TestReceiverRefuses(t *testing.T) {
	t.Parallel()
	good := notification(messagesChange(nfmReply("wamid.1", "wamid.sent", `{"flow_token":"x"}`, time.Unix(1730231903, 0))))
	other := notification(messagesChange(nfmReply("wamid.2", "wamid.sent", `{"flow_token":"y"}`, time.Unix(1730231903, 0))))
	big := append([]byte(`{"entry":[],"pad":"`), bytes.Repeat([]byte("x"), webhook.MaxBodyBytes)...)
	big = append(big, `"}`...)
	wrongShape := []byte(`{"object":"whatsapp_business_account","entry":{"id":"1"}}`)
	for _, tc := range []struct {
		name     string
		body     []byte
		sig      string
		chunked  bool // no Content-Length: the limit must hold while reading
		code     int
		sentence string
	}{
		{"unsigned", good, "", false, 401, "missing X-Hub-Signature-256"},
		{"malformed signature", good, "sha1=abc", false, 401, "malformed"},
		{"wrong secret", good, signature.Sign([]byte("another-app"), good), false, 401, "does not match"},
		{"signature over another body", good, signed(other), false, 401, "does not match"},
		{"oversize", big, signed(big), false, 413, "larger than"},
		{"oversize, chunked", big, signed(big), true, 413, "larger than"},
		{"not JSON", []byte("hello"), signed([]byte("hello")), false, 400, "not JSON"},
		{"wrong shape", wrongShape, signed(wrongShape), false, 400, "not a WhatsApp webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := openStore(t, nil)
			r := newReceiver(t, store)
			req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(tc.body))
			if tc.chunked {
				req.ContentLength = -1
			}
			if tc.sig != "" {
				req.Header.Set(signature.Header, tc.sig)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.sentence) {
				t.Fatalf("status %d %q, want %d and a message with %q", rec.Code, rec.Body, tc.code, tc.sentence)
			}
			if evs := allEvents(t, store); len(evs) != 0 {
				t.Fatalf("a refused POST stored %d events", len(evs))
			}
			// The receiver keeps serving.
			if rec := post(r, good, signed(good)); rec.Code != 200 {
				t.Fatalf("the next good POST: status %d", rec.Code)
			}
		})
	}
}

// Duplicates are stored once and answered 200 every time.
func TestReceiverDuplicates(t *testing.T) {
	t.Parallel()
	store := openStore(t, nil)
	r := newReceiver(t, store)
	at := time.Unix(1730231903, 0)
	a := notification(messagesChange(nfmReply("wamid.A", "", `{}`, at), nfmReply("wamid.A", "", `{}`, at)))
	b := notification(messagesChange(nfmReply("wamid.A", "", `{}`, at), nfmReply("wamid.B", "", `{}`, at)))
	for i, body := range [][]byte{a, a, b, b} {
		if rec := post(r, body, signed(body)); rec.Code != 200 {
			t.Fatalf("POST %d: status %d", i, rec.Code)
		}
	}
	if evs := allEvents(t, store); len(evs) != 2 {
		t.Fatalf("%d events stored, want 2 (wamid.A and wamid.B)", len(evs))
	}
}

type failingInbox struct{ waflow.InboxStore }

func (failingInbox) AddEvents(context.Context, []waflow.InboxEvent) (int, error) {
	return 0, errors.New("disk full")
}

// When the inbox cannot store, the answer is 500 so that WhatsApp retries.
func TestReceiverStoreFailure(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, failingInbox{})
	body := notification(messagesChange(nfmReply("wamid.A", "", `{}`, time.Unix(1730231903, 0))))
	rec := post(r, body, signed(body))
	if rec.Code != 500 {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "disk full") {
		t.Fatal("the answer shows the internal error")
	}
}

func TestReceiverMethods(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, openStore(t, nil))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/webhook", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, POST" {
		t.Fatalf("PUT: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

// Each refusal is logged in one line (httperr.Write): the status and why,
// never the verify token given, the query or the body.
func TestReceiverLogsRefusals(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	r, err := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: mustVerifier(t, appSecret), VerifyToken: verifyToken, Inbox: openStore(t, nil),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/webhook?hub.mode=subscribe&hub.verify_token=GUESSED-TOKEN&hub.challenge=1", nil))
	body := []byte(`{"entry":[{"changes":[{"value":{"messages":[{"text":"SUBMITTED-VALUE"}]}}]}]}`)
	post(r, body, signature.Sign([]byte("another-app"), body))
	l := logs.String()
	for _, want := range []string{"status=403", "hub.verify_token", "status=401", "bad signature", "path=/webhook"} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, "GUESSED-TOKEN") || strings.Contains(l, "SUBMITTED-VALUE") {
		t.Errorf("the log shows a token or a submitted value:\n%s", l)
	}
}
