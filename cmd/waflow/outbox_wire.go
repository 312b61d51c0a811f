package main

import (
	"context"
	"fmt"
	"time"

	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/outbox"
)

// startOutbox starts the worker that sends the outbox's messages through
// the Graph API, when serve runs. Without an access token or a phone number
// id it does not fail the server: it says once, plainly, that messages wait
// in the outbox and why. Any other Graph setting that is wrong fails it.
//
// The worker stops when ctx is done; backend.Close waits for it to settle
// the send in flight before it closes the store, so no outcome is lost to a
// closed database.
func (b *backend) startOutbox(ctx context.Context, cfg *appConfig) error {
	g := &cfg.graph
	var why string
	switch {
	case g.accessToken == "":
		why = "no Graph API access token is configured (WAFLOW_GRAPH_ACCESS_TOKEN_FILE)"
	case g.phoneNumberID == "":
		why = "no phone number id is configured (WAFLOW_PHONE_NUMBER_ID)"
	}
	if why != "" {
		b.log.Warn("outbox: messages the flows send (such as booking confirmations) wait in the outbox and are not sent, because " +
			why + "; they are sent, oldest first, once it is set and waflow restarts")
		return nil
	}
	timeout, err := g.requestTimeout()
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	// The outbox keeps its own retry schedule: the client only rides out a
	// short hiccup, well inside the worker's send timeout (two attempts
	// and one wait of at most 10s).
	client, err := g.newClient(b.log, &graph.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Second, MaxDelay: 10 * time.Second, Jitter: 0.5})
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	w, err := outbox.New(outbox.Config{
		Store:         b.store,
		Sender:        client,
		PhoneNumberID: g.phoneNumberID,
		SendTimeout:   2*timeout + 30*time.Second,
		Lease:         2*timeout + 5*time.Minute,
		Logger:        b.log,
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
	b.outbox = w
	b.stopOutbox = func() { cancel(); <-done }
	b.log.Info("outbox: sending", "phone_number_id", g.phoneNumberID, "graph_version", client.Version())
	return nil
}
