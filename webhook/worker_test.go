package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/storetest"
	"github.com/waflow/waflow/webhook"
)

// bench is a receiver, a worker and a store on one clock, with a handler that
// counts what it is given.
type bench struct {
	t       *testing.T
	clock   *storetest.Clock
	store   waflow.Store
	iss     *flowtoken.Issuer
	recv    *webhook.Receiver
	worker  *webhook.Worker
	logs    *bytes.Buffer
	mu      sync.Mutex
	handled map[string]int // completions handled, by message id
	values  map[string]map[string]any
	fail    atomic.Int32 // the next fail calls of the handler fail
	panics  atomic.Int32
}

func newBench(t *testing.T, cfg webhook.WorkerConfig) *bench {
	t.Helper()
	return newBenchOn(t, cfg, func(now func() time.Time) waflow.Store { return openStore(t, now) })
}

// newBenchOn is newBench on the store open returns.
func newBenchOn(t *testing.T, cfg webhook.WorkerConfig, open func(now func() time.Time) waflow.Store) *bench {
	t.Helper()
	b := &bench{t: t, clock: storetest.NewClock(storetest.Epoch), handled: map[string]int{}, values: map[string]map[string]any{}, logs: &bytes.Buffer{}}
	b.store = open(b.clock.Now)
	b.iss = newIssuer(t, b.clock.Now)
	b.recv = newReceiver(t, b.store)
	cfg.Store, cfg.Tokens, cfg.Now = b.store, b.iss, b.clock.Now
	cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: b.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w, err := webhook.NewWorker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Handle("book_table", b.handle)
	b.worker = w
	return b
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (b *bench) handle(ctx context.Context, c webhook.Completed) error {
	if b.panics.Add(-1) >= 0 {
		panic("handler bug")
	}
	if b.fail.Add(-1) >= 0 {
		return errors.New("booking system unavailable")
	}
	// The effect is idempotent on the completion's message id, as the
	// CompletionHandler documentation asks.
	if _, _, err := b.store.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "confirm:" + c.MessageID, To: c.WAID, Payload: []byte(`{"text":"booked"}`)}); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handled[c.MessageID]++
	b.values[c.MessageID] = c.Values
	return nil
}

func (b *bench) calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.handled {
		n += c
	}
	return n
}

