package webhook_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/webhook"
)

// The completion records who the user is: the phone number, and the
// business-scoped user id from the message's from_user_id or else from the
// notification's contact.
func TestCompletionKeepsUserID(t *testing.T) {
	b := newBench(t, webhook.WorkerConfig{})
	tok1, _ := issue(t, b.iss, b.store, "book_table", "")
	tok2, _ := issue(t, b.iss, b.store, "book_table", "")
	fromContact := messagesChange(nfmReply("wamid.contact", "", responseJSON(tok1, map[string]any{"guests": 2}), b.clock.Now()))
	fromContact["value"].(map[string]any)["contacts"] = []any{map[string]any{"wa_id": userWAID, "user_id": "US.111"}}
	b.send(notification(fromContact))
	inMessage := nfmReply("wamid.message", "", responseJSON(tok2, map[string]any{"guests": 2}), b.clock.Now())
	inMessage["from_user_id"] = "US.222"
	b.send(notification(messagesChange(inMessage)))
	// A flow message another system sent: unattributed, and the user known.
	foreign := messagesChange(nfmReply("wamid.foreign", "wamid.not-ours", responseJSON("their-token", map[string]any{"q": "a"}), b.clock.Now()))
	foreign["value"].(map[string]any)["contacts"] = []any{map[string]any{"wa_id": userWAID, "user_id": "US.333"}}
	b.send(notification(foreign))
	b.drain()
	for wamid, want := range map[string]struct {
		userID, flow string
		status       waflow.CompletionStatus
	}{
		"wamid.contact": {"US.111", "book_table", waflow.CompletionHandled},
		"wamid.message": {"US.222", "book_table", waflow.CompletionHandled},
		"wamid.foreign": {"US.333", "", waflow.CompletionRejected},
	} {
		c, err := b.store.Completion(ctx, wamid)
		if err != nil || c.UserID != want.userID || c.WAID != userWAID || c.Flow != want.flow || c.Status != want.status {
			t.Errorf("%s: %+v, %v; want user %s, flow %q, %s", wamid, c, err, want.userID, want.flow, want.status)
		}
	}
	if c, _ := b.store.Completion(ctx, "wamid.foreign"); strings.Contains(string(c.Response), "their-token") {
		t.Errorf("the other system's token is kept in clear: %s", c.Response)
	}
}

// A completion whose handler fails says so, with the error, until a retry
// handles it; one dead-lettered stays failed.
func TestCompletionFailedStatus(t *testing.T) {
	b := newBench(t, webhook.WorkerConfig{MaxAttempts: 2, MinBackoff: time.Second, MaxBackoff: time.Second})
	tok, _ := issue(t, b.iss, b.store, "book_table", "")
	b.fail.Store(1)
	b.complete("wamid.f", "", responseJSON(tok, map[string]any{"guests": 2}))
	b.worker.ProcessBatch(ctx)
	c, err := b.store.Completion(ctx, "wamid.f")
	if err != nil || c.Status != waflow.CompletionFailed || !strings.Contains(c.Result, "attempt 1: completion handler of flow book_table: booking system unavailable") {
		t.Fatalf("after a failed attempt: %+v, %v", c, err)
	}
	b.clock.Advance(time.Hour)
	b.worker.ProcessBatch(ctx)
	if c, _ := b.store.Completion(ctx, "wamid.f"); c.Status != waflow.CompletionHandled || c.Result != "" {
		t.Fatalf("after the retry: %+v", c)
	}

	dead, _ := issue(t, b.iss, b.store, "book_table", "")
	b.fail.Store(100)
	b.complete("wamid.dead", "", responseJSON(dead, map[string]any{"guests": 2}))
	b.drain()
	b.clock.Advance(time.Hour)
	b.drain()
	b.wantEvent("msg:wamid.dead", waflow.InboxDead, "gave up after 2 attempts")
	if c, _ := b.store.Completion(ctx, "wamid.dead"); c.Status != waflow.CompletionFailed || !strings.HasPrefix(c.Result, "attempt 2:") {
		t.Fatalf("a dead-lettered completion: %+v", c)
	}
}

// failToken fails Token once, as if the database went away while the
// worker looked the completion's token up.
type failToken struct {
	waflow.Store
	failed atomic.Bool
}

func (f *failToken) Token(ctx context.Context, id string) (waflow.FlowToken, error) {
	if f.failed.CompareAndSwap(false, true) {
		return waflow.FlowToken{}, errors.New("database unavailable")
	}
	return f.Store.Token(ctx, id)
}

// A store error while finding the token is retried; it does not keep the
// completion as rejected, which would settle every retry the same way.
func TestCompletionTokenLookupFailsOnce(t *testing.T) {
	b := newBench(t, webhook.WorkerConfig{})
	w, err := webhook.NewWorker(webhook.WorkerConfig{Store: &failToken{Store: b.store}, Tokens: b.iss, Now: b.clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.Handle("book_table", b.handle)
	tok, _ := issue(t, b.iss, b.store, "book_table", "")
	b.complete("wamid.t", "", responseJSON(tok, map[string]any{"guests": 2}))
	w.ProcessBatch(ctx)
	b.wantEvent("msg:wamid.t", waflow.InboxPending, "")
	b.clock.Advance(time.Hour)
	w.ProcessBatch(ctx)
	b.wantEvent("msg:wamid.t", waflow.InboxDone, "handled")
	if c, err := b.store.Completion(ctx, "wamid.t"); err != nil || c.Status != waflow.CompletionHandled {
		t.Fatalf("completion %+v, %v; want handled", c, err)
	}
}
