package waflow

import (
	"context"
	"time"
)

// EventKind says what a webhook inbox event is, for routing and metrics.
type EventKind string

// The kinds of webhook events the receiver stores.
const (
	// EventCompletion is a messages webhook carrying an nfm_reply: a user
	// completed a flow (protocol.md 4.2).
	EventCompletion EventKind = "completion"
	// EventMessage is any other incoming message (text, image, button...).
	EventMessage EventKind = "message"
	// EventStatus is a delivery status of a message we sent (sent,
	// delivered, read, failed).
	EventStatus EventKind = "status"
	// EventFlows is a flows webhook: a status change or a health alert of a
	// flow (protocol.md 4.3).
	EventFlows EventKind = "flows"
	// EventOther is any other change (another field, or a value with
	// neither messages nor statuses), stored so that nothing is lost.
	EventOther EventKind = "other"
)

// InboxState is the processing state of an inbox event.
type InboxState string

// The states of an inbox event. Pending and processing are live; done,
// rejected and dead are final.
const (
	// InboxPending events wait to be claimed, once NextAttemptAt has come.
	InboxPending InboxState = "pending"
	// InboxProcessing events are leased by a worker until LeaseUntil; an
	// expired lease (a crashed worker) makes the event claimable again.
	InboxProcessing InboxState = "processing"
	// InboxDone events were acted on; Result says what was done.
	InboxDone InboxState = "done"
	// InboxRejected events can never be acted on (an unknown or forged flow
	// token, a replayed completion, a response_json that is not JSON, values
	// that fail their checks, a completion its handler rejected with
	// ErrRejected); Result says why. They are not retried.
	InboxRejected InboxState = "rejected"
	// InboxDead events failed on every attempt; Result and LastError say
	// why. They wait for an operator.
	InboxDead InboxState = "dead"
)

// Final reports whether s is a final state, one a worker settles an event in.
func (s InboxState) Final() bool {
	return s == InboxDone || s == InboxRejected || s == InboxDead
}

// InboxEvent is one webhook event, stored before the webhook is answered and
// processed afterwards by a worker. A webhook POST with several entries,
// changes or messages gives one event each.
type InboxEvent struct {
	ID int64 // assigned by the store, increasing in insertion order
	// DedupeKey identifies the event across WhatsApp's retries and
	// duplicates: the message wamid, or for a flows event the key of
	// protocol.md 4.1. The store keeps one event per key.
	DedupeKey string
	Kind      EventKind
	// Payload is the event as JSON, built from the bytes WhatsApp sent
	// (package webhook defines its layout).
	Payload    []byte
	ReceivedAt time.Time

	State         InboxState
	Attempts      int       // claims so far, counting the one in progress
	LastError     string    // why the last attempt failed, if one did
	Result        string    // what the final state means, set when settled
	NextAttemptAt time.Time // when a pending event becomes claimable
	LeaseOwner    string    // the worker holding a processing event
	LeaseUntil    time.Time // when that lease runs out
	ProcessedAt   time.Time // when the event reached its final state
}

// InboxFilter selects events for InboxEvents. Nil and zero fields match
// everything.
type InboxFilter struct {
	State   *InboxState
	Kind    *EventKind
	AfterID int64 // only events with a larger ID, for paging
	Limit   int   // at most this many; zero means 100
}

// InboxStats counts the live and dead events of an inbox, for the inbox
// depth gauge. Done and rejected events are not counted: they only grow.
type InboxStats struct {
	Pending    int64
	Processing int64
	Dead       int64
}

// InboxStore is the durable webhook inbox.
type InboxStore interface {
	// AddEvents stores events, all of them or none, in state InboxPending
	// with NextAttemptAt = ReceivedAt. An event whose DedupeKey is already
	// stored, or repeated earlier in events, is skipped; the number of events
	// actually added is returned. When AddEvents returns nil the events are
	// committed, as durably as the driver's documented setting, so the
	// webhook can be answered 200. A zero ReceivedAt is set to the store's
	// clock. It returns ErrInvalid when an event has an empty DedupeKey,
	// Kind or Payload.
	AddEvents(ctx context.Context, events []InboxEvent) (added int, err error)

	// ClaimEvents leases up to max events that are due, oldest first:
	// pending events whose NextAttemptAt is not after the store's clock, and
	// processing events whose lease has run out. Each claimed event becomes
	// InboxProcessing with LeaseOwner = owner, LeaseUntil = now + lease and
	// Attempts incremented. While a lease holds no other caller, in this
	// process or another sharing the database, claims the event. It returns
	// an empty slice when nothing is due, and ErrInvalid for an empty owner
	// or a non-positive max or lease.
	ClaimEvents(ctx context.Context, owner string, max int, lease time.Duration) ([]InboxEvent, error)

	// FinishEvent settles event id, leased by owner, in the final state
	// (InboxDone, InboxRejected or InboxDead) with result. It returns
	// ErrNotFound for an unknown id, ErrLeaseLost when the event is not
	// InboxProcessing under owner's lease (whether or not it has run out,
	// as long as nobody else claimed it), and ErrInvalid for a state that
	// is not final.
	FinishEvent(ctx context.Context, id int64, owner string, state InboxState, result string) error

	// RetryEvent returns event id, leased by owner, to InboxPending with
	// LastError = lastError and NextAttemptAt = next. It returns ErrNotFound
	// and ErrLeaseLost as FinishEvent does.
	RetryEvent(ctx context.Context, id int64, owner string, lastError string, next time.Time) error

	// InboxEvent returns event id, or ErrNotFound.
	InboxEvent(ctx context.Context, id int64) (InboxEvent, error)

	// InboxEventByKey returns the event with dedupeKey, or ErrNotFound.
	InboxEventByKey(ctx context.Context, dedupeKey string) (InboxEvent, error)

	// InboxEvents returns the events f selects, by increasing ID.
	InboxEvents(ctx context.Context, f InboxFilter) ([]InboxEvent, error)

	// InboxStats counts pending, processing and dead events.
	InboxStats(ctx context.Context) (InboxStats, error)
}
