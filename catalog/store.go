package catalog

import "github.com/waflow/waflow"

// Store is what the catalog's flows keep their data in: each flow's tables,
// and the outbox for the messages they send (a booking confirmation).
type Store interface {
	waflow.CatalogStore
	waflow.OutboxStore
}