// send posts a signed notification and requires a 200.
func (b *bench) send(body []byte) {
	b.t.Helper()
	if rec := post(b.recv, body, signed(body)); rec.Code != 200 {
		b.t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
}

func (b *bench) complete(wamid, contextID, response string) {
	b.t.Helper()
	b.send(notification(messagesChange(nfmReply(wamid, contextID, response, b.clock.Now()))))
}

// drain processes until nothing is due.
func (b *bench) drain() {
	b.t.Helper()
	for range 100 {
		n, err := b.worker.ProcessBatch(ctx)
		if err != nil {
			b.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	b.t.Fatal("the inbox never drained")
}

func (b *bench) event(key string) waflow.InboxEvent {
	b.t.Helper()
	ev, err := b.store.InboxEventByKey(ctx, key)
	if err != nil {
		b.t.Fatal(err)
	}
	return ev
}

func (b *bench) wantEvent(key string, state waflow.InboxState, result string) waflow.InboxEvent {
	b.t.Helper()
	ev := b.event(key)
	if ev.State != state || !strings.Contains(ev.Result, result) {
		b.t.Fatalf("event %s: %s %q, want %s with %q", key, ev.State, ev.Result, state, result)
	}
	return ev
}

func (b *bench) tokenState(id string) waflow.TokenState {
	b.t.Helper()
	tok, err := b.store.Token(ctx, id)
	if err != nil {
		b.t.Fatal(err)
	}
	return tok.State
}

func TestCompletionActedOnOnce(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{})
	tok, claims := issue(t, b.iss, b.store, "book_table", "wamid.sent")
	resp := responseJSON(tok, map[string]any{"guests": 4, "name": "Zoë"})
	b.complete("wamid.reply", "wamid.sent", resp)
	b.complete("wamid.reply", "wamid.sent", resp) // WhatsApp's duplicate
	b.drain()
	b.complete("wamid.reply", "wamid.sent", resp) // a retry after processing
	b.drain()

	b.wantEvent("msg:wamid.reply", waflow.InboxDone, "recorded and handled")
	if b.handled["wamid.reply"] != 1 {
		t.Fatalf("handler called %d times, want 1", b.handled["wamid.reply"])
	}
	if v := b.values["wamid.reply"]; v["name"] != "Zoë" || fmt.Sprint(v["guests"]) != "4" || v["flow_token"] != nil {
		t.Fatalf("handler values: %v", v)
	}
	if st := b.tokenState(claims.ID); st != waflow.TokenUsed {
		t.Fatalf("token state %q, want used", st)
	}
	c, err := b.store.Completion(ctx, "wamid.reply")
	if err != nil || c.TokenID != claims.ID || c.Flow != "book_table" || c.HandledAt.IsZero() || c.ContextID != "wamid.sent" || c.WAID != userWAID {
		t.Fatalf("completion: %+v, %v", c, err)
	}
	if strings.Contains(b.logs.String(), tok) || strings.Contains(b.logs.String(), "Zoë") {
		t.Fatal("the logs show the flow token or a submitted value")
	}
}

// Bad completions are stored, settled with a clear reason, answered 200,
// and never reach the handler; each is kept as a rejected completion,
// attributed to its flow when the token proves it.
func TestCompletionRejected(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{Validator: func(_ context.Context, flow string, values map[string]any) error {
		if _, ok := values["guests"]; !ok {
			return errors.New(`missing required field "guests"`)
		}
		return nil
	}})
	good := map[string]any{"guests": 2}
	used, usedClaims := issue(t, b.iss, b.store, "book_table", "")
	b.complete("wamid.first", "", responseJSON(used, good))
	b.drain()

	forger, _ := flowtoken.NewIssuer([]byte("not-our-secret-not-our-secret!!"))
	forged, _, _ := forger.Issue("book_table", userWAID)
	unstored, _, _ := b.iss.Issue("book_table", userWAID) // signed here, never stored
	invalidValues, invalidClaims := issue(t, b.iss, b.store, "book_table", "")
	expiredTok, expiredClaims := issue(t, b.iss, b.store, "book_table", "")
	otherUser, _, _ := b.iss.Issue("book_table", "19998887777")
	ouClaims, _ := b.iss.Parse(otherUser)
	b.store.CreateToken(ctx, waflow.FlowToken{ID: ouClaims.ID, Flow: ouClaims.Flow, WAID: ouClaims.WAID, IssuedAt: ouClaims.IssuedAt, ExpiresAt: ouClaims.ExpiresAt})

	const bt = "book_table"
	cases := []struct {
		wamid, contextID, response, result string
		at                                 time.Time
		flow, tokenID                      string // kept with
	}{
		{"wamid.replay", "", responseJSON(used, good), "replayed completion", time.Time{}, bt, usedClaims.ID},
		{"wamid.forged", "", responseJSON(forged, good), "forged flow token", time.Time{}, "", ""},
		{"wamid.unknown", "", responseJSON(unstored, good), "unknown flow token", time.Time{}, bt, ""},
		{"wamid.notjson", "", `{"flow_token": "` + used + `", guests: 2`, "response_json is not a JSON object", time.Time{}, "", ""},
		{"wamid.array", "", `[1,2,3]`, "response_json is not a JSON object", time.Time{}, "", ""},
		{"wamid.notoken", "", responseJSON("", good), "no flow_token and no context.id", time.Time{}, "", ""},
		{"wamid.unknownctx", "wamid.never-sent", responseJSON("", good), "context.id names no flow message", time.Time{}, "", ""},
		{"wamid.unused", "", responseJSON("unused", good), "not a waflow token", time.Time{}, "", ""},
		{"wamid.invalid", "", responseJSON(invalidValues, map[string]any{"name": "x"}), `missing required field "guests"`, time.Time{}, bt, invalidClaims.ID},
		{"wamid.expired", "", responseJSON(expiredTok, good), "expired", storetest.Epoch.Add(flowtoken.DefaultTTL + time.Second), bt, expiredClaims.ID},
		{"wamid.otheruser", "", responseJSON(otherUser, good), "another WhatsApp user", time.Time{}, bt, ouClaims.ID},
	}
	for _, tc := range cases {
		at := tc.at
		if at.IsZero() {
			at = b.clock.Now()
		}
		b.send(notification(messagesChange(nfmReply(tc.wamid, tc.contextID, tc.response, at))))
	}
	b.drain()
	for _, tc := range cases {
		ev := b.wantEvent("msg:"+tc.wamid, waflow.InboxRejected, tc.result)
		c, err := b.store.Completion(ctx, tc.wamid)
		if err != nil || c.Status != waflow.CompletionRejected || c.Result != ev.Result || c.Flow != tc.flow || c.TokenID != tc.tokenID ||
			c.WAID != userWAID || c.InboxEventID != ev.ID || !c.ReceivedAt.Equal(ev.ReceivedAt) || !json.Valid(c.Response) {
			t.Errorf("%s kept as %+v, %v; want rejected, flow %q, token %q", tc.wamid, c, err, tc.flow, tc.tokenID)
		}
		if bytes.Contains(c.Response, []byte(sig(used))) || bytes.Contains(c.Response, []byte(sig(invalidValues))) {
			t.Errorf("%s kept with a flow token in clear", tc.wamid)
		}
	}
	if n := b.calls(); n != 1 {
		t.Fatalf("handler called %d times, want 1 (the first completion only)", n)
	}
	if st := b.tokenState(invalidClaims.ID); st != waflow.TokenIssued {
		t.Fatalf("a completion with invalid values used its token: %q", st)
	}
	cs, _ := b.store.Completions(ctx, waflow.CompletionFilter{})
	if len(cs) != 1+len(cases) {
		t.Fatalf("%d completions stored, want %d", len(cs), 1+len(cases))
	}
	if c, err := b.store.CompletionByToken(ctx, usedClaims.ID); err != nil || c.MessageID != "wamid.first" || c.Status != waflow.CompletionHandled {
		t.Fatalf("the completion that used the token: %+v, %v", c, err)
	}
}

// Without a flow_token (iOS), the completion is correlated through
// context.id, the wamid of the flow message we sent.
func TestCompletionByContextID(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{})
	_, claims := issue(t, b.iss, b.store, "book_table", "wamid.sent-on-ios")
	b.complete("wamid.ios", "wamid.sent-on-ios", responseJSON("", map[string]any{"guests": 3}))
	// WhatsApp's default token "unused" falls back to context.id too.
	_, claims2 := issue(t, b.iss, b.store, "book_table", "wamid.sent-2")
	b.complete("wamid.default-token", "wamid.sent-2", responseJSON("unused", map[string]any{"guests": 1}))
	b.drain()
	b.wantEvent("msg:wamid.ios", waflow.InboxDone, "handled")
	b.wantEvent("msg:wamid.default-token", waflow.InboxDone, "handled")
	if b.tokenState(claims.ID) != waflow.TokenUsed || b.tokenState(claims2.ID) != waflow.TokenUsed || b.calls() != 2 {
		t.Fatalf("tokens %s %s, handler calls %d", b.tokenState(claims.ID), b.tokenState(claims2.ID), b.calls())
	}
}

