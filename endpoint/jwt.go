package endpoint

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
)

// maxShapes bounds the JWT shapes a Handler remembers having logged: past
// it a new shape is no longer logged, so a sender cannot grow the memory.
const maxShapes = 64

// jwtShapes remembers the claim-name sets of flow_token_signature seen so
// far, so that each new one is logged once.
type jwtShapes struct {
	mu   sync.Mutex
	seen map[string]bool
}

// first reports whether key is seen for the first time (and there is room
// to remember it).
func (s *jwtShapes) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] || len(s.seen) >= maxShapes {
		return false
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[key] = true
	return true
}

// checkTokenSignature checks the Data API 4.0 flow_token_signature
// (protocol.md §7) with the app secrets that checked X-Hub-Signature-256.
// Meta documents neither the claim holding the flow token nor the other
// claims, so any string claim equal to the flow token is accepted; the
// claim names (never values) of each new shape are logged once, so that the
// first real request shows what Meta sends. A signature that is missing or
// does not verify is observed and logged, and rejected (427) only under
// RequireTokenSignature: the request is already authenticated by its
// signature and the flow token by its own check.
func (h *Handler) checkTokenSignature(ctx context.Context, req *decrypted, resp *envelope.Responder) (outcome, bool) {
	var err error
	if req.FlowTokenSignature == "" {
		if majorVersion(req.Version) < 4 {
			return outcome{}, true // Data API 3.0 never carries one
		}
		req.tokenSignature = TokenSignatureMissing
		err = errors.New("a Data API 4.0 request without flow_token_signature")
	} else {
		var shape flowtoken.JWTShape
		shape, err = flowtoken.InspectSignatureJWT(req.FlowTokenSignature, req.FlowToken, h.cfg.Signatures, h.cfg.Now())
		req.tokenSignature = signatureOutcome(err)
		if shape.Claims != nil && h.shapes.first(strings.Join(shape.Claims, ",")) {
			level := slog.LevelInfo
			if shape.TokenClaim != "" && shape.TokenClaim != "flow_token" {
				level = slog.LevelWarn
			}
			h.log.LogAttrs(ctx, level, "flow_token_signature: first request with these claims",
				slog.Any("claims", shape.Claims), slog.String("token_claim", shape.TokenClaim),
				slog.String("result", req.tokenSignature))
		}
		if err == nil {
			return outcome{}, true
		}
	}
	if h.cfg.RequireTokenSignature {
		return h.tokenRejected(resp, &TokenError{Msg: msgTokenInvalid, Err: err}, nil), false
	}
	h.log.LogAttrs(ctx, slog.LevelWarn, "flow_token_signature not verified; answered all the same (RequireTokenSignature is off)",
		slog.String("action", req.Action), slog.String("screen", req.Screen),
		slog.String("result", req.tokenSignature), slog.String("error", err.Error()))
	return outcome{}, true
}

// signatureOutcome names the result of flowtoken.InspectSignatureJWT.
func signatureOutcome(err error) string {
	switch {
	case err == nil:
		return TokenSignatureValid
	case errors.Is(err, flowtoken.ErrJWTSignature):
		return TokenSignatureBadMAC
	case errors.Is(err, flowtoken.ErrJWTMismatch):
		return TokenSignatureMismatch
	case errors.Is(err, flowtoken.ErrJWTExpired):
		return TokenSignatureExpired
	default:
		return TokenSignatureMalformed
	}
}
