package app

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/outbox"
	"github.com/waflow/waflow/webhook"
)

// EventsConfig is how events reach the business and webhooks are relayed
// (package events, docs/events.md). The zero value sends events to the
// stored subscriptions with the default schedule and relays nothing.
type EventsConfig struct {
	// Subscriptions, from the events file, are stored at start (replacing
	// those with the same ids).
	Subscriptions []waflow.Subscription
	// RelayURL, when set, receives every signed webhook Meta sends, byte
	// for byte, signed again with the first app secret.
	RelayURL string
	// RelaySkipFlowEvents relays only webhooks that are not all flow
	// events (events.RelayConfig.SkipFlowEvents).
	RelaySkipFlowEvents bool
	// Schedule, Timeout, Lease and PollInterval shape the sender
	// (events.SenderConfig); its defaults when zero.
	Schedule     []time.Duration
	Timeout      time.Duration
	Lease        time.Duration
	PollInterval time.Duration
}

// startEvents stores the configured subscriptions and starts the sender;
// with a relay URL it builds the relay the webhook receiver hands every
// signed body to. Close stops the sender before the store closes.
func (a *App) startEvents(ctx context.Context, cfg EventsConfig, appSecrets [][]byte) error {
	if err := events.Apply(ctx, a.store, cfg.Subscriptions); err != nil {
		return err
	}
	var relaySecret []byte
	if cfg.RelayURL != "" && len(appSecrets) > 0 {
		relaySecret = appSecrets[0]
	}
	sender, err := events.NewSender(events.SenderConfig{
		Store:        a.store,
		RelayURL:     cfg.RelayURL,
		RelaySecret:  relaySecret,
		Schedule:     cfg.Schedule,
		Timeout:      cfg.Timeout,
		Lease:        cfg.Lease,
		PollInterval: cfg.PollInterval,
		Logger:       a.log.With("component", "events"),
	})
	if err != nil {
		return err
	}
	if a.events, err = events.NewDispatcher(a.store, sender.Notify, a.log.With("component", "events")); err != nil {
		return err
	}
	if cfg.RelayURL != "" {
		if a.relay, err = events.NewRelay(events.RelayConfig{Store: a.store, Notify: sender.Notify,
			SkipFlowEvents: cfg.RelaySkipFlowEvents, Logger: a.log.With("component", "relay")}); err != nil {
			return err
		}
		a.log.Info("relay: every signed webhook is passed on", "flow_events", !cfg.RelaySkipFlowEvents)
	}
	done := make(chan struct{})
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(done)
		sender.Run(sctx)
	}()
	a.stopEvents = func() { cancel(); <-done }
	a.log.Info("events: sending", "subscriptions_from_file", len(cfg.Subscriptions))
	return nil
}

// Events is the server's event emitter (the console emits booking.changed
// through it).
func (a *App) Events() events.Emitter { return a.events }

// SubscriptionsHandler is the JSON API of event subscriptions, for the
// HTTP API to mount under its authentication (events.NewHandler).
func (a *App) SubscriptionsHandler() http.Handler {
	return events.NewHandler(a.store, a.log.With("component", "events"))
}

// keepForRelay is the receiver's Relay hook; nil without a relay URL.
func (a *App) keepForRelay() func(ctx context.Context, body []byte, evs []waflow.InboxEvent) error {
	if a.relay == nil {
		return nil
	}
	return a.relay.Keep
}

// emitCompletion emits flow.completed after h handled a completion: an
// emit that fails fails the handler, so the worker retries both (the
// event's id is the completion's wamid: emitted once).
func (a *App) emitCompletion(h webhook.CompletionHandler) webhook.CompletionHandler {
	return func(ctx context.Context, c webhook.Completed) error {
		if err := h(ctx, c); err != nil {
			return err
		}
		return a.events.Emit(ctx, events.Event{
			ID:   events.ID(events.FlowCompleted, c.MessageID),
			Type: events.FlowCompleted,
			Time: c.CompletedAt,
			Data: map[string]any{
				"flow": c.Flow, "message_id": c.MessageID, "wa_id": c.WAID, "user_id": c.UserID,
				"context_id": c.ContextID, "completed_at": c.CompletedAt, "response": c.Values,
			},
		})
	}
}

// flowsTypes are the event types of Meta's flows webhooks.
var flowsTypes = map[string]string{
	webhook.FlowStatusChange:         events.FlowStatusChanged,
	webhook.ClientErrorRate:          events.FlowClientErrorRate,
	webhook.EndpointErrorRate:        events.FlowEndpointErrorRate,
	webhook.EndpointLatency:          events.FlowEndpointLatency,
	webhook.EndpointAvailability:     events.FlowEndpointAvailability,
	webhook.FlowVersionExpiryWarning: events.FlowVersionExpiry,
}

