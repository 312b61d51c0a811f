package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waflow/waflow/api"
)

// APIConfig configures the HTTP API at /api/v1/ (package api). It is on
// unless Off: it answers only requests with a key that waflow apikeys
// create made, so a server without keys answers 401 to everything there.
type APIConfig struct {
	// Off leaves /api/v1/ unserved.
	Off bool
	// Rate and Burst are each key's token bucket, per replica
	// (api.DefaultRate and api.DefaultBurst when zero).
	Rate  float64
	Burst int
}

// newAPI builds the HTTP API over the store, the registry and the outbox,
// and returns the routes the server adds for it. Sending is on when the
// outbox worker is (Config.Outbox): otherwise a queued message would wait
// unsent, so POST .../send answers 503 instead.
func (a *App) newAPI(cfg Config) (map[string]http.Handler, error) {
	if cfg.API.Off {
		a.log.Info("api: off")
		return nil, nil
	}
	if len(cfg.TokenSecret) == 0 {
		return nil, errors.New("app: the API needs the token secret (its cursors are signed with a key derived from it)")
	}
	// Replicas share the token secret, so they share the cursors' key; a
	// key of its own, derived, so a cursor is never a token's MAC.
	mac := hmac.New(sha256.New, cfg.TokenSecret)
	mac.Write([]byte("waflow api cursor key v1"))

	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "waflow_api_requests_total",
		Help: "HTTP API requests answered, by route (the pattern matched) and HTTP status.",
	}, []string{"route", "status"})
	if err := a.metrics.Registry().Register(requests); err != nil {
		return nil, err
	}
	c := api.Config{
		Keys:        a.store,
		Completions: a.store,
		Flows:       a.flows,
		CursorKey:   mac.Sum(nil),
		Rate:        cfg.API.Rate,
		Burst:       cfg.API.Burst,
		Logger:      a.log.With("component", "api"),
		Observe: func(route string, status int, _ time.Duration) {
			requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		},
	}
	if a.outbox != nil {
		c.Send = &api.SendConfig{
			Tokens: a.tokens,
			Outbox: a.store,
			Notify: a.outbox.Notify,
		}
	}
	var err error
	if a.api, err = api.New(c); err != nil {
		return nil, err
	}
	// The event subscriptions (package events) under the admin scope: a
	// subscription sends every answer to its URL.
	a.api.MountPrefix(api.Prefix+"subscriptions", api.ScopeAdmin, a.SubscriptionsHandler())
	a.log.Info("api: serving /api/v1/ to API keys (waflow apikeys create)", "send", c.Send != nil)
	return map[string]http.Handler{api.Prefix: a.api}, nil
}

// API returns the HTTP API, so that more routes can be mounted on it
// (api.API.Mount) before Serve; nil when Config.API.Off.
func (a *App) API() *api.API { return a.api }
