package webhook_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/webhook"
)

// OnInbound is told of every message a user sent, text or completion, with
// the message's time; statuses are not messages from the user. A failure
// retries the event.
func TestOnInbound(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]time.Time{}
	fail := true
	b := newBench(t, webhook.WorkerConfig{Concurrency: 1, OnInbound: func(_ context.Context, waID string, at time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return errors.New("database away")
		}
		seen[waID] = at
		return nil
	}})
	b.send(notification(
		messagesChange(map[string]any{"id": "wamid.t", "type": "text", "from": "4915112345", "timestamp": "1700000000", "text": map[string]any{"body": "hi"}}),
		map[string]any{"field": "messages", "value": map[string]any{"statuses": []any{map[string]any{"id": "wamid.s", "status": "delivered", "recipient_id": "4900"}}}},
	))
	b.complete("wamid.c", "", responseJSON("", nil)) // rejected (no token), but the user did write
	b.drain()
	b.clock.Advance(2 * time.Hour) // past the retry's backoff
	b.drain()
	want := map[string]time.Time{"4915112345": time.Unix(1700000000, 0).UTC(), userWAID: b.clock.Now().Add(-2 * time.Hour).Truncate(time.Second)}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("OnInbound saw %v, want %v", seen, want)
	}
	for id, at := range want {
		if !seen[id].Equal(at) {
			t.Errorf("OnInbound(%s) at %v, want %v", id, seen[id], at)
		}
	}
	if ev := b.event("msg:wamid.t"); ev.State != waflow.InboxDone || ev.Attempts != 2 {
		t.Errorf("text message event: %s after %d attempts, want done after 2 (the first OnInbound failed)", ev.State, ev.Attempts)
	}
}

// A message that carries a BSUID (from_user_id) records the user's window
// under it as well as under the phone number: reminders to a user known by
// the BSUID alone look the window up by the BSUID.
func TestOnInboundRecordsBSUID(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]time.Time{}
	b := newBench(t, webhook.WorkerConfig{Concurrency: 1, OnInbound: func(_ context.Context, id string, at time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		seen[id] = at
		return nil
	}})
	b.send(notification(messagesChange(
		map[string]any{"id": "wamid.b1", "type": "text", "from": "4915112345", "from_user_id": "US.13491208655302741918", "timestamp": "1700000000", "text": map[string]any{"body": "hi"}},
		map[string]any{"id": "wamid.b2", "type": "text", "from_user_id": "US.98765432109876543210", "timestamp": "1700000600", "text": map[string]any{"body": "hi"}},
	)))
	b.drain()
	want := map[string]time.Time{
		"4915112345":              time.Unix(1700000000, 0).UTC(),
		"US.13491208655302741918": time.Unix(1700000000, 0).UTC(),
		"US.98765432109876543210": time.Unix(1700000600, 0).UTC(),
		userWAID:                  time.Unix(1700000600, 0).UTC(), // the contact's wa_id stands in for the missing from
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(want) {
		t.Fatalf("OnInbound saw %v, want %v", seen, want)
	}
	for id, at := range want {
		if !seen[id].Equal(at) {
			t.Errorf("OnInbound(%s) at %v, want %v", id, seen[id], at)
		}
	}
}
