package waflow

import (
	"context"
	"iter"
	"time"
)

// CompletionStatus says what waflow did with a completion.
type CompletionStatus string

// The statuses of a completion. Recorded, failed and handled completions
// used their flow token; rejected ones did not.
const (
	// CompletionRecorded: the completion used its token; its flow has no
	// handler, or the handler has not run yet.
	CompletionRecorded CompletionStatus = "recorded"
	// CompletionHandled: the flow's completion handler succeeded.
	CompletionHandled CompletionStatus = "handled"
	// CompletionFailed: the handler failed at its last attempt (Result
	// says why); the inbox event is retried, or was dead-lettered.
	CompletionFailed CompletionStatus = "failed"
	// CompletionRejected: waflow will never act on it (Result says why): a
	// completion of a flow sent by another system, a replayed or forged
	// token, values that fail their checks, or one its handler rejected.
	CompletionRejected CompletionStatus = "rejected"
)

// Completion is a completed flow: the nfm_reply a user sent when they
// pressed the terminal button (protocol.md 4.2), correlated with the flow
// token it answers. Every completion the webhook brings is kept, once,
// whether or not waflow could act on it: Status says what it did.
type Completion struct {
	// MessageID is the wamid of the nfm_reply message: the completion's key.
	MessageID string
	// TokenID is the id of the stored FlowToken it used, or, for a rejected
	// completion, the stored token it named; empty when it named none
	// (a token waflow did not issue, or none at all). The token itself is
	// never stored.
	TokenID string
	// Flow is the flow that was completed; empty for an unattributed
	// completion, one waflow cannot tie to a flow (a flow message sent by
	// another system, for one).
	Flow string
	WAID string // the user who completed it: their phone number; empty when Meta leaves it out
	// UserID is the user's business-scoped user id (BSUID), when Meta sent
	// it.
	UserID string
	// ParentUserID is the user's parent BSUID, when Meta sent one.
	ParentUserID string
	// Username is the user's WhatsApp username, when they adopted one.
	Username string
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
	// ReceivedAt is when its webhook arrived (the inbox event's
	// ReceivedAt); RecordedAt when zero.
	ReceivedAt time.Time
	RecordedAt time.Time // when the store recorded it
	// HandledAt is when the flow's completion handler succeeded; zero until
	// then.
	HandledAt time.Time
	// InboxEventID is the inbox event it came from; zero when recorded
	// otherwise.
	InboxEventID int64
	// Status says what waflow did with it, and Result why, for a rejected or
	// failed completion (it names fields, never submitted values).
	Status CompletionStatus
	Result string
}

// CompletionFilter selects completions for Completions. Zero fields match
// everything.
type CompletionFilter struct {
	Flow  string
	Limit int // at most this many; zero means 100
}

// CompletionRange selects the completions of one flow received in a span of
// time, for EachCompletion.
type CompletionRange struct {
	// Flow is the flow; empty selects the unattributed completions.
	Flow string
	// Since and Until bound ReceivedAt: Since <= ReceivedAt < Until. A zero
	// bound does not limit.
	Since, Until time.Time
	// After, when its ReceivedAt is set, starts the range after the
	// completion with that key, in EachCompletion's order: it resumes a
	// listing where a page of it ended (package api's cursor).
	After CompletionKey
	// Status, when set, selects the completions with that Status only.
	Status CompletionStatus
	// Limit, when positive, ends the range after that many completions, and
	// the store reads no more than that from the database.
	Limit int
}

// CompletionKey is the place of a completion in EachCompletion's order.
type CompletionKey struct {
	ReceivedAt time.Time
	MessageID  string
}

