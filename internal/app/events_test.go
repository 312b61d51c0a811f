package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/outbox"
	"github.com/waflow/waflow/sqlite/sqlitetest"
	"github.com/waflow/waflow/webhook"
)

// The producers wired in serve store their events, with stable ids and
// Meta's field names: a flows health alert, a booking, a dead message, a
// completion (once, though its handler runs twice).
func TestEventProducers(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(ctx, sqlitetest.Path(t), storage.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.PutSubscription(ctx, waflow.Subscription{ID: "all", URL: "https://crm.example.com/h", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}); err != nil {
		t.Fatal(err)
	}
	a := &App{log: quietLogger(), store: store}
	if a.events, err = events.NewDispatcher(store, nil, a.log); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	alert := &webhook.FlowsEvent{Event: webhook.EndpointLatency, FlowID: "123", AlertState: "ACTIVATED", Threshold: 1000, P90Latency: 1500, RequestsCount: 9, Time: at}
	for range 2 {
		if err := a.emitFlowsEvent(ctx, alert); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.emitBooking(ctx, catalogstore.Booking{Ref: "BK-1", WAID: "4917", Start: at, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	a.emitDeadMessage(outbox.Result{Outcome: outbox.Dead, Message: waflow.OutboxMessage{ID: 7, IdempotencyKey: "confirm:x", To: "4917"}})
	a.emitDeadMessage(outbox.Result{Outcome: outbox.Sent, Message: waflow.OutboxMessage{ID: 8}})
	calls := 0
	h := a.emitCompletion(func(context.Context, webhook.Completed) error { calls++; return nil })
	c := webhook.Completed{Completion: waflow.Completion{MessageID: "wamid.C", Flow: "feedback_survey", CompletedAt: at}, Values: map[string]any{"rating": "5"}}
	for range 2 {
		if err := h(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := store.Deliveries(ctx, waflow.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, id, key, val string }{
		{events.FlowEndpointLatency, "", "p90_latency", "1500"},
		{events.BookingCreated, events.ID(events.BookingCreated, "BK-1"), "ref", `"BK-1"`},
		{events.MessageFailed, "", "idempotency_key", `"confirm:x"`},
		{events.FlowCompleted, events.ID(events.FlowCompleted, "wamid.C"), "response", `{"rating":"5"}`},
	}
	if len(ds) != len(want) || calls != 2 {
		t.Fatalf("%d deliveries (want %d), handler called %d times", len(ds), len(want), calls)
	}
	for i, w := range want {
		var p struct {
			ID   string                     `json:"id"`
			Type string                     `json:"type"`
			Data map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(ds[i].Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != w.typ || ds[i].MsgID != p.ID || (w.id != "" && p.ID != w.id) || string(p.Data[w.key]) != w.val {
			t.Errorf("delivery %d: %s", i, ds[i].Payload)
		}
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The console's booking.changed reaches the business's subscriptions as an
// event with one id per booking and change.
func TestConsoleEventsEmitBookingChanged(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(ctx, sqlitetest.Path(t), storage.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.PutSubscription(ctx, waflow.Subscription{ID: "all", URL: "https://crm.example.com/h", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}); err != nil {
		t.Fatal(err)
	}
	d, err := events.NewDispatcher(store, nil, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	ce := consoleEventsOf(nil, d)
	change := console.BookingChange{Change: "cancelled", By: "ada", Booking: catalogstore.Booking{Ref: "BK-1"}}
	for range 2 {
		if err := ce.Emit(ctx, console.EventBookingChanged, change); err != nil {
			t.Fatal(err)
		}
	}
	if err := ce.Emit(ctx, console.EventBookingChanged, "not a change"); err == nil {
		t.Fatal("data of another type was emitted")
	}
	ds, err := store.Deliveries(ctx, waflow.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].MsgID != events.ID(events.BookingChanged, "BK-1", "cancelled") {
		t.Fatalf("deliveries = %+v, want one booking.changed for BK-1", ds)
	}
	if consoleEventsOf(nil, nil) != nil {
		t.Fatal("without a dispatcher the console got an event sink")
	}
}
