package waflow

import (
	"context"
	"time"
)

// TokenState is the life-cycle state of an issued flow token.
type TokenState string

// The states of a flow token. A token is issued when a flow message is sent,
// used when its completion is recorded, and expired when it was not used
// before its expiry.
const (
	TokenIssued  TokenState = "issued"
	TokenUsed    TokenState = "used"
	TokenExpired TokenState = "expired"
)

// FlowToken is the server-side record of a flow token. The token string
// itself is never stored: it is self-describing and signed (package
// flowtoken), and ID, the random id inside it, is the key.
type FlowToken struct {
	ID   string // the storage key, flowtoken.Claims.ID
	Flow string // the flow the token was issued for
	WAID string // the user's WhatsApp id, their phone number; empty when unknown
	// UserID is the user's business-scoped user id (BSUID) the token was
	// issued to; empty when unknown. A token is bound to whichever of WAID
	// and UserID were known, and a completion is checked against whichever
	// of them arrive (protocol.md 4.2).
	UserID    string
	IssuedAt  time.Time // when the token was issued
	ExpiresAt time.Time // the first instant at which it is no longer valid
	State     TokenState
	UsedAt    time.Time // zero unless State is TokenUsed
	// MessageID is the wamid of the flow message that carried the token,
	// once sent. A completion without a flow_token (it happens on iOS,
	// protocol.md 4.2) is correlated through its context.id, which is that
	// wamid.
	MessageID string
}

// StateAt returns the state of t as seen at now: an issued token whose expiry
// has passed is expired even before the store's ExpireTokens sweep ran.
func (t FlowToken) StateAt(now time.Time) TokenState {
	if t.State == TokenIssued && !now.Before(t.ExpiresAt) {
		return TokenExpired
	}
	return t.State
}

// TokenStore keeps the state of issued flow tokens.
type TokenStore interface {
	// CreateToken records a newly issued token in state TokenIssued; its
	// State, UsedAt and MessageID are ignored, and a zero IssuedAt is set to
	// the store's clock. It returns ErrInvalid when
	// ID or Flow is empty or ExpiresAt is zero, and ErrConflict when a
	// token with the same ID exists.
	CreateToken(ctx context.Context, t FlowToken) error

	// Token returns the token with id, its State as of the store's clock
	// (see FlowToken.StateAt). It returns ErrNotFound when there is none.
	// The data endpoint answers 427 for a token that is not TokenIssued.
	Token(ctx context.Context, id string) (FlowToken, error)

	// TokenByMessage returns the token carried by the flow message whose
	// wamid is messageID. It returns ErrNotFound when no token records that
	// message.
	TokenByMessage(ctx context.Context, messageID string) (FlowToken, error)

	// SetTokenMessage records messageID, the wamid of the message that
	// carried token id. Recording the same wamid again is a no-op. It
	// returns ErrNotFound for an unknown token, ErrConflict when the token
	// already records another wamid or the wamid belongs to another token,
	// and ErrInvalid for an empty messageID.
	SetTokenMessage(ctx context.Context, id, messageID string) error

	// MarkTokenUsed moves token id to TokenUsed with UsedAt = at, as one
	// atomic compare-and-set: of any number of concurrent callers, on any
	// number of processes sharing the database, exactly one succeeds. The
	// others get ErrTokenUsed. This is what makes a completion exactly-once.
	// It returns ErrNotFound for an unknown token and ErrTokenExpired when
	// at is not before the token's ExpiresAt (a token already marked
	// expired by ExpireTokens can still be used at an earlier at: a
	// completion is judged by when the user completed the flow, not by
	// when a retried webhook arrived).
	MarkTokenUsed(ctx context.Context, id string, at time.Time) error

	// ExpireTokens moves every issued token whose ExpiresAt is not after now
	// to TokenExpired and returns how many it moved.
	ExpireTokens(ctx context.Context, now time.Time) (int64, error)
}
