package catalog

import (
	"context"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
)

// enqueue puts a text message to to in the outbox once per key (a second
// call with the key stores nothing), quoting message replyTo when it is not
// empty.
func (e *env) enqueue(ctx context.Context, key, to, tokenID, replyTo, text string) error {
	m := &graph.TextMessage{To: to, Body: text, ReplyTo: replyTo}
	if waflow.IsBSUID(to) {
		// A user known only by their business-scoped user id is reached
		// through recipient (protocol.md 4.2).
		m.To, m.Recipient = "", to
	}
	body, err := graph.EncodeMessage(m)
	if err != nil {
		return err
	}
	_, created, err := e.store.Enqueue(ctx, waflow.OutboxMessage{
		IdempotencyKey: key,
		To:             to,
		TokenID:        tokenID,
		Payload:        body,
	})
	if err == nil && created && e.onEnqueue != nil {
		e.onEnqueue()
	}
	return err
}