// A failing handler is retried with backoff until it succeeds; a handler
// that keeps failing is dead-lettered after MaxAttempts.
func TestHandlerRetries(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{MaxAttempts: 4, MinBackoff: time.Second, MaxBackoff: 10 * time.Second})
	tok, _ := issue(t, b.iss, b.store, "book_table", "")
	b.fail.Store(1)
	b.panics.Store(1)
	b.complete("wamid.r", "", responseJSON(tok, map[string]any{"guests": 2}))

	if n, _ := b.worker.ProcessBatch(ctx); n != 1 {
		t.Fatalf("claimed %d", n)
	}
	ev := b.wantEvent("msg:wamid.r", waflow.InboxPending, "")
	if !strings.Contains(ev.LastError, "panic: handler bug") || ev.NextAttemptAt.Before(b.clock.Now().Add(500*time.Millisecond)) {
		t.Fatalf("after a panic: %+v", ev)
	}
	if n, _ := b.worker.ProcessBatch(ctx); n != 0 {
		t.Fatal("the event was retried before its backoff")
	}
	b.clock.Advance(time.Second)
	b.worker.ProcessBatch(ctx)
	ev = b.wantEvent("msg:wamid.r", waflow.InboxPending, "")
	if !strings.Contains(ev.LastError, "booking system unavailable") || ev.Attempts != 2 {
		t.Fatalf("after a failure: %+v", ev)
	}
	// The second delay is between 1 s and 2 s.
	if d := ev.NextAttemptAt.Sub(b.clock.Now()); d < time.Second || d > 2*time.Second {
		t.Fatalf("second backoff %v, want 1s..2s", d)
	}
	b.clock.Advance(2 * time.Second)
	b.drain()
	b.wantEvent("msg:wamid.r", waflow.InboxDone, "handled")
	if b.calls() != 1 {
		t.Fatalf("handler succeeded %d times", b.calls())
	}

	// Now one that never succeeds.
	tok2, claims2 := issue(t, b.iss, b.store, "book_table", "")
	b.fail.Store(100)
	b.complete("wamid.doomed", "", responseJSON(tok2, map[string]any{"guests": 2}))
	for range 10 {
		b.worker.ProcessBatch(ctx)
		b.clock.Advance(time.Minute)
	}
	ev = b.wantEvent("msg:wamid.doomed", waflow.InboxDead, "gave up after 4 attempts")
	if !strings.Contains(ev.Result, "booking system unavailable") {
		t.Fatalf("dead event does not say why: %+v", ev)
	}
	// The completion is recorded (the token is used) but not handled; an
	// operator can see it.
	c, err := b.store.CompletionByToken(ctx, claims2.ID)
	if err != nil || !c.HandledAt.IsZero() {
		t.Fatalf("dead completion: %+v, %v", c, err)
	}
	if st, _ := b.store.InboxStats(ctx); st.Dead != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

