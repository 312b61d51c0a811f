package waflow

import (
	"context"
	"time"
)

// OutboxState is the sending state of an outbox message.
type OutboxState string

// The states of an outbox message.
const (
	// OutboxPending messages wait to be claimed, once NextAttemptAt has come.
	OutboxPending OutboxState = "pending"
	// OutboxSending messages are leased by a sender until LeaseUntil.
	OutboxSending OutboxState = "sending"
	// OutboxSent messages were accepted by the Graph API; WAMID is set.
	OutboxSent OutboxState = "sent"
	// OutboxDead messages failed on every attempt, or were refused by the
	// Graph API for good; LastError says why.
	OutboxDead OutboxState = "dead"
	// OutboxUnknown messages may have been delivered: a send reached Meta,
	// or may have, and its answer was lost, or a sender stopped while
	// sending. Meta has no idempotency key, so such a message is never sent
	// again automatically; LastError says what happened. Check the
	// conversation before sending it by hand.
	OutboxUnknown OutboxState = "unknown"
)

// OutboxMessage is a message waflow will send through the Graph API. Writing
// it to the outbox in the same place as the decision to send it, and sending
// it from there, means a crash never loses nor doubles a message.
type OutboxMessage struct {
	ID int64 // assigned by the store
	// IdempotencyKey names the message for its producer, such as
	// "confirm:<completion wamid>": enqueueing the same key twice stores one
	// message, so a producer that runs twice sends once.
	IdempotencyKey string
	// To is the recipient: their phone number, or their business-scoped
	// user id (BSUID) when no phone number is known (protocol.md 4.2).
	To string
	// TokenID is the flow token the message carries, if any; when the
	// message is sent its wamid is recorded on that token too.
	TokenID string
	// Flow is the flow the message opens (a flow message, or a template
	// with a flow button), empty for any other message. While Meta reports
	// that flow BLOCKED or THROTTLED (FlowHealth), the message waits.
	Flow string
	// Payload is the Graph API message body, as JSON.
	Payload []byte

	State         OutboxState
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	LeaseOwner    string
	LeaseUntil    time.Time
	WAMID         string // the wamid the Graph API gave, once sent
	CreatedAt     time.Time
	SentAt        time.Time
}

// OutboxStore is the durable queue of messages to send.
type OutboxStore interface {
	// Enqueue stores m as OutboxPending, due at once (NextAttemptAt =
	// CreatedAt; a zero CreatedAt is set to the store's clock), and returns
	// it with its ID and true. When a message with m.IdempotencyKey exists
	// it stores nothing and returns that message and false. It returns
	// ErrInvalid when IdempotencyKey, To or Payload is empty, and
	// ErrNotFound when TokenID names no token.
	Enqueue(ctx context.Context, m OutboxMessage) (OutboxMessage, bool, error)

	// ClaimOutbox leases up to max messages that are due, oldest first,
	// exactly as InboxStore.ClaimEvents does for events: each becomes
	// OutboxSending under owner's lease, with Attempts incremented.
	ClaimOutbox(ctx context.Context, owner string, max int, lease time.Duration) ([]OutboxMessage, error)

	// MarkSent settles message id, leased by owner, as OutboxSent with wamid
	// and SentAt = at. In the same transaction it records wamid as the
	// MessageID of the message's token, when it has one that records no
	// message yet. It returns ErrNotFound for an unknown id, ErrLeaseLost
	// when the message is not OutboxSending under owner's lease, and
	// ErrInvalid for an empty wamid.
	MarkSent(ctx context.Context, id int64, owner, wamid string, at time.Time) error

	// RetryOutbox returns message id, leased by owner, to OutboxPending with
	// LastError and NextAttemptAt = next. Errors as MarkSent.
	RetryOutbox(ctx context.Context, id int64, owner, lastError string, next time.Time) error

	// FailOutbox settles message id, leased by owner, as OutboxDead with
	// LastError. Errors as MarkSent.
	FailOutbox(ctx context.Context, id int64, owner, lastError string) error

	// MarkUnknown settles message id, leased by owner, as OutboxUnknown
	// with LastError: a final state, never claimed again. Errors as
	// MarkSent.
	MarkUnknown(ctx context.Context, id int64, owner, lastError string) error

	// OutboxMessage returns message id, or ErrNotFound.
	OutboxMessage(ctx context.Context, id int64) (OutboxMessage, error)

	// OutboxMessageByKey returns the message with idempotencyKey, or
	// ErrNotFound.
	OutboxMessageByKey(ctx context.Context, idempotencyKey string) (OutboxMessage, error)
}
