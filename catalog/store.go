package catalog

import (
	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
)

// Store is what the catalog's flows keep their data in: each flow's tables
// (package catalogstore), and the outbox for the messages they send (a
// booking confirmation).
type Store interface {
	catalogstore.Store
	waflow.OutboxStore
}
