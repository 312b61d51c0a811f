// Package events sends what happens in waflow to the business's own
// systems, and relays Meta's webhooks to the business's existing handler.
//
// An Event (a completed flow, a booking, a flow's health alert, a message
// that could not be sent) is emitted through an Emitter. The Dispatcher
// stores one delivery per subscription that wants the event's type before
// Emit returns; the Sender then POSTs each delivery from the store, signed
// with Standard Webhooks (package stdwebhooks) under the event's stable id
// (webhook-id, "msg_..."), retrying on a schedule of at least three days
// (DefaultSchedule) and recording every attempt; a delivery that fails
// every attempt is kept as dead for "waflow events redeliver".
//
// The Relay stores every signed webhook Meta sends, byte for byte, before
// waflow answers Meta; the Sender POSTs it to the business's handler with
// a fresh X-Hub-Signature-256 (package signature), in order per WhatsApp
// user. See docs/events.md.
//
// Payload values (responses, names) are sent, never logged.
package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/waflow/waflow"
)

// The event types waflow emits.
const (
	// FlowCompleted: a user completed a flow; data holds the response.
	FlowCompleted = "flow.completed"
	// BookingCreated: the appointment_booking flow booked a slot.
	BookingCreated = "booking.created"
	// BookingChanged: a booking was changed or cancelled (the console).
	BookingChanged = "booking.changed"
	// MessageFailed: an outbox message could not be delivered (dead).
	MessageFailed = "message.failed"
	// FlowStatusChanged: Meta changed a flow's status (protocol.md 4.3).
	FlowStatusChanged = "flow.status_changed"
	// FlowClientErrorRate, FlowEndpointErrorRate, FlowEndpointLatency,
	// FlowEndpointAvailability and FlowVersionExpiry are Meta's flows
	// health alerts (protocol.md 4.3).
	FlowClientErrorRate      = "flow.client_error_rate"
	FlowEndpointErrorRate    = "flow.endpoint_error_rate"
	FlowEndpointLatency      = "flow.endpoint_latency"
	FlowEndpointAvailability = "flow.endpoint_availability"
	FlowVersionExpiry        = "flow.version_expiry_warning"
)

// Types are the event types waflow emits, for documentation and for
// checking subscriptions.
var Types = []string{FlowCompleted, BookingCreated, BookingChanged, MessageFailed, FlowStatusChanged,
	FlowClientErrorRate, FlowEndpointErrorRate, FlowEndpointLatency, FlowEndpointAvailability, FlowVersionExpiry}

// Event is something that happened, to tell the business about.
type Event struct {
	// ID is stable: the same happening always gets the same id (use ID),
	// so a producer that runs twice emits one event. It is the webhook-id
	// of every attempt.
	ID string
	// Type is one of Types (or another dotted name of the caller's).
	Type string
	// Time is when it happened; the dispatcher's clock when zero.
	Time time.Time
	// Data is the event's body, marshalled to JSON.
	Data any
}

// Payload is the JSON body an event is sent as (the Standard Webhooks
// layout: type, timestamp, data).
type Payload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// ID returns a stable event id, "msg_" and 32 hex digits of the SHA-256 of
// parts: the same parts always give the same id.
func ID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return "msg_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Emitter takes events to deliver. Emit returns once the event is stored
// for every subscription that wants it (or none does): from then on it is
// delivered at least once, across crashes.
type Emitter interface {
	Emit(ctx context.Context, e Event) error
}

// DispatchStore is what a Dispatcher needs of the store.
type DispatchStore interface {
	Subscriptions(ctx context.Context) ([]waflow.Subscription, error)
	AddDeliveries(ctx context.Context, ds []waflow.Delivery) (int, error)
}

// Dispatcher is the Emitter that stores one delivery per subscription.
type Dispatcher struct {
	store  DispatchStore
	notify func()
	now    func() time.Time
	log    *slog.Logger
}

// NewDispatcher returns a Dispatcher over store; notify, when not nil, is
// called after deliveries are stored (Sender.Notify wakes the sender).
func NewDispatcher(store DispatchStore, notify func(), log *slog.Logger) (*Dispatcher, error) {
	if store == nil {
		return nil, errors.New("events: no store")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Dispatcher{store: store, notify: notify, now: time.Now, log: log}, nil
}

// Emit implements Emitter.
func (d *Dispatcher) Emit(ctx context.Context, e Event) error {
	if !strings.HasPrefix(e.ID, "msg_") || len(e.ID) < 8 {
		return waflow.Invalidf("events: event id %q does not start with msg_", e.ID)
	}
	if e.Type == "" {
		return waflow.Invalidf("events: event %s has no type", e.ID)
	}
	subs, err := d.store.Subscriptions(ctx)
	if err != nil {
		return fmt.Errorf("events: reading the subscriptions: %w", err)
	}
	var ds []waflow.Delivery
	var body []byte
	for _, s := range subs {
		if !s.Wants(e.Type) {
			continue
		}
		if body == nil {
			if body, err = encode(e, d.now); err != nil {
				return err
			}
		}
		ds = append(ds, waflow.Delivery{MsgID: e.ID, Target: s.ID, Type: e.Type, Payload: body})
	}
	if len(ds) == 0 {
		return nil
	}
	added, err := d.store.AddDeliveries(ctx, ds)
	if err != nil {
		return fmt.Errorf("events: storing event %s: %w", e.ID, err)
	}
	d.log.Debug("event stored", "id", e.ID, "type", e.Type, "subscriptions", len(ds), "new", added, "bytes", len(body))
	if added > 0 && d.notify != nil {
		d.notify()
	}
	return nil
}

func encode(e Event, now func() time.Time) ([]byte, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("events: event %s (%s): data is not JSON: %w", e.ID, e.Type, err)
	}
	t := e.Time
	if t.IsZero() {
		t = now()
	}
	return json.Marshal(Payload{ID: e.ID, Type: e.Type, Timestamp: t.UTC(), Data: data})
}
