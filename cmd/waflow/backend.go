package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
)

// backend holds what waflow serve runs besides the HTTP plumbing: storage,
// the flows, the webhook receiver and its worker, metrics.
type backend struct {
	log     *slog.Logger
	flows   []*endpoint.Flow
	webhook http.Handler
	metrics http.Handler
	closers []func() error
}

func newBackend(ctx context.Context, cfg *appConfig, sec *secrets, log *slog.Logger) (*backend, error) {
	b := &backend{log: log}
	return b, nil
}

// tokenValidator checks flow tokens on the data endpoint.
func (b *backend) tokenValidator(iss *flowtoken.Issuer) endpoint.TokenValidator {
	return endpoint.IssuerTokens{Issuer: iss}
}

// observeEndpoint receives one observation per endpoint request.
func (b *backend) observeEndpoint(endpoint.Observation) {}

// ready reports whether the backend can take traffic.
func (b *backend) ready(ctx context.Context) error { return nil }

// Close releases what the backend opened, last opened first.
func (b *backend) Close() error {
	var first error
	for i := len(b.closers) - 1; i >= 0; i-- {
		if err := b.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	return first
}
