package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
	"github.com/waflow/waflow/stdwebhooks"
)

var ctx = context.Background()

var quiet = slog.New(slog.DiscardHandler)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, sqlitetest.Path(t), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// received is what a test receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver records requests and answers status() to each.
type receiver struct {
	mu     sync.Mutex
	got    []received
	status func() int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, received{req.Header.Clone(), b})
	r.mu.Unlock()
	st := http.StatusNoContent
	if r.status != nil {
		st = r.status()
	}
	w.WriteHeader(st)
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func newSender(t *testing.T, store events.SendStore, cfg events.SenderConfig) *events.Sender {
	t.Helper()
	cfg.Store = store
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	s, err := events.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func drain(t *testing.T, s *events.Sender) {
	t.Helper()
	for range 100 {
		n, err := s.SendDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("deliveries still due after 100 rounds")
}

// An emitted event reaches each subscription that wants its type, once,
// signed with that subscription's secret under the event's id, in the
// Standard Webhooks layout; an event emitted twice is sent once.
func TestEmitDeliversSignedOnce(t *testing.T) {
	db := openStore(t)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	for _, s := range []waflow.Subscription{
		{ID: "crm", URL: srv.URL + "/crm", Secret: secret, Types: []string{events.FlowCompleted}},
		{ID: "ops", URL: srv.URL + "/ops", Secret: stdwebhooks.NewSecret(), Types: []string{events.MessageFailed}},
	} {
		if _, err := db.PutSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	d, err := events.NewDispatcher(db, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	id := events.ID(events.FlowCompleted, "wamid.1")
	if id != events.ID(events.FlowCompleted, "wamid.1") || id == events.ID(events.FlowCompleted, "wamid.2") || !strings.HasPrefix(id, "msg_") {
		t.Fatalf("ID is not stable and distinct: %s", id)
	}
	e := events.Event{ID: id, Type: events.FlowCompleted, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Data: map[string]any{"flow": "survey", "response": map[string]any{"rating": "5"}}}
	for range 2 {
		if err := d.Emit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, newSender(t, db, events.SenderConfig{}))
	got := rcv.all()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	v, _ := stdwebhooks.NewVerifier(secret)
	if err := v.Verify(got[0].header, got[0].body); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if got[0].header.Get("webhook-id") != id {
		t.Fatalf("webhook-id = %q, want %q", got[0].header.Get("webhook-id"), id)
	}
	var p events.Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != id || p.Type != events.FlowCompleted || !p.Timestamp.Equal(e.Time) || string(p.Data) != `{"flow":"survey","response":{"rating":"5"}}` {
		t.Fatalf("payload = %+v %s", p, p.Data)
	}
	other, _ := stdwebhooks.NewVerifier(stdwebhooks.NewSecret())
	if other.Verify(got[0].header, got[0].body) == nil {
		t.Fatal("a signature verified with another secret")
	}
	for _, bad := range []events.Event{{ID: "x", Type: "a"}, {ID: id}} {
		if err := d.Emit(ctx, bad); !errors.Is(err, waflow.ErrInvalid) {
			t.Fatalf("Emit(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

// A failing receiver gets the schedule's retries, each attempt recorded
// with its status, with the same webhook-id; after the last the delivery
// is dead, and redelivering sends it again.
func TestRetriesThenDeadThenRedeliver(t *testing.T) {
	db := openStore(t)
	status := http.StatusInternalServerError
	var mu sync.Mutex
	rcv := &receiver{status: func() int { mu.Lock(); defer mu.Unlock(); return status }}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	if _, err := db.PutSubscription(ctx, waflow.Subscription{ID: "crm", URL: srv.URL, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	d, _ := events.NewDispatcher(db, nil, quiet)
	id := events.ID("t")
	if err := d.Emit(ctx, events.Event{ID: id, Type: events.BookingCreated, Data: map[string]string{"ref": "BK-1"}}); err != nil {
		t.Fatal(err)
	}
	s := newSender(t, db, events.SenderConfig{Schedule: []time.Duration{0, 0}})
	drain(t, s)
	ds, _ := db.Deliveries(ctx, waflow.DeliveryFilter{})
	if len(ds) != 1 || ds[0].State != waflow.DeliveryDead || ds[0].Attempts != 3 || !strings.Contains(ds[0].LastError, "HTTP 500") {
		t.Fatalf("deliveries = %+v", ds)
	}
	as, _ := db.DeliveryAttempts(ctx, ds[0].ID)
	if len(as) != 3 || as[0].Status != 500 || as[2].Status != 500 || as[0].Error != "HTTP 500" {
		t.Fatalf("attempts = %+v", as)
	}
	for _, g := range rcv.all() {
		if g.header.Get("webhook-id") != id {
			t.Fatalf("attempt with webhook-id %q, want %q", g.header.Get("webhook-id"), id)
		}
	}
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	if err := db.Redeliver(ctx, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	if got, _ := db.Delivery(ctx, ds[0].ID); got.State != waflow.DeliveryDelivered {
		t.Fatalf("after redelivery: %+v", got)
	}
	if n := len(rcv.all()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

// A delivery whose subscription was deleted dies at its next attempt,
// saying why, without a request.
func TestDeletedSubscriptionDies(t *testing.T) {
	db := openStore(t)
	if _, err := db.PutSubscription(ctx, waflow.Subscription{ID: "crm", URL: "http://127.0.0.1:1/", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	d, _ := events.NewDispatcher(db, nil, quiet)
	if err := d.Emit(ctx, events.Event{ID: events.ID("x"), Type: events.FlowCompleted, Data: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSubscription(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	drain(t, newSender(t, db, events.SenderConfig{}))
	ds, _ := db.Deliveries(ctx, waflow.DeliveryFilter{State: waflow.DeliveryDead})
	if len(ds) != 1 || !strings.Contains(ds[0].LastError, "deleted") || ds[0].Attempts != 1 {
		t.Fatalf("deliveries = %+v", ds)
	}
}

func webhookBody(waID, text string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{` +
		`"contacts":[{"wa_id":"` + waID + `"}],"messages":[{"from":"` + waID + `","id":"wamid.` + text + `","type":"text","text":{"body":"` + text + `"}}]}}]}]}`)
}

// A relayed webhook is POSTed byte for byte with a fresh
// X-Hub-Signature-256 under the app secret; WhatsApp's retry of the same
// bytes is relayed once; a user's webhooks arrive in order.
func TestRelay(t *testing.T) {
	db := openStore(t)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	r, err := events.NewRelay(events.RelayConfig{Logger: quiet, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{webhookBody("111", "a"), webhookBody("111", "b"), webhookBody("222", "c"), webhookBody("111", "d")}
	for _, b := range append(bodies, bodies[0]) {
		if err := r.Keep(ctx, b, []waflow.InboxEvent{{Kind: waflow.EventMessage}}); err != nil {
			t.Fatal(err)
		}
	}
	appSecret := []byte("app-secret")
	s := newSender(t, db, events.SenderConfig{RelayURL: srv.URL + "/meta", RelaySecret: appSecret, Concurrency: 8})
	drain(t, s)
	got := rcv.all()
	if len(got) != len(bodies) {
		t.Fatalf("%d requests, want %d", len(got), len(bodies))
	}
	var user111 []string
	for _, g := range got {
		if err := signature.Verify(g.body, g.header.Get(signature.Header), appSecret); err != nil {
			t.Fatalf("relayed signature: %v", err)
		}
		if events.UserOf(g.body) == "111" {
			user111 = append(user111, string(g.body))
		}
	}
	if len(user111) != 3 || user111[0] != string(bodies[0]) || user111[1] != string(bodies[1]) || user111[2] != string(bodies[3]) {
		t.Fatalf("user 111's webhooks out of order or changed: %q", user111)
	}
	if _, err := events.NewSender(events.SenderConfig{Store: db, RelayURL: srv.URL}); !errors.Is(err, signature.ErrNoSecret) {
		t.Fatalf("NewSender(relay URL, no secret) = %v, want ErrNoSecret", err)
	}
}

// With SkipFlowEvents, a webhook of only flow events is not relayed; one
// with any other event is.
func TestRelaySkipFlowEvents(t *testing.T) {
	db := openStore(t)
	r, _ := events.NewRelay(events.RelayConfig{Logger: quiet, Store: db, SkipFlowEvents: true})
	if err := r.Keep(ctx, []byte(`{"a":1}`), []waflow.InboxEvent{{Kind: waflow.EventCompletion}, {Kind: waflow.EventFlows}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Keep(ctx, []byte(`{"a":2}`), []waflow.InboxEvent{{Kind: waflow.EventCompletion}, {Kind: waflow.EventStatus}}); err != nil {
		t.Fatal(err)
	}
	ds, _ := db.Deliveries(ctx, waflow.DeliveryFilter{})
	if len(ds) != 1 || !bytes.Equal(ds[0].Payload, []byte(`{"a":2}`)) || ds[0].Target != waflow.RelayTarget {
		t.Fatalf("deliveries = %+v", ds)
	}
}

func TestUserOf(t *testing.T) {
	for body, want := range map[string]string{
		string(webhookBody("123", "x")):                                           "123",
		`{"entry":[{"changes":[{"value":{"statuses":[{"recipient_id":"9"}]}}]}]}`: "9",
		`{"entry":[{"changes":[{"value":{"event":"FLOW_STATUS_CHANGE"}}]}]}`:      "",
		// A user with a username arrives by BSUID alone (protocol.md 4.2);
		// the BSUID, always sent, is the key even beside a phone number, so
		// that a message and the status of a send by BSUID share one key.
		`{"entry":[{"changes":[{"value":{"contacts":[{"user_id":"US.1234"}],"messages":[{"from_user_id":"US.1234"}]}}]}]}`:             "US.1234",
		`{"entry":[{"changes":[{"value":{"contacts":[{"wa_id":"15551234","user_id":"US.1234"}],"messages":[{"from":"15551234"}]}}]}]}`: "US.1234",
		`{"entry":[{"changes":[{"value":{"statuses":[{"recipient_user_id":"US.1234"}]}}]}]}`:                                           "US.1234",
		`not json`: "",
	} {
		if got := events.UserOf([]byte(body)); got != want {
			t.Errorf("UserOf(%s) = %q, want %q", body, got, want)
		}
	}
}

func FuzzUserOf(f *testing.F) {
	f.Add(webhookBody("123", "x"))
	f.Add([]byte(`{"entry":[{"changes":[{"value":{"statuses":[{"recipient_id":"9"}]}}]}]}`))
	f.Add([]byte(`{"entry":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u := events.UserOf(body)
		// A user comes only from a JSON webhook body, never from garbage.
		if u != "" && !json.Valid(body) {
			t.Fatalf("UserOf(%q) = %q from a body that is not JSON", body, u)
		}
	})
}

// BenchmarkEmitAndSend: one event emitted to one subscription and
// delivered to a local receiver, per iteration (SQLite, FULL sync).
func BenchmarkEmitAndSend(b *testing.B) {
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	db.PutSubscription(ctx, waflow.Subscription{ID: "crm", URL: srv.URL, Secret: secret})
	d, _ := events.NewDispatcher(db, nil, quiet)
	s, _ := events.NewSender(events.SenderConfig{Store: db, Logger: quiet, Concurrency: 16})
	data := map[string]any{"flow": "feedback_survey", "response": map[string]any{"rating": "5", "comments": "fine"}}
	b.ResetTimer()
	for i := range b.N {
		if err := d.Emit(ctx, events.Event{ID: events.ID("bench", strconv.Itoa(i)), Type: events.FlowCompleted, Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	for {
		n, err := s.SendDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	b.StopTimer()
	if dl, _ := db.Deliveries(ctx, waflow.DeliveryFilter{State: waflow.DeliveryDelivered, Limit: b.N + 1}); len(dl) != b.N {
		b.Fatalf("%d delivered, want %d", len(dl), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// A delivered delivery is deleted Retention after its delivery, so that
// the queue (every relayed webhook) does not grow for ever; it is kept
// until then for "waflow events list".
func TestSenderPrunesDelivered(t *testing.T) {
	db := openStore(t)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	if _, err := db.PutSubscription(ctx, waflow.Subscription{ID: "crm", URL: srv.URL, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	d, err := events.NewDispatcher(db, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Emit(ctx, events.Event{ID: events.ID("t", "1"), Type: events.FlowCompleted, Data: 1}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := newSender(t, db, events.SenderConfig{Retention: 48 * time.Hour, Now: func() time.Time { return now }})
	drain(t, s)
	if len(rcv.all()) != 1 {
		t.Fatalf("%d requests, want 1", len(rcv.all()))
	}
	now = now.Add(47 * time.Hour)
	if n, err := s.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("Prune before the retention ran out = %d, %v; want 0", n, err)
	}
	if ds, _ := db.Deliveries(ctx, waflow.DeliveryFilter{}); len(ds) != 1 || ds[0].State != waflow.DeliveryDelivered {
		t.Fatalf("deliveries before the retention ran out: %+v", ds)
	}
	now = now.Add(2 * time.Hour)
	if n, err := s.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("Prune after the retention = %d, %v; want 1", n, err)
	}
	if ds, _ := db.Deliveries(ctx, waflow.DeliveryFilter{}); len(ds) != 0 {
		t.Fatalf("deliveries after the retention: %+v", ds)
	}
}
