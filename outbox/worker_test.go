package outbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/outbox"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/storetest"
)

var quiet = slog.New(slog.DiscardHandler)

// env is a SQLite store on a file (so it can be reopened, as after a
// restart), a clock shared by the store and the worker, and a fake Graph API.
// Each test has its own, so the tests run in parallel: they mostly wait for
// SQLite's commits.
type env struct {
	t     *testing.T
	path  string
	clock *storetest.Clock
	store *sqlite.DB
	graph *fakeGraph
}

func newEnv(t *testing.T, replies ...reply) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "waflow.db"), clock: storetest.NewClock(storetest.Epoch), graph: newFakeGraph(t, replies...)}
	e.open()
	t.Cleanup(func() { e.store.Close() })
	return e
}

// open opens (or reopens) the store, as a restarted process would.
func (e *env) open() {
	e.t.Helper()
	s, err := sqlite.Open(context.Background(), e.path, sqlite.Options{Now: e.clock.Now, Logger: quiet})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = s
}

// restart closes the store and opens it again.
func (e *env) restart() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) worker(mod ...func(*outbox.Config)) *outbox.Worker {
	e.t.Helper()
	cfg := outbox.Config{
		Store: e.store, Sender: e.graph.client(e.t, 200*time.Millisecond), PhoneNumberID: testPhoneID,
		Lease: time.Minute, SendTimeout: 10 * time.Second, Now: e.clock.Now, Logger: quiet,
	}
	for _, m := range mod {
		m(&cfg)
	}
	w, err := outbox.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

// enqueue stores a text message to "to" with a flow token, and returns it.
func (e *env) enqueue(key, to string) waflow.OutboxMessage {
	e.t.Helper()
	ctx := context.Background()
	tok := waflow.FlowToken{ID: "tok-" + key, Flow: "appointment_booking", WAID: to, ExpiresAt: e.clock.Now().Add(time.Hour)}
	if err := e.store.CreateToken(ctx, tok); err != nil {
		e.t.Fatal(err)
	}
	body, err := graph.EncodeMessage(&graph.TextMessage{To: to, Body: "Booked for Tuesday 10:00. Reference BK-" + key})
	if err != nil {
		e.t.Fatal(err)
	}
	m, created, err := e.store.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: key, To: to, TokenID: tok.ID, Payload: body})
	if err != nil || !created {
		e.t.Fatalf("Enqueue: %v, created %v", err, created)
	}
	return m
}

func (e *env) message(id int64) waflow.OutboxMessage {
	e.t.Helper()
	m, err := e.store.OutboxMessage(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func sendDue(t *testing.T, w *outbox.Worker) outbox.Stats {
	t.Helper()
	s, err := w.SendDue(context.Background())
	if err != nil {
		t.Fatalf("SendDue: %v", err)
	}
	return s
}

func wantStats(t *testing.T, got, want outbox.Stats) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("SendDue stats (-want +got):\n%s", diff)
	}
}

// checkSent checks that request r is the message's send as protocol.md 5.1
// has it: POST /{version}/{PHONE_NUMBER_ID}/messages with the bearer token
// and exactly the stored body.
func checkSent(t *testing.T, r sent, m waflow.OutboxMessage) {
	t.Helper()
	want := sent{Method: "POST", Path: "/" + testVersion + "/" + testPhoneID + "/messages", Auth: "Bearer " + testToken, ContentType: "application/json", Body: m.Payload}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("request for outbox message %d (-want +got):\n%s", m.ID, diff)
	}
	var body struct {
		MessagingProduct string `json:"messaging_product"`
		RecipientType    string `json:"recipient_type"`
		To, Type         string
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.MessagingProduct != "whatsapp" || body.RecipientType != "individual" || body.To != m.To || body.Type != "text" {
		t.Errorf("body %s is not a WhatsApp text message to %s (%v)", r.Body, m.To, err)
	}
}

