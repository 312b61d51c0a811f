package waflow

import (
	"context"
	"time"
)

// Completion is a completed flow: the nfm_reply a user sent when they
// pressed the terminal button (protocol.md 4.2), correlated with the flow
// token it answers.
type Completion struct {
	// MessageID is the wamid of the nfm_reply message: the completion's key.
	MessageID string
	TokenID   string // the FlowToken it used
	Flow      string // the flow that was completed
	WAID      string // the user who completed it
	// ContextID is the wamid of the flow message the user answered, when
	// WhatsApp sent it.
	ContextID string
	// Response is response_json, the JSON object of submitted values
	// (including flow_token, which the webhook receiver redacted: a stored
	// completion never holds a live token). It holds the user's data: never
	// log it.
	Response []byte
	// CompletedAt is when the user completed the flow (the message
	// timestamp), not when the webhook arrived.
	CompletedAt time.Time
	RecordedAt  time.Time // when the store recorded it
	// HandledAt is when the flow's completion handler succeeded; zero until
	// then.
	HandledAt time.Time
	// InboxEventID is the inbox event it came from; zero when recorded
	// otherwise.
	InboxEventID int64
}

// CompletionFilter selects completions for Completions. Zero fields match
// everything.
type CompletionFilter struct {
	Flow  string
	Limit int // at most this many; zero means 100
}

// CompletionStore records flow completions.
type CompletionStore interface {
	// RecordCompletion marks c.TokenID used at c.CompletedAt, exactly as
	// MarkTokenUsed does, and stores c, in one transaction: a completion is
	// recorded if and only if it used its token. A zero RecordedAt is set to
	// the store's clock; HandledAt is ignored.
	//
	// When the token was already used by a completion with the same
	// MessageID (WhatsApp's duplicate, or a worker retrying after a crash),
	// it changes nothing and returns the stored completion and nil, so the
	// caller can see whether HandledAt is set and finish the job.
	//
	// It returns ErrNotFound for an unknown token, ErrTokenUsed when the
	// token was used otherwise (another completion, or MarkTokenUsed),
	// ErrTokenExpired when CompletedAt is not before the token's expiry,
	// ErrConflict when MessageID is recorded for another token, and
	// ErrInvalid when MessageID, TokenID, Flow or Response is empty or
	// CompletedAt is zero.
	RecordCompletion(ctx context.Context, c Completion) (Completion, error)

	// DiscardCompletion undoes RecordCompletion for a completion that its
	// handler rejected (ErrRejected): in one transaction it deletes
	// completion messageID and returns the token it used to TokenIssued,
	// with a zero UsedAt, so that nothing of the rejected completion stays
	// but the inbox event that says why. It returns ErrNotFound for an
	// unknown completion and ErrConflict when the completion's HandledAt is
	// set: a completion that was acted on is never undone.
	DiscardCompletion(ctx context.Context, messageID string) error

	// MarkCompletionHandled sets the HandledAt of completion messageID to
	// at, unless it is already set (then it does nothing). It returns
	// ErrNotFound for an unknown completion.
	MarkCompletionHandled(ctx context.Context, messageID string, at time.Time) error

	// Completion returns the completion with messageID, or ErrNotFound.
	Completion(ctx context.Context, messageID string) (Completion, error)

	// CompletionByToken returns the completion that used token tokenID, or
	// ErrNotFound.
	CompletionByToken(ctx context.Context, tokenID string) (Completion, error)

	// Completions returns the completions f selects, most recently recorded
	// first.
	Completions(ctx context.Context, f CompletionFilter) ([]Completion, error)
}
