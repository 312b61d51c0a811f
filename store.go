package waflow

import "context"

// Store is what every flow needs kept: flow tokens, the webhook inbox,
// completions, the outbox, deployments, the users seen and the flows' health. The packages sqlite and postgres
// implement it, and package storetest is the conformance suite both pass.
// What one set of flows keeps of its own (the catalog's bookings, expenses
// ...) is that set's contract, not this one (see package
// catalog/catalogstore).
//
// A Store is safe for concurrent use. The PostgreSQL store is also safe for
// several processes sharing one database: every compare-and-set and claim is
// guarded by the database, never by an in-process lock alone.
type Store interface {
	TokenStore
	InboxStore
	CompletionStore
	OutboxStore
	DeploymentStore
	UserStore
	FlowHealthStore

	// Ping checks that the database answers, for a readiness probe.
	Ping(ctx context.Context) error
	// Close releases the database; closing again does nothing. Other calls
	// after Close return ErrClosed.
	Close() error
}