func TestSendRecordsWAMIDOnMessageAndToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.enqueue("confirm:wamid.c1", "15550001111")
	w := e.worker()

	wantStats(t, sendDue(t, w), outbox.Stats{Sent: 1})
	reqs := e.graph.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	checkSent(t, reqs[0], m)

	got := e.message(m.ID)
	if got.State != waflow.OutboxSent || got.WAMID != "wamid.1" || !got.SentAt.Equal(e.clock.Now()) || got.Attempts != 1 {
		t.Errorf("after sending: state %s wamid %q sent_at %v attempts %d; want sent, wamid.1, now, 1", got.State, got.WAMID, got.SentAt, got.Attempts)
	}
	// A completion without flow_token is correlated by context.id.
	tok, err := e.store.TokenByMessage(context.Background(), "wamid.1")
	if err != nil || tok.ID != m.TokenID {
		t.Errorf("TokenByMessage(wamid.1) = %q, %v; want token %q", tok.ID, err, m.TokenID)
	}

	// Nothing is due any more, now or later.
	e.clock.Advance(24 * time.Hour)
	wantStats(t, sendDue(t, w), outbox.Stats{})
	if n := len(e.graph.requests()); n != 1 {
		t.Errorf("%d requests after a second SendDue, want still 1", n)
	}
}

func TestRunSendsEachMessageOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 25
	var msgs []waflow.OutboxMessage
	for i := range n {
		msgs = append(msgs, e.enqueue(fmt.Sprintf("k%02d", i), fmt.Sprintf("1555000%04d", i)))
	}
	var mu sync.Mutex
	done := make(chan struct{})
	sentCount := 0
	w := e.worker(func(c *outbox.Config) {
		c.Concurrency = 4
		c.PollInterval = time.Hour // only Notify wakes it
		c.OnResult = func(r outbox.Result) {
			mu.Lock()
			defer mu.Unlock()
			if r.Outcome == outbox.Sent {
				if sentCount++; sentCount == n {
					close(done)
				}
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.Run(ctx); close(stopped) }()
	w.Notify()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("only %d of %d messages sent", sentCount, n)
	}
	cancel()
	<-stopped

	bodies := map[string]int{}
	for _, r := range e.graph.requests() {
		bodies[string(r.Body)]++
	}
	for _, m := range msgs {
		if c := bodies[string(m.Payload)]; c != 1 {
			t.Errorf("message %s sent %d times, want 1", m.IdempotencyKey, c)
		}
		if got := e.message(m.ID); got.State != waflow.OutboxSent {
			t.Errorf("message %s is %s, want sent", m.IdempotencyKey, got.State)
		}
	}
}

// A restart after a message was sent sends nothing again.
func TestRestartAfterSendSendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.enqueue("k1", "15550001111")
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{Sent: 1})

	e.restart()
	e.clock.Advance(time.Hour) // every lease long expired
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{})
	if n := len(e.graph.requests()); n != 1 {
		t.Fatalf("%d requests across the restart, want 1", n)
	}
	if got := e.message(m.ID); got.State != waflow.OutboxSent {
		t.Fatalf("state %s, want sent", got.State)
	}
}

// crashingStore loses every settlement, as a process killed right after
// Meta answered would.
type crashingStore struct{ waflow.OutboxStore }

var errDied = errors.New("the process died")

func (crashingStore) MarkSent(context.Context, int64, string, string, time.Time) error {
	return errDied
}
func (crashingStore) RetryOutbox(context.Context, int64, string, string, time.Time) error {
	return errDied
}
func (crashingStore) FailOutbox(context.Context, int64, string, string) error  { return errDied }
func (crashingStore) MarkUnknown(context.Context, int64, string, string) error { return errDied }