// onFlowsEvent is the webhook worker's OnFlowsEvent: record stores the
// flow's health (a BLOCKED or THROTTLED flow's outbox messages wait), then
// the event goes to the business. An error of either retries the event.
func (a *App) onFlowsEvent(record func(context.Context, *webhook.FlowsEvent) error) func(context.Context, *webhook.FlowsEvent) error {
	return func(ctx context.Context, fe *webhook.FlowsEvent) error {
		if err := record(ctx, fe); err != nil {
			return err
		}
		return a.emitFlowsEvent(ctx, fe)
	}
}

// emitFlowsEvent sends a flow's status change or health alert as an event (an error retries the inbox
// event; its id is stable, so it is emitted once).
func (a *App) emitFlowsEvent(ctx context.Context, fe *webhook.FlowsEvent) error {
	typ, ok := flowsTypes[fe.Event]
	if !ok {
		return nil
	}
	return a.events.Emit(ctx, events.Event{
		ID:   events.ID(typ, fe.FlowID, strconv.FormatInt(fe.Time.UnixNano(), 10), fe.NewStatus, fe.AlertState),
		Type: typ,
		Time: fe.Time,
		Data: flowsData(fe),
	})
}

// emitBooking is the catalog's OnBooked: booking.created, once per Ref.
func (a *App) emitBooking(ctx context.Context, b catalogstore.Booking) error {
	if a.events == nil {
		return nil
	}
	return a.events.Emit(ctx, events.Event{
		ID:   events.ID(events.BookingCreated, b.Ref),
		Type: events.BookingCreated,
		Time: b.CreatedAt,
		Data: map[string]any{"ref": b.Ref, "wa_id": b.WAID, "start": b.Start, "name": b.Name, "reason": b.Reason,
			"reminder": b.Reminder, "created_at": b.CreatedAt},
	})
}

// emitDeadMessage is the outbox worker's OnResult: a message settled as
// dead becomes message.failed. It runs after the settle: a crash between
// the two loses this one event (docs/events.md).
func (a *App) emitDeadMessage(r outbox.Result) {
	if r.Outcome != outbox.Dead || a.events == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := r.Message
	err := a.events.Emit(ctx, events.Event{
		ID:   events.ID(events.MessageFailed, strconv.FormatInt(m.ID, 10), m.IdempotencyKey),
		Type: events.MessageFailed,
		Data: map[string]any{"outbox_id": m.ID, "idempotency_key": m.IdempotencyKey, "to": m.To,
			"attempts": m.Attempts, "error": fmt.Sprint(r.Err)},
	})
	if err != nil {
		a.log.Error("events: message.failed not stored", "outbox_id", m.ID, "error", err)
	}
}

// flowsData is a flows event's data: Meta's fields, by Meta's names, those
// the event carries (protocol.md 4.3).
func flowsData(fe *webhook.FlowsEvent) map[string]any {
	d := map[string]any{"event": fe.Event, "flow_id": fe.FlowID, "message": fe.Message, "time": fe.Time}
	set := func(k string, v any, ok bool) {
		if ok {
			d[k] = v
		}
	}
	set("old_status", fe.OldStatus, fe.OldStatus != "")
	set("new_status", fe.NewStatus, fe.NewStatus != "")
	set("alert_state", fe.AlertState, fe.AlertState != "")
	set("threshold", fe.Threshold, fe.AlertState != "")
	switch fe.Event {
	case webhook.ClientErrorRate, webhook.EndpointErrorRate:
		d["error_rate"] = fe.ErrorRate
		errs := make([]map[string]any, 0, len(fe.Errors))
		for _, e := range fe.Errors {
			errs = append(errs, map[string]any{"error_type": e.Type, "error_rate": e.Rate, "error_count": e.Count})
		}
		d["errors"] = errs
	case webhook.EndpointLatency:
		d["p50_latency"], d["p90_latency"], d["requests_count"] = fe.P50Latency, fe.P90Latency, fe.RequestsCount
	case webhook.EndpointAvailability:
		d["availability"] = fe.Availability
	}
	set("warning", fe.Warning, fe.Warning != "")
	return d
}

// consoleEvents carries the console's booking.changed to the business as an
// event, with an id stable per booking and change (a retried cancel emits
// it once).
type consoleEvents struct{ d *events.Dispatcher }

// Emit implements console.Events.
func (c consoleEvents) Emit(ctx context.Context, eventType string, data any) error {
	bc, ok := data.(console.BookingChange)
	if !ok {
		return fmt.Errorf("events: the console emitted %s with %T data, not a console.BookingChange", eventType, data)
	}
	id := events.ID(eventType, bc.Booking.Ref, bc.Change)
	return c.d.Emit(ctx, events.Event{ID: id, Type: eventType, Data: data})
}
