package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/webhook"
)

// completeThroughWorker stores a completion webhook from waID with
// response_json values plus flow_token tok, and runs the webhook worker
// once, with the catalog's validator and completion handlers wired as
// `waflow serve` wires them. It returns the settled inbox event.
func (f *flowHarness) completeThroughWorker(wamid, waID, tok string, values map[string]any) waflow.InboxEvent {
	f.t.Helper()
	resp := map[string]any{}
	for k, v := range values {
		resp[k] = v
	}
	resp["flow_token"] = tok // the endpoint's SUCCESS params carry their session's token
	rj, _ := json.Marshal(resp)
	body, _ := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "1", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messages": []any{map[string]any{
				"from": waID, "id": wamid, "timestamp": fmt.Sprint(f.now.Unix()), "type": "interactive",
				"interactive": map[string]any{"type": "nfm_reply", "nfm_reply": map[string]any{"name": "flow", "body": "Sent", "response_json": string(rj)}},
			}},
		}}}}},
	})
	events, err := webhook.Parse(body)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.AddEvents(context.Background(), events); err != nil {
		f.t.Fatal(err)
	}
	w, err := webhook.NewWorker(webhook.WorkerConfig{Store: f.store, Tokens: f.issuer, Validator: f.cat.ValidateCompletion, Now: func() time.Time { return *f.now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, fl := range f.cat.Flows() {
		w.Handle(fl.Name, func(ctx context.Context, c webhook.Completed) error {
			return fl.Complete(ctx, registry.Completion{Completion: c.Completion, Values: c.Values, Token: c.Token})
		})
	}
	if n, err := w.ProcessBatch(context.Background()); n != 1 || err != nil {
		f.t.Fatalf("ProcessBatch = %d, %v; want the one event", n, err)
	}
	ev, err := f.store.InboxEventByKey(context.Background(), "msg:"+wamid)
	if err != nil {
		f.t.Fatal(err)
	}
	return ev
}

// wantRejectedOnce checks that a completion was rejected at its first
// attempt and that nothing of it was acted on: the completion kept as
// rejected, its token unused, no message queued under outboxKey.
func (f *flowHarness) wantRejectedOnce(ev waflow.InboxEvent, wamid, tokenID, outboxKey, reason string) {
	f.t.Helper()
	ctx := context.Background()
	if ev.State != waflow.InboxRejected || ev.Attempts != 1 || !contains(ev.Result, reason) {
		f.t.Fatalf("event: %s after %d attempts, result %q; want rejected at the first attempt with %q", ev.State, ev.Attempts, ev.Result, reason)
	}
	if c, err := f.store.Completion(ctx, wamid); err != nil || c.Status != waflow.CompletionRejected {
		f.t.Fatalf("the rejected completion is not kept as rejected: %+v, %v", c, err)
	}
	if tok, err := f.store.Token(ctx, tokenID); err != nil || tok.State != waflow.TokenIssued {
		f.t.Fatalf("the rejected completion's token: %+v, %v; want issued", tok, err)
	}
	if _, err := f.store.OutboxMessageByKey(ctx, outboxKey); !errors.Is(err, waflow.ErrNotFound) {
		f.t.Fatalf("a message was queued for a rejected completion: %v", err)
	}
	if st, err := f.store.InboxStats(ctx); err != nil || st.Pending != 0 || st.Dead != 0 {
		f.t.Fatalf("inbox stats %+v, %v; want nothing pending or dead", st, err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// A tampered booking completion naming another session's booking is
// rejected once, not retried for 17 minutes with its token spent.
func TestBookingCompletionOfAnotherSessionRejectedOnce(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f := newFlowHarness(t, "appointment_booking", time.Date(2026, 12, 2, 8, 10, 0, 0, berlin))
	tok := f.token("appointment_booking", "1")
	screen, d := f.exchange(tok, "TIME", map[string]any{"date": "2026-12-02", "time": "10:00", "reminder": false, "name": "Ada", "reason": "Check up"})
	params, _ := d["extension_message_response"].(map[string]any)["params"].(map[string]any)
	if screen != "SUCCESS" || params["booking_ref"] == "" {
		t.Fatalf("book: %s %v", screen, d)
	}
	other, claims, err := endpoint.StoreTokens{Issuer: f.issuer, Store: f.store}.Issue(context.Background(), "appointment_booking", "2")
	if err != nil {
		t.Fatal(err)
	}
	ev := f.completeThroughWorker("wamid.tampered", "2", other, params)
	f.wantRejectedOnce(ev, "wamid.tampered", claims.ID, "booking:"+params["booking_ref"].(string), "booking of another session")

	// The booking's own session still completes.
	own, _ := f.issuer.Parse(tok)
	ev = f.completeThroughWorker("wamid.own", "1", tok, params)
	if ev.State != waflow.InboxDone {
		t.Fatalf("the booking's own completion: %s %q", ev.State, ev.Result)
	}
	if c, err := f.store.CompletionByToken(context.Background(), own.ID); err != nil || c.HandledAt.IsZero() {
		t.Fatalf("own completion: %+v, %v", c, err)
	}
}

// An expense completion naming an expense that does not exist is rejected
// once.
func TestExpenseCompletionOfAMissingExpenseRejectedOnce(t *testing.T) {
	f := newFlowHarness(t, "expense_entry", time.Date(2026, 12, 2, 8, 10, 0, 0, time.UTC))
	tok, claims, err := endpoint.StoreTokens{Issuer: f.issuer, Store: f.store}.Issue(context.Background(), "expense_entry", "1")
	if err != nil {
		t.Fatal(err)
	}
	ev := f.completeThroughWorker("wamid.noexpense", "1", tok, map[string]any{"expense_id": "EX-DOESNOTEXIST"})
	f.wantRejectedOnce(ev, "wamid.noexpense", claims.ID, "confirm:wamid.noexpense", "expense_id names no expense")
}