// The process dies after Meta accepted the message and before the wamid was
// recorded. After the restart the message is settled as uncertain, not sent
// a second time.
func TestRestartAfterUnrecordedSendDoesNotResend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.enqueue("k1", "15550001111")
	w := e.worker(func(c *outbox.Config) { c.Store = crashingStore{e.store} })
	wantStats(t, sendDue(t, w), outbox.Stats{Unsettled: 1})

	e.restart()
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{}) // leased still: nothing due
	e.clock.Advance(2 * time.Minute)                     // the lease has expired
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{Uncertain: 1})
	if n := len(e.graph.requests()); n != 1 {
		t.Fatalf("%d requests across the restart, want exactly 1", n)
	}
	got := e.message(m.ID)
	if got.State != waflow.OutboxUnknown || !strings.Contains(got.LastError, "attempt 1 was interrupted") {
		t.Fatalf("state %s, last error %q; want unknown, naming attempt 1", got.State, got.LastError)
	}
	e.clock.Advance(24 * time.Hour)
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{})
	if n := len(e.graph.requests()); n != 1 {
		t.Fatalf("%d requests, want still 1", n)
	}
}

// cancelAfterClaim stops the worker between its claim and its send.
type cancelAfterClaim struct {
	waflow.OutboxStore
	cancel context.CancelFunc
}

func (s cancelAfterClaim) ClaimOutbox(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.OutboxMessage, error) {
	ms, err := s.OutboxStore.ClaimOutbox(ctx, owner, max, lease)
	s.cancel()
	return ms, err
}

// Stopping between the claim and the send gives the message back unsent; the
// next worker sends it, once.
func TestStopBeforeSendReleasesTheMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.enqueue("k1", "15550001111")
	ctx, cancel := context.WithCancel(context.Background())
	w := e.worker(func(c *outbox.Config) { c.Store = cancelAfterClaim{e.store, cancel} })
	s, err := w.SendDue(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SendDue after cancel: %v, want context.Canceled", err)
	}
	wantStats(t, s, outbox.Stats{Released: 1})
	if n := len(e.graph.requests()); n != 0 {
		t.Fatalf("%d requests, want none", n)
	}
	got := e.message(m.ID)
	if got.State != waflow.OutboxPending || !got.NextAttemptAt.Equal(e.clock.Now()) {
		t.Fatalf("released message: state %s, due %v; want pending, due now", got.State, got.NextAttemptAt)
	}

	e.restart()
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{Sent: 1})
	if got := e.message(m.ID); got.State != waflow.OutboxSent || got.Attempts != 2 {
		t.Fatalf("state %s after %d attempts, want sent after 2", got.State, got.Attempts)
	}
	if n := len(e.graph.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// A 500 or a timeout may mean Meta sent the message: it is not retried.
func TestOutcomeUnknownIsNotResent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		reply reply
		want  string
	}{
		{"500", graphErr(500, 1, "An unknown error occurred"), "An unknown error occurred"},
		{"timeout", reply{hang: true}, "no complete answer within 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.reply)
			m := e.enqueue("k1", "15550001111")
			w := e.worker()
			wantStats(t, sendDue(t, w), outbox.Stats{Uncertain: 1})
			got := e.message(m.ID)
			if got.State != waflow.OutboxUnknown || !strings.Contains(got.LastError, tc.want) || !strings.Contains(got.LastError, "outcome unknown") {
				t.Fatalf("state %s, last error %q; want unknown with %q", got.State, got.LastError, tc.want)
			}
			e.clock.Advance(24 * time.Hour)
			wantStats(t, sendDue(t, w), outbox.Stats{})
			if n := len(e.graph.requests()); n != 1 {
				t.Fatalf("%d requests, want 1: an uncertain send is never repeated", n)
			}
		})
	}
}