// crashAfterHandler fails MarkCompletionHandled once, as if the process
// died right after the handler returned.
type crashAfterHandler struct {
	waflow.Store
	crashed atomic.Bool
}

func (c *crashAfterHandler) MarkCompletionHandled(ctx context.Context, id string, at time.Time) error {
	if c.crashed.CompareAndSwap(false, true) {
		return errors.New("process died")
	}
	return c.Store.MarkCompletionHandled(ctx, id, at)
}

// The one window where a handler runs twice — the process dies between the
// handler's return and recording it — is closed by the handler's
// idempotency key: one outbox message.
func TestCrashAfterHandler(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{})
	crashing := &crashAfterHandler{Store: b.store}
	w, err := webhook.NewWorker(webhook.WorkerConfig{Store: crashing, Tokens: b.iss, Now: b.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w.Handle("book_table", b.handle)
	tok, _ := issue(t, b.iss, b.store, "book_table", "")
	b.complete("wamid.c", "", responseJSON(tok, map[string]any{"guests": 2}))
	w.ProcessBatch(ctx)
	b.clock.Advance(time.Minute)
	w.ProcessBatch(ctx)
	b.wantEvent("msg:wamid.c", waflow.InboxDone, "handled")
	if _, err := b.store.OutboxMessageByKey(ctx, "confirm:wamid.c"); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.store.ClaimOutbox(ctx, "sender", 100, time.Minute); len(n) != 1 {
		t.Fatalf("%d confirmation messages queued, want 1", len(n))
	}
}

// A worker that dies holding a lease loses nothing: once the lease runs
// out, another worker (or the same one restarted) processes the event.
func TestLeaseRetaken(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{Lease: time.Minute})
	tok, _ := issue(t, b.iss, b.store, "book_table", "")
	b.complete("wamid.l", "", responseJSON(tok, map[string]any{"guests": 2}))
	if evs, _ := b.store.ClaimEvents(ctx, "a-worker-that-crashes", 10, time.Minute); len(evs) != 1 {
		t.Fatal("the doomed worker claimed nothing")
	}
	if n, _ := b.worker.ProcessBatch(ctx); n != 0 {
		t.Fatal("an event was claimed while another worker's lease held")
	}
	b.clock.Advance(time.Minute)
	b.drain()
	b.wantEvent("msg:wamid.l", waflow.InboxDone, "handled")
}

