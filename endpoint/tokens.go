package endpoint

import (
	"context"
	"errors"
	"fmt"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowtoken"
)

// IssuerTokens validates flow tokens by their signature, expiry and flow
// with a flowtoken.Issuer: unknown, forged, expired or issued for another
// flow means 427. It keeps no state; StoreTokens adds the recorded state.
type IssuerTokens struct {
	Issuer *flowtoken.Issuer
}

// ValidateToken implements TokenValidator.
func (v IssuerTokens) ValidateToken(_ context.Context, flow, token string) (flowtoken.Claims, error) {
	return v.Issuer.Verify(token, flow)
}

// StoreTokens issues flow tokens and records them, and validates a token on
// the data endpoint by its signature, expiry and flow and by its recorded
// state: a token that was never recorded (issued elsewhere, or a forgery
// with a stolen secret) or whose flow was already completed is refused too.
type StoreTokens struct {
	Issuer *flowtoken.Issuer
	Store  TokenRecords
}

// TokenRecords is what StoreTokens needs of the flow tokens' store:
// recording a token and reading it back, with the contracts
// waflow.TokenStore gives CreateToken and Token.
type TokenRecords interface {
	CreateToken(ctx context.Context, t waflow.FlowToken) error
	Token(ctx context.Context, id string) (waflow.FlowToken, error)
}

// The token store's contract includes what StoreTokens needs.
var _ TokenRecords = waflow.TokenStore(nil)

// Messages shown on 427 for recorded states.
const (
	msgTokenUsed    = "This form was already submitted. Please ask for a new one."
	msgTokenUnknown = msgTokenInvalid
)

// Issue issues a token for flow and the user to, and records it as issued.
// to is the user's phone number or, for a user known only by it, their
// business-scoped user id (waflow.IsBSUID tells them apart): the token is
// bound to it either way (protocol.md 4.2).
func (t StoreTokens) Issue(ctx context.Context, flow, to string) (string, waflow.FlowToken, error) {
	if waflow.IsBSUID(to) {
		return t.IssueUser(ctx, flow, "", to)
	}
	return t.IssueUser(ctx, flow, to, "")
}

// IssueUser issues a token for flow bound to the user's phone number waID
// and business-scoped user id userID, whichever are known (at least one
// should be), and records it as issued.
func (t StoreTokens) IssueUser(ctx context.Context, flow, waID, userID string) (string, waflow.FlowToken, error) {
	tok, c, err := t.Issuer.IssueUser(flow, waID, userID)
	if err != nil {
		return "", waflow.FlowToken{}, err
	}
	rec := waflow.FlowToken{ID: c.ID, Flow: c.Flow, WAID: c.WAID, UserID: c.UserID, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt}
	if err := t.Store.CreateToken(ctx, rec); err != nil {
		return "", waflow.FlowToken{}, fmt.Errorf("recording flow token: %w", err)
	}
	rec.State = waflow.TokenIssued
	return tok, rec, nil
}

// ValidateToken implements TokenValidator.
func (t StoreTokens) ValidateToken(ctx context.Context, flow, token string) (flowtoken.Claims, error) {
	c, err := t.Issuer.Verify(token, flow)
	if err != nil {
		return c, err
	}
	rec, err := t.Store.Token(ctx, c.ID)
	switch {
	case errors.Is(err, waflow.ErrNotFound):
		return c, &TokenError{Msg: msgTokenUnknown, Err: Fail("flow token was never recorded", nil)}
	case err != nil:
		// The store is down: a 500, not a 427 that disables the button.
		return c, Fail("cannot read the flow token's record", err)
	}
	switch rec.State {
	case waflow.TokenIssued:
		return c, nil
	case waflow.TokenUsed:
		return c, &TokenError{Msg: msgTokenUsed, Err: Fail("flow token already used", nil)}
	default:
		// The state comes from the store, never from the request, so it
		// may be part of a kind (see Fail).
		return c, &TokenError{Msg: msgTokenExpired, Err: &HandlerError{kind: "flow token is " + string(rec.State)}}
	}
}
