package catalog

import (
	"context"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
)

// enqueue puts a text message to the user who completed c in the outbox,
// quoting their completion, once per completion.
func (e *env) enqueue(ctx context.Context, c Completion, text string) error {
	to := c.WAID
	if to == "" {
		to = c.Token.WAID
	}
	body, err := graph.EncodeMessage(&graph.TextMessage{To: to, Body: text, ReplyTo: c.MessageID})
	if err != nil {
		return err
	}
	_, created, err := e.store.Enqueue(ctx, waflow.OutboxMessage{
		IdempotencyKey: "confirm:" + c.MessageID,
		To:             to,
		TokenID:        c.Token.ID,
		Payload:        body,
	})
	if err == nil && created && e.onEnqueue != nil {
		e.onEnqueue()
	}
	return err
}
