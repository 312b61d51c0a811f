package main

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"slices"
	"sort"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/preview"
)

// previewDeps is what the browser preview (/preview/) is built from.
type previewDeps struct {
	// Specs are the flows to preview by name (the catalog's, and files
	// given to "waflow preview"), with their Flow JSON sources.
	Specs   map[string]*flowjson.Flow
	Sources map[string][]byte
	// Endpoints are the data-endpoint handlers of the flows that have one,
	// by name, for data_exchange through the simulator.
	Endpoints map[string]http.Handler
	// URLs are data endpoints elsewhere, by flow name ("waflow preview
	// -url"); an in-process handler wins.
	URLs      map[string]string
	PublicKey *rsa.PublicKey
	AppSecret []byte
	// Tokens issues and records the flow tokens of preview sessions;
	// IssueToken, when set, is used instead.
	Tokens     endpoint.StoreTokens
	IssueToken func(ctx context.Context, flow string) (string, error)
	Logger     *slog.Logger
}

// previewWAID is the WhatsApp id that preview sessions' flow tokens are
// issued for, so that what they store can be told apart.
const previewWAID = "preview"

// newPreview returns the /preview/ handler, or nil when there is none.
func newPreview(d previewDeps) (http.Handler, error) {
	if len(d.Specs) == 0 {
		return nil, nil
	}
	cfg := preview.Config{PublicKey: d.PublicKey, AppSecret: d.AppSecret, Logger: d.Logger, IssueToken: d.IssueToken}
	if cfg.IssueToken == nil && d.Tokens.Issuer != nil && d.Tokens.Store != nil {
		cfg.IssueToken = func(ctx context.Context, flow string) (string, error) {
			tok, _, err := d.Tokens.Issue(ctx, flow, previewWAID)
			return tok, err
		}
	}
	for _, name := range previewOrder(d.Specs) {
		f := preview.Flow{Name: name, Spec: d.Specs[name], Source: d.Sources[name], Endpoint: d.Endpoints[name]}
		if f.Endpoint == nil {
			f.URL = d.URLs[name]
		}
		cfg.Flows = append(cfg.Flows, f)
	}
	return preview.New(cfg)
}

// previewOrder lists the catalog's flows in its order, then the others by
// name.
func previewOrder(specs map[string]*flowjson.Flow) []string {
	var out, rest []string
	for _, n := range catalog.Names {
		if specs[n] != nil {
			out = append(out, n)
		}
	}
	for n := range specs {
		if !slices.Contains(out, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
