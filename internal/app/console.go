package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/console"
	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/webhook"
)

// ConsoleConfig turns on the browser console at /console/ (package
// console, docs/console.md).
type ConsoleConfig struct {
	// RequireAccount hides the console (404) while no account exists:
	// production servers set it.
	RequireAccount bool
	// FlushInterval is how often this replica adds its per-minute figures
	// to the database; 5 s when zero.
	FlushInterval time.Duration
	// Events, when set, receives booking.changed when a booking is
	// cancelled.
	Events console.Events
	// Deliveries are more lists for the deliveries page.
	Deliveries []console.DeliverySource
	// WABAID, when set, shows the flows' deployment records there.
	WABAID string
}

// startConsole builds the console and starts its recorder; a.recorder
// then counts every endpoint request and completion.
func (a *App) startConsole(ctx context.Context, cfg Config) error {
	cc := cfg.Console
	if cc == nil {
		return nil
	}
	a.recorder = console.NewRecorder(a.store, nil, a.log.With("component", "console"))
	settings := cfg.CatalogSettings
	if settings == nil {
		var err error
		if settings, err = catalog.DefaultSettings(); err != nil {
			return err
		}
	}
	var flows []console.Flow
	for _, f := range a.flows.Flows() {
		cf := console.Flow{Name: f.Name, Title: f.Title, Origin: f.Origin, Endpoint: f.Endpoint != nil, Spec: f.Spec,
			ContentHash: deploy.ContentHash(f.Source)}
		if f.Spec != nil {
			for _, p := range flowjson.Validate(f.Spec) {
				cf.Findings = append(cf.Findings, p.String())
			}
		}
		if a.preview != nil {
			cf.PreviewURL = "/preview/flow/" + f.Name
		}
		flows = append(flows, cf)
	}
	var cal console.Calendar
	if a.flows.Flow("appointment_booking") != nil {
		cal = settings.BookingCalendar()
	}
	var err error
	a.console, err = console.New(console.Config{
		Store:          a.store,
		Flows:          flows,
		Calendar:       cal,
		Events:         consoleEventsOf(cc.Events, a.events),
		Deliveries:     cc.Deliveries,
		WABAID:         cc.WABAID,
		Send:           a.sendFlow(cc.WABAID),
		RequireAccount: cc.RequireAccount,
		Secure:         cfg.TLS != nil,
		Recorder:       a.recorder,
		Logger:         a.log.With("component", "console"),
	})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.recorder.Run(rctx, cc.FlushInterval)
	}()
	a.stopConsole = func() { cancel(); <-done }
	return nil
}

// countCompletions counts each completion handled into the console's
// figures.
func (a *App) countCompletions(flow string, h webhook.CompletionHandler) webhook.CompletionHandler {
	return func(ctx context.Context, c webhook.Completed) error {
		err := h(ctx, c)
		if err == nil {
			a.recorder.ObserveCompletion(flow)
		}
		return err
	}
}

// HasConsole reports whether /console/ is served.
func (a *App) HasConsole() bool { return a.console != nil }

// consoleRoutes is the console's route for the server, or nil.
func (a *App) consoleRoutes() map[string]http.Handler {
	if a.console == nil {
		return nil
	}
	return map[string]http.Handler{console.Prefix: a.console}
}

// sendFlow queues a flow's interactive message in the outbox, with a
// recorded flow token, as "waflow send" sends it: the deployed flow's id
// when the WABA has a deployment record, its name otherwise; a flow with
// a data endpoint opens with data_exchange (its INIT answers the first
// screen). The outbox worker sends it when the Graph API is configured.
func (a *App) sendFlow(wabaID string) func(ctx context.Context, flow, to string) (int64, error) {
	return func(ctx context.Context, flow, to string) (int64, error) {
		f := a.flows.Flow(flow)
		if f == nil {
			return 0, fmt.Errorf("no flow named %q", flow)
		}
		m := &graph.FlowMessage{To: to, Body: f.Title, CTA: "Open", FlowName: flow}
		if f.Endpoint != nil {
			m.Action = graph.ActionDataExchange
		}
		if wabaID != "" {
			if d, err := a.store.FlowDeployment(ctx, wabaID, flow); err == nil {
				m.FlowID, m.FlowName = d.FlowID, ""
			}
		}
		tok, rec, err := a.tokens.Issue(ctx, flow, to)
		if err != nil {
			return 0, err
		}
		m.Token = tok
		payload, err := graph.EncodeMessage(m)
		if err != nil {
			return 0, err
		}
		msg, _, err := a.store.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "console-send:" + rec.ID, To: to, TokenID: rec.ID, Payload: payload})
		if err != nil {
			return 0, err
		}
		if a.outbox != nil {
			a.outbox.Notify()
		}
		return msg.ID, nil
	}
}

// consoleEventsOf is the console's event sink: the configured one, else the
// server's events (booking.changed to the business's subscriptions).
func consoleEventsOf(configured console.Events, d *events.Dispatcher) console.Events {
	if configured != nil {
		return configured
	}
	if d == nil {
		return nil
	}
	return consoleEvents{d}
}
