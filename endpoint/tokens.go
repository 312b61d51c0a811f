package endpoint

import (
	"context"

	"github.com/waflow/waflow/flowtoken"
)

// IssuerTokens validates flow tokens by their signature, expiry and flow
// with a flowtoken.Issuer: unknown, forged, expired or issued for another
// flow means 427. It keeps no state; a store-backed validator adds the
// "already used" check.
type IssuerTokens struct {
	Issuer *flowtoken.Issuer
}

// ValidateToken implements TokenValidator.
func (v IssuerTokens) ValidateToken(_ context.Context, flow, token string) (flowtoken.Claims, error) {
	return v.Issuer.Verify(token, flow)
}
