package waflow

import "context"

// Store is everything waflow keeps: the packages sqlite and postgres
// implement it, and package storetest is the conformance suite both pass.
//
// A Store is safe for concurrent use. The PostgreSQL store is also safe for
// several processes sharing one database: every compare-and-set and claim is
// guarded by the database, never by an in-process lock alone.
type Store interface {
	TokenStore
	InboxStore
	CompletionStore
	OutboxStore
	CatalogStore
	DeploymentStore

	// Ping checks that the database answers, for a readiness probe.
	Ping(ctx context.Context) error
	// Close releases the database; closing again does nothing. Other calls
	// after Close return ErrClosed.
	Close() error
}
