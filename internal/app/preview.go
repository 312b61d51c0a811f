package app

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"net/http"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/preview"
	"github.com/waflow/waflow/registry"
)

// PreviewConfig is what the browser preview (/preview/) is built from.
type PreviewConfig struct {
	// Flows are the flows to preview, listed in the registry's order.
	Flows *registry.Registry
	// Endpoints are the data-endpoint handlers of the flows that have one,
	// by name, for data_exchange through the simulator.
	Endpoints map[string]http.Handler
	// URL, when set, names the data endpoint elsewhere of a flow that
	// declares data_api_version and has no handler in Endpoints ("waflow
	// preview -url").
	URL       func(flow string) string
	PublicKey *rsa.PublicKey
	AppSecret []byte
	// Tokens issues and records the flow tokens of preview sessions, for
	// PreviewWAID; IssueToken, when set, is used instead.
	Tokens     endpoint.StoreTokens
	IssueToken func(ctx context.Context, flow string) (string, error)
	// Secret signs in to the preview; "" leaves it open (development).
	Secret string
	Logger *slog.Logger
}

// PreviewWAID is the WhatsApp id that preview sessions' flow tokens are
// issued for, so that what they store can be told apart.
const PreviewWAID = "preview"

// NewPreview returns the /preview/ handler, or nil when there are no flows.
func NewPreview(c PreviewConfig) (http.Handler, error) {
	if c.Flows == nil || len(c.Flows.Flows()) == 0 {
		return nil, nil
	}
	cfg := preview.Config{PublicKey: c.PublicKey, AppSecret: c.AppSecret, Logger: c.Logger, IssueToken: c.IssueToken, Secret: c.Secret}
	if cfg.IssueToken == nil && c.Tokens.Issuer != nil && c.Tokens.Store != nil {
		cfg.IssueToken = func(ctx context.Context, flow string) (string, error) {
			tok, _, err := c.Tokens.Issue(ctx, flow, PreviewWAID)
			return tok, err
		}
	}
	for _, rf := range c.Flows.Flows() {
		f := preview.Flow{Name: rf.Name, Spec: rf.Spec, Source: rf.Source, Endpoint: c.Endpoints[rf.Name]}
		if f.Endpoint == nil && c.URL != nil && rf.Spec.DataAPIVersion != "" {
			f.URL = c.URL(rf.Name)
		}
		cfg.Flows = append(cfg.Flows, f)
	}
	return preview.New(cfg)
}