// An event that kills the process every time it is processed is
// dead-lettered once it has been claimed more than MaxAttempts times.
func TestCrashLoopDeadLettered(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{MaxAttempts: 3})
	b.send(notification(messagesChange(map[string]any{"id": "wamid.x", "type": "text", "from": "1"})))
	for i := range 3 {
		if evs, _ := b.store.ClaimEvents(ctx, fmt.Sprintf("crashing-%d", i), 10, time.Second); len(evs) != 1 {
			t.Fatal("claim failed")
		}
		b.clock.Advance(time.Second)
	}
	b.drain()
	b.wantEvent("msg:wamid.x", waflow.InboxDead, "claimed 4 times without finishing")
}

type countingObserver struct {
	mu     sync.Mutex
	counts map[string]int
}

func (o *countingObserver) add(k string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}
	o.counts[k]++
}
func (o *countingObserver) WebhookRequest(s int, _ time.Duration) { o.add(fmt.Sprint("request ", s)) }
func (o *countingObserver) WebhookEvent(k string)                 { o.add("event " + k) }
func (o *countingObserver) WebhookDuplicates(n int) {
	for range n {
		o.add("duplicate")
	}
}
func (o *countingObserver) EventProcessed(k, s string) { o.add("processed " + k + " " + s) }
func (o *countingObserver) ProcessingFailure(k string) { o.add("failure " + k) }
func (o *countingObserver) FlowEvent(e, s string)      { o.add("flow " + e + " " + s) }

// flows events are logged at their level, counted, passed on, and settled;
// statuses and other messages are stored and settled.
func TestFlowsAndOtherEvents(t *testing.T) {
	t.Parallel()
	obs := &countingObserver{}
	var got []*webhook.FlowsEvent
	b := newBench(t, webhook.WorkerConfig{Observer: obs, OnFlowsEvent: func(_ context.Context, e *webhook.FlowsEvent) error {
		got = append(got, e)
		return nil
	}, Concurrency: 1})
	recv, err := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: mustVerifier(t, appSecret), VerifyToken: verifyToken,
		Inbox: b.store, Observer: obs, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b.recv = recv
	b.send(notification(
		flowsChange(map[string]any{"event": "FLOW_STATUS_CHANGE", "flow_id": "77", "old_status": "THROTTLED", "new_status": "BLOCKED", "message": "blocked"}),
		flowsChange(map[string]any{"event": "ENDPOINT_LATENCY", "flow_id": "77", "alert_state": "ACTIVATED", "threshold": 7000, "p90_latency": 7300, "p50_latency": 900, "requests_count": 400}),
		flowsChange(map[string]any{"event": "ENDPOINT_ERROR_RATE", "flow_id": "77", "alert_state": "DEACTIVATED", "threshold": 10, "error_rate": 4.5}),
		flowsChange(map[string]any{"event": "FLOW_VERSION_EXPIRY_WARNING", "flow_id": "77", "warning": "3.0 expires"}),
		messagesChange(map[string]any{"id": "wamid.t", "type": "text", "from": "1", "text": map[string]any{"body": "hi"}}),
		map[string]any{"field": "messages", "value": map[string]any{"statuses": []any{map[string]any{"id": "wamid.s", "status": "failed", "errors": []any{map[string]any{"code": 131026, "title": "Message undeliverable"}}}}}},
	))
	b.drain()
	for _, want := range [][]string{
		{`level=ERROR`, `msg="flows webhook"`, `flow_id=77`, `event=FLOW_STATUS_CHANGE`, `new_status=BLOCKED`},
		{`level=WARN`, `msg="flows webhook"`, `event=ENDPOINT_LATENCY`, `p90_latency_ms=7300`, `alert_state=ACTIVATED`},
		{`level=INFO`, `msg="flows webhook"`, `event=ENDPOINT_ERROR_RATE`, `alert_state=DEACTIVATED`},
		{`level=WARN`, `msg="flows webhook"`, `event=FLOW_VERSION_EXPIRY_WARNING`, `warning="3.0 expires"`},
		{`level=WARN`, `msg="a message we sent failed"`},
	} {
		if !logLine(b.logs.String(), want...) {
			t.Errorf("no log line with all of %q", want)
		}
	}
	if len(got) != 4 || got[0].NewStatus != "BLOCKED" || got[1].P90Latency != 7300 {
		t.Fatalf("OnFlowsEvent got %d events", len(got))
	}
	for k, want := range map[string]int{
		"event flows": 4, "event message": 1, "event status": 1, "request 200": 1,
		"flow FLOW_STATUS_CHANGE BLOCKED": 1, "flow ENDPOINT_LATENCY ACTIVATED": 1,
		"processed flows done": 4, "processed message done": 1, "processed status done": 1,
	} {
		if obs.counts[k] != want {
			t.Errorf("observer %q = %d, want %d (all: %v)", k, obs.counts[k], want, obs.counts)
		}
	}
	for _, e := range allEvents(t, b.store) {
		if e.State != waflow.InboxDone {
			t.Errorf("event %s is %s", e.DedupeKey, e.State)
		}
	}
}