// A 429 the client could not ride out comes back after Retry-After.
func TestRateLimitedRetriesAfterRetryAfter(t *testing.T) {
	t.Parallel()
	limited := graphErr(429, 130429, "Rate limit hit")
	limited.header = map[string]string{"Retry-After": "120"} // longer than the client's MaxDelay
	e := newEnv(t, limited)
	m := e.enqueue("k1", "15550001111")
	w := e.worker()
	start := e.clock.Now()

	wantStats(t, sendDue(t, w), outbox.Stats{Retried: 1})
	got := e.message(m.ID)
	if got.State != waflow.OutboxPending || got.NextAttemptAt.Sub(start) < 120*time.Second {
		t.Fatalf("state %s due after %v; want pending for at least Retry-After 120s", got.State, got.NextAttemptAt.Sub(start))
	}
	if !strings.HasPrefix(got.LastError, "attempt 1: ") || !strings.Contains(got.LastError, "code 130429") {
		t.Errorf("last error %q, want attempt 1 with code 130429", got.LastError)
	}
	wantStats(t, sendDue(t, w), outbox.Stats{}) // not due yet
	e.clock.Advance(got.NextAttemptAt.Sub(start))
	wantStats(t, sendDue(t, w), outbox.Stats{Sent: 1})
	if reqs := e.graph.requests(); len(reqs) != 2 {
		t.Fatalf("%d requests, want the refused one and the accepted one", len(reqs))
	}
}

// Backoff doubles between attempts, and after MaxAttempts the message is
// dead with every detail of the last refusal.
func TestTemporaryFailuresBackOffThenGiveUp(t *testing.T) {
	t.Parallel()
	var replies []reply
	for range 9 { // three attempts of the client for each of three outbox attempts
		replies = append(replies, graphErr(429, 80007, "Rate limit issues"))
	}
	e := newEnv(t, replies...)
	m := e.enqueue("k1", "15550001111")
	w := e.worker(func(c *outbox.Config) { c.MaxAttempts = 3; c.BaseDelay = time.Minute; c.MaxDelay = time.Hour })
	var waits []time.Duration
	for attempt := 1; attempt <= 3; attempt++ {
		s := sendDue(t, w)
		got := e.message(m.ID)
		if attempt < 3 {
			wantStats(t, s, outbox.Stats{Retried: 1})
			wait := got.NextAttemptAt.Sub(e.clock.Now())
			waits = append(waits, wait)
			e.clock.Advance(wait)
			continue
		}
		wantStats(t, s, outbox.Stats{Dead: 1})
		if got.State != waflow.OutboxDead || !strings.Contains(got.LastError, "gave up after 3 attempts") || !strings.Contains(got.LastError, "fbtrace_id AbC123trace") {
			t.Fatalf("state %s, last error %q; want dead, giving up after 3 attempts, with the trace id", got.State, got.LastError)
		}
	}
	// Jitter keeps each wait between half and all of 1, then 2 minutes.
	if waits[0] < 30*time.Second || waits[0] > time.Minute || waits[1] < time.Minute || waits[1] > 2*time.Minute {
		t.Errorf("waits %v, want within [30s,1m] then [1m,2m]", waits)
	}
}

// A THROTTLED flow (132069) is refused with a 400 that the client does not
// retry; the outbox tries again after a while, not at once.
func TestThrottledFlowWaits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphErr(400, graph.CodeFlowThrottled, "(#132069) Flow is throttled"))
	m := e.enqueue("k1", "15550001111")
	w := e.worker()
	wantStats(t, sendDue(t, w), outbox.Stats{Retried: 1})
	got := e.message(m.ID)
	if wait := got.NextAttemptAt.Sub(e.clock.Now()); wait < outbox.DefaultThrottledDelay {
		t.Errorf("retry in %v, want at least %v", wait, outbox.DefaultThrottledDelay)
	}
	if !strings.Contains(got.LastError, "THROTTLED") || !strings.Contains(got.LastError, "132069") {
		t.Errorf("last error %q does not say the flow is throttled", got.LastError)
	}
	if n := len(e.graph.requests()); n != 1 {
		t.Errorf("%d requests, want 1: a 400 is not retried by the client", n)
	}
}