// CompletionStore records flow completions.
type CompletionStore interface {
	// RecordCompletion marks c.TokenID used at c.CompletedAt, exactly as
	// MarkTokenUsed does, and stores c with Status CompletionRecorded, in
	// one transaction: a completion is recorded if and only if it used its
	// token. A zero RecordedAt is set to the store's clock and a zero
	// ReceivedAt to RecordedAt; HandledAt, Status and Result are ignored.
	//
	// When the token was already used by a completion with the same
	// MessageID (WhatsApp's duplicate, or a worker retrying after a crash),
	// it changes nothing and returns the stored completion and nil, so the
	// caller can see whether HandledAt is set and finish the job.
	//
	// It returns ErrNotFound for an unknown token, ErrTokenUsed when the
	// token was used otherwise (another completion, or MarkTokenUsed),
	// ErrTokenExpired when CompletedAt is not before the token's expiry,
	// ErrConflict when MessageID is stored for another token, ErrRejected
	// (with the stored completion) when MessageID is stored as rejected, and
	// ErrInvalid when MessageID, TokenID, Flow or Response is empty or
	// CompletedAt is zero.
	RecordCompletion(ctx context.Context, c Completion) (Completion, error)

	// KeepCompletion stores c, a completion waflow rejected without using a
	// token, so that it is kept: c.Status must be CompletionRejected and
	// c.Result should say why. c.Flow is empty when the completion cannot
	// be attributed to a flow; c.TokenID names a stored token or is empty.
	// Zero RecordedAt and ReceivedAt are set as RecordCompletion sets them.
	// When MessageID is stored already it changes nothing and returns the
	// stored completion. It returns ErrNotFound when TokenID names no stored
	// token, and ErrInvalid when MessageID or Response is empty, CompletedAt
	// is zero or Status is not CompletionRejected.
	KeepCompletion(ctx context.Context, c Completion) (Completion, error)

	// RejectCompletion undoes RecordCompletion for a completion that its
	// handler rejected (ErrRejected): in one transaction it sets completion
	// messageID's Status to CompletionRejected and its Result to reason,
	// and returns the token it used to TokenIssued, with a zero UsedAt, so
	// that the token may be used again. Rejecting a rejected completion
	// again does nothing. It returns ErrNotFound for an unknown completion
	// and ErrConflict when the completion's HandledAt is set: a completion
	// that was acted on is never undone.
	RejectCompletion(ctx context.Context, messageID, reason string) error

	// MarkCompletionFailed sets the Status of completion messageID to
	// CompletionFailed and its Result to reason, unless it is handled or
	// rejected (then it does nothing). It returns ErrNotFound for an
	// unknown completion.
	MarkCompletionFailed(ctx context.Context, messageID, reason string) error

	// MarkCompletionHandled sets the HandledAt of completion messageID to
	// at, its Status to CompletionHandled and clears its Result, unless
	// HandledAt is already set (then it does nothing). It returns
	// ErrNotFound for an unknown completion and ErrConflict for a rejected
	// one.
	MarkCompletionHandled(ctx context.Context, messageID string, at time.Time) error

	// Completion returns the completion with messageID, whatever its
	// Status, or ErrNotFound.
	Completion(ctx context.Context, messageID string) (Completion, error)

	// CompletionByToken returns the completion that used token tokenID
	// (one that is not rejected), or ErrNotFound.
	CompletionByToken(ctx context.Context, tokenID string) (Completion, error)

	// Completions returns the completions f selects, most recently recorded
	// first.
	Completions(ctx context.Context, f CompletionFilter) ([]Completion, error)

	// EachCompletion yields the completions r selects, whatever their
	// Status, by increasing ReceivedAt then MessageID, reading them from
	// the database a page at a time: memory does not grow with their
	// number, and no transaction is held open between pages. A completion
	// stored meanwhile is yielded if it sorts after the last one yielded.
	// An error ends the sequence, yielded with a zero Completion. It yields
	// ErrInvalid when r does not validate.
	EachCompletion(ctx context.Context, r CompletionRange) iter.Seq2[Completion, error]
}

// Validate checks r: Until, when set with Since, must be after it; Status,
// when set, is a known status; Limit is not negative.
func (r CompletionRange) Validate() error {
	if !r.Since.IsZero() && !r.Until.IsZero() && !r.Until.After(r.Since) {
		return Invalidf("a completion range's until must be after its since")
	}
	switch r.Status {
	case "", CompletionRecorded, CompletionHandled, CompletionFailed, CompletionRejected:
	default:
		return Invalidf("a completion range's status %q is none of recorded, handled, failed, rejected", r.Status)
	}
	if r.Limit < 0 {
		return Invalidf("a completion range's limit is negative")
	}
	return nil
}
