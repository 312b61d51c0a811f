package app

import (
	"context"
	"time"

	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/outbox"
)

// OutboxConfig is how the outbox's messages are sent.
type OutboxConfig struct {
	// Client sends through the Graph API. The outbox keeps its own retry
	// schedule: give it a client that only rides out a short hiccup.
	Client *graph.Client
	// PhoneNumberID is the business phone number messages are sent from.
	PhoneNumberID string
	// GraphTimeout is the client's request timeout; the worker's send
	// timeout and lease are derived from it.
	GraphTimeout time.Duration
}

// startOutbox starts the worker that sends the outbox's messages through
// the Graph API. Without a configuration it does not fail the server: it
// says once, plainly, that messages wait in the outbox and why.
//
// The worker stops when ctx is done; Close waits for it to settle the send
// in flight before it closes the store, so no outcome is lost to a closed
// database.
func (a *App) startOutbox(ctx context.Context, cfg *OutboxConfig, why string) error {
	if cfg == nil {
		a.log.Warn("outbox: messages the flows send (such as booking confirmations) wait in the outbox and are not sent, because " +
			why + "; they are sent, oldest first, once it is set and waflow restarts")
		return nil
	}
	w, err := outbox.New(outbox.Config{
		Store:         a.store,
		Sender:        cfg.Client,
		PhoneNumberID: cfg.PhoneNumberID,
		SendTimeout:   2*cfg.GraphTimeout + 30*time.Second,
		Lease:         2*cfg.GraphTimeout + 5*time.Minute,
		Logger:        a.log,
		OnResult:      a.emitDeadMessage,
	})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	wctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	a.outbox = w
	a.stopOutbox = func() { cancel(); <-done }
	a.log.Info("outbox: sending", "phone_number_id", cfg.PhoneNumberID, "graph_version", cfg.Client.Version())
	return nil
}
