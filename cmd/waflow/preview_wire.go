package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
	// Secret signs in to the preview; "" leaves it open (development).
	Secret string
	Logger *slog.Logger
}

// previewWAID is the WhatsApp id that preview sessions' flow tokens are
// issued for, so that what they store can be told apart.
const previewWAID = "preview"

// newPreview returns the /preview/ handler, or nil when there is none.
func newPreview(d previewDeps) (http.Handler, error) {
	if len(d.Specs) == 0 {
		return nil, nil
	}
	cfg := preview.Config{PublicKey: d.PublicKey, AppSecret: d.AppSecret, Logger: d.Logger, IssueToken: d.IssueToken, Secret: d.Secret}
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

// checkPreviewSecret refuses to serve a preview with real keys and no
// secret: it issues real flow tokens and drives the real handlers (it
// books real slots), so it must not be open to whoever reaches the port.
// A development server's preview needs none.
func checkPreviewSecret(setting, secret string, dev bool) error {
	on, err := previewEnabled(setting, dev)
	if err != nil || !on {
		return err
	}
	if secret != "" && len(secret) < preview.MinSecret {
		return fmt.Errorf("the preview secret is %d bytes; use at least %d random bytes (e.g. `openssl rand -hex 32`)", len(secret), preview.MinSecret)
	}
	if secret == "" && !dev {
		return errors.New("the preview is on with real keys, and without a secret anyone who reaches the server could issue flow tokens and book real slots in it: " +
			"set WAFLOW_PREVIEW_SECRET_FILE (or -preview-secret-file; at least 16 random bytes, e.g. `openssl rand -hex 32`), or WAFLOW_PREVIEW=false")
	}
	return nil
}

// warnPreviewReach logs one warning when the preview listens on more than
// loopback: other machines can reach it.
func warnPreviewReach(log *slog.Logger, addr net.Addr, secret bool) {
	if a, ok := addr.(*net.TCPAddr); ok && a.IP.IsLoopback() {
		return
	}
	msg := "the preview at /preview/ is reachable beyond loopback: it issues real flow tokens; reach it over HTTPS only (the sign-in cookie is Secure)"
	if !secret {
		msg = "the preview at /preview/ is reachable beyond loopback and needs no secret: anyone who reaches this address can use it (set WAFLOW_PREVIEW_SECRET, or listen on 127.0.0.1)"
	}
	log.Warn(msg, "addr", addr.String())
}