func logLine(logs string, parts ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// Run processes events as they arrive (Notify) and stops with its context.
func TestRun(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{PollInterval: time.Hour})
	recv, err := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: mustVerifier(t, appSecret), VerifyToken: verifyToken,
		Inbox: b.store, OnStored: b.worker.Notify, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b.recv = recv
	rctx, cancel := context.WithCancel(ctx)
	stopped := make(chan error)
	go func() { stopped <- b.worker.Run(rctx) }()
	tok, _ := issue(t, b.iss, b.store, "book_table", "")
	b.complete("wamid.run", "", responseJSON(tok, map[string]any{"guests": 2}))
	deadline := time.Now().Add(10 * time.Second)
	for b.event("msg:wamid.run").State != waflow.InboxDone {
		if time.Now().After(deadline) {
			t.Fatal("Run did not process the event after Notify")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// Several workers on one store, with duplicates and replays arriving from
// many senders at once: every completion handled exactly once.
func TestConcurrentWorkersExactlyOnce(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{})
	const tokens = 60
	toks := make([]string, tokens)
	for i := range toks {
		toks[i], _ = issue(t, b.iss, b.store, "book_table", "")
	}
	var workers []*webhook.Worker
	for i := range 3 {
		w, err := webhook.NewWorker(webhook.WorkerConfig{Store: b.store, Tokens: b.iss, Now: b.clock.Now, Owner: fmt.Sprint("w", i), Batch: 5, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		w.Handle("book_table", b.handle)
		workers = append(workers, w)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.Run(rctx) })
	}
	var senders sync.WaitGroup
	for s := range 8 {
		senders.Go(func() {
			for i := s; i < tokens*3; i += 8 {
				tok := toks[i%tokens]
				// Each token: its completion twice (duplicate), and a replay
				// with another wamid.
				wamid := fmt.Sprintf("wamid.%d", i%tokens)
				if i/tokens == 2 {
					wamid = fmt.Sprintf("wamid.replay%d", i%tokens)
				}
				body := notification(messagesChange(nfmReply(wamid, "", responseJSON(tok, map[string]any{"n": i}), b.clock.Now())))
				if rec := post(b.recv, body, signed(body)); rec.Code != 200 {
					t.Errorf("POST: %d", rec.Code)
				}
				for _, w := range workers {
					w.Notify()
				}
			}
		})
	}
	senders.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := b.store.InboxStats(ctx)
		if st.Pending == 0 && st.Processing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox not drained: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.handled) != tokens {
		t.Fatalf("%d completions handled, want %d", len(b.handled), tokens)
	}
	for id, n := range b.handled {
		if n != 1 {
			t.Errorf("%s handled %d times", id, n)
		}
	}
}

func TestNewWorkerErrors(t *testing.T) {
	t.Parallel()
	store := openStore(t, nil)
	iss := newIssuer(t, nil)
	for name, cfg := range map[string]webhook.WorkerConfig{
		"no store":            {Tokens: iss},
		"no issuer":           {Store: store},
		"lease under timeout": {Store: store, Tokens: iss, Lease: time.Second, HandlerTimeout: 2 * time.Second},
	} {
		if _, err := webhook.NewWorker(cfg); err == nil {
			t.Errorf("%s: NewWorker succeeded", name)
		}
	}
}

// Two workers on one store, real time, handlers slow enough that a whole
// batch would outlive its lease if it were claimed at once: each flows
// event still reaches the handler exactly once.
func TestLeaseCoversEveryClaimedEvent(t *testing.T) {
	t.Parallel()
	store := openStore(t, time.Now)
	recv := newReceiver(t, store)
	var mu sync.Mutex
	calls := map[string]int{}
	var workers []*webhook.Worker
	for i := range 2 {
		w, err := webhook.NewWorker(webhook.WorkerConfig{Store: store, Tokens: newIssuer(t, time.Now), Owner: fmt.Sprint("w", i),
			// A batch of 4 claimed whole would need 4 x 400 ms, twice the
			// lease; one event needs half of it, which leaves a loaded
			// machine (go test -race, CI) 400 ms of slack.
			Batch: 4, Concurrency: 1, Lease: 800 * time.Millisecond, HandlerTimeout: 600 * time.Millisecond, PollInterval: 10 * time.Millisecond,
			Logger: slog.New(slog.DiscardHandler),
			OnFlowsEvent: func(_ context.Context, e *webhook.FlowsEvent) error {
				mu.Lock()
				calls[e.FlowID]++
				mu.Unlock()
				time.Sleep(400 * time.Millisecond)
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		workers = append(workers, w)
	}
	const events = 4 // one worker claims them all; the other is free to take expired leases
	for i := range events {
		body := notification(flowsChange(map[string]any{"event": "FLOW_STATUS_CHANGE", "flow_id": fmt.Sprint(100 + i), "old_status": "DRAFT", "new_status": "PUBLISHED"}))
		if rec := post(recv, body, signed(body)); rec.Code != 200 {
			t.Fatalf("POST: %d", rec.Code)
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.Run(rctx) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := store.InboxStats(ctx)
		if st.Pending == 0 && st.Processing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events not settled: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i := range events {
		if n := calls[fmt.Sprint(100+i)]; n != 1 {
			t.Errorf("flow %d: handler called %d times, want 1", 100+i, n)
		}
	}
}

// A completion recorded on its first attempt (token used) whose handler
// failed is handled on the retry even if the values would no longer pass
// (settings changed meanwhile): they were checked once, before recording.
func TestRetryOfARecordedCompletionSkipsValidation(t *testing.T) {
	t.Parallel()
	var strict atomic.Bool
	b := newBench(t, webhook.WorkerConfig{Validator: func(context.Context, string, map[string]any) error {
		if strict.Load() {
			return errors.New("duration not offered")
		}
		return nil
	}})
	tok, _ := issue(t, b.iss, b.store, "book_table", "")
	b.fail.Store(1)
	b.complete("wamid.v", "", responseJSON(tok, map[string]any{"guests": 2}))
	if n, _ := b.worker.ProcessBatch(ctx); n != 1 {
		t.Fatalf("claimed %d", n)
	}
	b.wantEvent("msg:wamid.v", waflow.InboxPending, "")
	strict.Store(true)
	b.clock.Advance(time.Hour)
	b.drain()
	b.wantEvent("msg:wamid.v", waflow.InboxDone, "recorded and handled")
	if n := b.calls(); n != 1 {
		t.Fatalf("handler calls = %d, want 1 (the retry)", n)
	}
}

// A handler's rejection (waflow.ErrRejected) is final at the first attempt:
// the completion is kept as rejected, with the reason, and its token is
// unused.
func TestHandlerRejects(t *testing.T) {
	t.Parallel()
	obs := &countingObserver{}
	b := newBench(t, webhook.WorkerConfig{Observer: obs})
	var calls atomic.Int32
	b.worker.Handle("book_table", func(ctx context.Context, c webhook.Completed) error {
		calls.Add(1)
		return fmt.Errorf("checking the booking: %w", waflow.Rejectf("booking_ref names a booking of another session"))
	})
	tok, claims := issue(t, b.iss, b.store, "book_table", "")
	b.complete("wamid.tampered", "", responseJSON(tok, map[string]any{"booking_ref": "BK-SECRET"}))
	if n, err := b.worker.ProcessBatch(ctx); n != 1 || err != nil {
		t.Fatalf("ProcessBatch = %d, %v", n, err)
	}
	ev := b.wantEvent("msg:wamid.tampered", waflow.InboxRejected, "booking_ref names a booking of another session")
	if ev.Attempts != 1 || ev.LastError != "" {
		t.Fatalf("rejected event: attempts %d, last error %q; want one attempt, no failure", ev.Attempts, ev.LastError)
	}
	if c, err := b.store.Completion(ctx, "wamid.tampered"); err != nil || c.Status != waflow.CompletionRejected ||
		!strings.Contains(c.Result, "booking_ref names a booking of another session") {
		t.Fatalf("the rejected completion is not kept as rejected: %+v, %v", c, err)
	}
	if st := b.tokenState(claims.ID); st != waflow.TokenIssued {
		t.Fatalf("the rejected completion spent its token: %q", st)
	}
	b.clock.Advance(time.Hour)
	b.drain()
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
	if st, _ := b.store.InboxStats(ctx); st.Dead != 0 || st.Pending != 0 {
		t.Fatalf("stats after a rejection: %+v", st)
	}
	if strings.Contains(b.logs.String(), "BK-SECRET") {
		t.Fatal("the logs show a submitted value")
	}
	// Counted as a rejection, not as a failed attempt.
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.counts["processed completion rejected"] != 1 || obs.counts["failure completion"] != 0 {
		t.Fatalf("observed %v", obs.counts)
	}
}

// failReject fails RejectCompletion once, as if the database went away
// between the handler's rejection and undoing the record.
type failReject struct {
	waflow.Store
	failed atomic.Bool
}

func (f *failReject) RejectCompletion(ctx context.Context, id, reason string) error {
	if f.failed.CompareAndSwap(false, true) {
		return errors.New("database unavailable")
	}
	return f.Store.RejectCompletion(ctx, id, reason)
}

// When undoing the record fails, the event is retried, and the retry, which
// finds the completion recorded, rejects it again and undoes it.
func TestHandlerRejectsAfterAFailedDiscard(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{})
	store := &failReject{Store: b.store}
	w, err := webhook.NewWorker(webhook.WorkerConfig{Store: store, Tokens: b.iss, Now: b.clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.Handle("book_table", func(ctx context.Context, c webhook.Completed) error {
		return waflow.Rejectf("expense_id names no expense of this user")
	})
	tok, claims := issue(t, b.iss, b.store, "book_table", "")
	b.complete("wamid.r", "", responseJSON(tok, map[string]any{"expense_id": "EX-NONE"}))
	w.ProcessBatch(ctx)
	ev := b.wantEvent("msg:wamid.r", waflow.InboxPending, "")
	if !strings.Contains(ev.LastError, "database unavailable") {
		t.Fatalf("after the failed undo: state %s, last error %q", ev.State, ev.LastError)
	}
	b.clock.Advance(time.Hour)
	w.ProcessBatch(ctx)
	b.wantEvent("msg:wamid.r", waflow.InboxRejected, "expense_id names no expense")
	if c, err := b.store.Completion(ctx, "wamid.r"); err != nil || c.Status != waflow.CompletionRejected {
		t.Fatalf("the rejected completion is not kept as rejected: %+v, %v", c, err)
	}
	if st := b.tokenState(claims.ID); st != waflow.TokenIssued {
		t.Fatalf("token %q, want issued", st)
	}
}
