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
	body, err := graph.EncodeMessage(&graph.TextMessage{To: to, Body: text, ReplyTo: replyTo})
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
