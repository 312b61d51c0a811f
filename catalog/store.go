package catalog

import (
	"context"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
)

// Store is what the catalog's flows keep their data in: each flow's tables
// (package catalogstore), and the outbox for the messages they send (a
// booking confirmation), of which they only enqueue.
type Store interface {
	catalogstore.Store
	// Enqueue is waflow.OutboxStore's.
	Enqueue(ctx context.Context, m waflow.OutboxMessage) (waflow.OutboxMessage, bool, error)
}
