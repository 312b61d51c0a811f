package outbox_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/outbox"
)

const testBSUID = "US.13491208655302741918"

// enqueueBSUID stores a text message to a user known only by their
// business-scoped user id.
func (e *env) enqueueBSUID(key string) waflow.OutboxMessage {
	e.t.Helper()
	body, err := graph.EncodeMessage(&graph.TextMessage{Recipient: testBSUID, Body: "Thanks, your answers are in."})
	if err != nil {
		e.t.Fatal(err)
	}
	m, _, err := e.store.Enqueue(context.Background(), waflow.OutboxMessage{IdempotencyKey: key, To: testBSUID, Payload: body})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// A message to a user without a phone number goes out with recipient, the
// BSUID, and no to (protocol.md 4.2).
func TestSendsToBSUIDWithRecipient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.enqueueBSUID("k1")
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{Sent: 1})
	reqs := e.graph.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["recipient"] != testBSUID || body["to"] != nil {
		t.Fatalf("body %s: want recipient %s and no to", reqs[0].Body, testBSUID)
	}
	if got := e.message(m.ID); got.State != waflow.OutboxSent {
		t.Fatalf("state %s, want sent", got.State)
	}
}

// 131062 (a message kind Meta does not deliver to a BSUID) is final at once,
// with a message that says what is needed, and never sent again.
func TestBSUIDUnsupportedIsDeadWithReason(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphErr(400, graph.CodeBSUIDUnsupported, "Business-scoped User ID recipients are not supported for this message."))
	m := e.enqueueBSUID("k1")
	w := e.worker()
	wantStats(t, sendDue(t, w), outbox.Stats{Dead: 1})
	got := e.message(m.ID)
	if got.State != waflow.OutboxDead || !strings.Contains(got.LastError, "needs the user's phone number") || !strings.Contains(got.LastError, "131062") {
		t.Fatalf("state %s, last error %q; want dead, saying a phone number is needed", got.State, got.LastError)
	}
	e.clock.Advance(24 * time.Hour)
	wantStats(t, sendDue(t, w), outbox.Stats{})
	if n := len(e.graph.requests()); n != 1 {
		t.Fatalf("%d requests, want 1: a 131062 refusal is not retried", n)
	}
}

// A flow Meta reports BLOCKED holds its messages in the outbox, stored, so
// another replica's worker holds them too; other messages go on; once the
// flow is PUBLISHED again they are sent.
func TestBlockedFlowHoldsItsMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	flowBody, _ := graph.EncodeMessage(&graph.FlowMessage{To: "15550001111", Body: "Tell us", CTA: "Open", FlowName: "customer_survey"})
	held, _, err := e.store.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "invite", To: "15550001111", Flow: "customer_survey", Payload: flowBody})
	if err != nil {
		t.Fatal(err)
	}
	other := e.enqueue("k2", "15550002222")
	if err := e.store.SetFlowHealth(ctx, waflow.FlowHealth{Flow: "customer_survey", Status: "BLOCKED", Paused: true}); err != nil {
		t.Fatal(err)
	}
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{Sent: 1})
	if got := e.message(other.ID); got.State != waflow.OutboxSent {
		t.Fatalf("the message of another flow: %s, want sent", got.State)
	}
	if got := e.message(held.ID); got.State != waflow.OutboxPending || got.Attempts != 0 {
		t.Fatalf("the blocked flow's message: %s after %d attempts, want pending, untried", got.State, got.Attempts)
	}
	e.clock.Advance(time.Minute)
	if err := e.store.SetFlowHealth(ctx, waflow.FlowHealth{Flow: "customer_survey", Status: "PUBLISHED"}); err != nil {
		t.Fatal(err)
	}
	wantStats(t, sendDue(t, e.worker()), outbox.Stats{Sent: 1})
	if got := e.message(held.ID); got.State != waflow.OutboxSent {
		t.Fatalf("the flow's message once healthy: %s, want sent", got.State)
	}
}