// Meta's other refusals are final: dead at once, Meta's words kept.
func TestPermanentRefusalIsDead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphErr(400, 131026, "Message undeliverable"))
	m := e.enqueue("k1", "15550001111")
	w := e.worker()
	wantStats(t, sendDue(t, w), outbox.Stats{Dead: 1})
	got := e.message(m.ID)
	if got.State != waflow.OutboxDead || !strings.Contains(got.LastError, "Message undeliverable") || !strings.Contains(got.LastError, "code 131026") {
		t.Fatalf("state %s, last error %q; want dead with Meta's message and code", got.State, got.LastError)
	}
	e.clock.Advance(24 * time.Hour)
	wantStats(t, sendDue(t, w), outbox.Stats{})
}

// A body that is not a WhatsApp message is refused before sending.
func TestInvalidPayloadIsDeadWithoutRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m, _, err := e.store.Enqueue(context.Background(), waflow.OutboxMessage{IdempotencyKey: "bad", To: "15550001111", Payload: []byte(`{"text":"booked"}`)})
	if err != nil {
		t.Fatal(err)
	}
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{Dead: 1})
	if got := e.message(m.ID); got.State != waflow.OutboxDead || !strings.Contains(got.LastError, "messaging_product") {
		t.Fatalf("state %s, last error %q; want dead saying what the body lacks", got.State, got.LastError)
	}
	if n := len(e.graph.requests()); n != 0 {
		t.Fatalf("%d requests, want none", n)
	}
}

// An expired access token stops all sending for AuthPause; the messages wait,
// whatever their attempts, and go out once the pause is over.
func TestExpiredAccessTokenPausesAndKeepsMessages(t *testing.T) {
	t.Parallel()
	expired := graphErr(401, graph.CodeAccessToken, "Error validating access token: Session has expired on Tuesday")
	e := newEnv(t, expired, expired)
	a := e.enqueue("a", "15550001111")
	b := e.enqueue("b", "15550002222")
	var logs bytes.Buffer
	w := e.worker(func(c *outbox.Config) {
		c.MaxAttempts = 1 // a token outage must not use messages up
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	wantStats(t, sendDue(t, w), outbox.Stats{Retried: 1})
	if n := len(e.graph.requests()); n != 1 {
		t.Fatalf("%d requests, want 1: the worker pauses after the token was refused", n)
	}
	got := e.message(a.ID)
	if got.State != waflow.OutboxPending || !strings.Contains(got.LastError, "access token") {
		t.Fatalf("state %s, last error %q; want pending, saying the access token was refused", got.State, got.LastError)
	}
	if !strings.Contains(logs.String(), "messages wait in the outbox until it is replaced") {
		t.Errorf("log does not say why messages wait:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("log leaks the access token:\n%s", logs.String())
	}

	e.clock.Advance(outbox.DefaultAuthPause - time.Second)
	wantStats(t, sendDue(t, w), outbox.Stats{}) // still paused
	e.clock.Advance(time.Second)
	wantStats(t, sendDue(t, w), outbox.Stats{Retried: 1}) // a is refused again (second scripted 190)
	e.clock.Advance(outbox.DefaultAuthPause)
	wantStats(t, sendDue(t, w), outbox.Stats{Sent: 2})
	for _, m := range []waflow.OutboxMessage{a, b} {
		if got := e.message(m.ID); got.State != waflow.OutboxSent {
			t.Errorf("message %s is %s, want sent", m.IdempotencyKey, got.State)
		}
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		mod  func(*outbox.Config)
		want string
	}{
		{"no store", func(c *outbox.Config) { c.Store = nil }, "Store is required"},
		{"no sender", func(c *outbox.Config) { c.Sender = nil }, "Sender is required"},
		{"no phone number", func(c *outbox.Config) { c.PhoneNumberID = "" }, "PhoneNumberID is required"},
		{"lease shorter than a send", func(c *outbox.Config) { c.Lease = time.Second; c.SendTimeout = time.Minute }, "must be longer than the send timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := outbox.Config{Store: e.store, Sender: e.graph.client(t, time.Second), PhoneNumberID: testPhoneID}
			tc.mod(&cfg)
			if _, err := outbox.New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
