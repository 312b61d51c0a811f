package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/metrics"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/outbox"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/webhook"
)

// backend holds what waflow serve runs besides the HTTP plumbing: storage,
// the flows, the webhook receiver and its worker, metrics.
type backend struct {
	log     *slog.Logger
	store   storage.Store
	metrics *metrics.Metrics
	tokens  endpoint.StoreTokens
	flows   *registry.Registry // every flow the server runs
	worker  *webhook.Worker
	webhook http.Handler

	stopWorker context.CancelFunc
	workerDone chan struct{}
	outbox     *outbox.Worker // nil when the Graph API is not configured
	stopOutbox func()
}

// databaseURL returns the configured database, or waflow.db in the data
// folder (created if needed).
func (c *appConfig) databaseURL() (string, error) {
	if c.databaseURLSetting != "" {
		return c.databaseURLSetting, nil
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return "", fmt.Errorf("data folder: %w", err)
	}
	return filepath.Join(c.dataDir, "waflow.db"), nil
}

// openStore opens the configured database and applies its migrations.
func (c *appConfig) openStore(ctx context.Context, log *slog.Logger) (storage.Store, error) {
	dbURL, err := c.databaseURL()
	if err != nil {
		return nil, err
	}
	store, err := storage.Open(ctx, dbURL, storage.Options{Logger: log.With("component", "storage")})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", storage.Describe(dbURL), err)
	}
	log.Info("database open", "database", storage.Describe(dbURL))
	return store, nil
}

func newBackend(ctx context.Context, cfg *appConfig, sec *secrets, verifier *signature.Verifier, issuer *flowtoken.Issuer, log *slog.Logger) (_ *backend, err error) {
	if sec.verifyToken == "" {
		return nil, errors.New("no webhook verify token: set WAFLOW_VERIFY_TOKEN_FILE (the token you type into the Meta app dashboard)")
	}
	store, err := cfg.openStore(ctx, log)
	if err != nil {
		return nil, err
	}
	b := &backend{log: log, store: store, tokens: endpoint.StoreTokens{Issuer: issuer, Store: store}}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	b.metrics = metrics.New(log)
	b.metrics.WatchInbox(store.InboxStats)

	if err := b.loadFlows(cfg, log); err != nil {
		return nil, err
	}
	lease, err := positiveDuration("webhook lease", cfg.webhookLease)
	if err != nil {
		return nil, err
	}
	handlerTimeout, err := positiveDuration("webhook handler timeout", cfg.webhookTimeout)
	if err != nil {
		return nil, err
	}
	b.worker, err = webhook.NewWorker(webhook.WorkerConfig{
		Lease:          lease,
		HandlerTimeout: handlerTimeout,
		Store:          store,
		Tokens:         issuer,
		Validator:      b.flows.ValidateCompletion,
		Observer:       b.metrics,
		Logger:         log.With("component", "webhook-worker"),
	})
	if err != nil {
		return nil, err
	}
	for _, f := range b.flows.Flows() {
		b.worker.Handle(f.Name, completionHandler(f))
	}
	b.webhook, err = webhook.NewReceiver(webhook.ReceiverConfig{
		Verifier:    verifier,
		VerifyToken: sec.verifyToken,
		Inbox:       store,
		OnStored:    b.worker.Notify,
		Observer:    b.metrics,
		Logger:      log.With("component", "webhook"),
	})
	if err != nil {
		return nil, err
	}
	if err := b.startOutbox(ctx, cfg); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.stopWorker, b.workerDone = cancel, make(chan struct{})
	go func() {
		defer close(b.workerDone)
		b.worker.Run(wctx)
	}()
	return b, nil
}

// tokenValidator checks flow tokens on the data endpoint: signature,
// expiry, flow and the recorded state (a used token is refused).
func (b *backend) tokenValidator() endpoint.TokenValidator { return b.tokens }

// observeEndpoint receives one observation per endpoint request.
func (b *backend) observeEndpoint(o endpoint.Observation) {
	b.metrics.ObserveEndpoint(o.Flow, o.Action, o.Status, o.Duration)
	if o.AnswerRule != "" {
		b.metrics.AnswerRefused(o.Flow, o.AnswerRule)
	}
}

// ready reports whether the backend can take traffic.
func (b *backend) ready(ctx context.Context) error { return b.store.Ping(ctx) }

// Close stops the worker, waits for its batch to settle, and closes the
// store.
func (b *backend) Close() error {
	if b.stopOutbox != nil {
		b.stopOutbox()
	}
	if b.stopWorker != nil {
		b.stopWorker()
		<-b.workerDone
	}
	if b.store != nil {
		return b.store.Close()
	}
	return nil
}

// loadFlows fills the registry: the catalog's ready-made flows with the
// configured settings. A flow whose Flow JSON or settings do not validate
// stops the start.
func (b *backend) loadFlows(cfg *appConfig, log *slog.Logger) error {
	settings, err := loadCatalogSettings(cfg.catalogSettings)
	if err != nil {
		return err
	}
	b.flows = registry.New()
	return catalog.Register(b.flows, catalog.Deps{
		Store:    b.store,
		Settings: settings,
		Logger:   log.With("component", "catalog"),
		// A confirmation enqueued wakes the outbox worker at once.
		OnEnqueue: func() {
			if b.outbox != nil {
				b.outbox.Notify()
			}
		},
	})
}

// completionHandler adapts a flow's completion handler to the webhook
// worker; a flow without one has its completions recorded only.
func completionHandler(f *registry.Flow) webhook.CompletionHandler {
	return func(ctx context.Context, c webhook.Completed) error {
		if f.Complete == nil {
			return nil
		}
		return f.Complete(ctx, registry.Completion{Completion: c.Completion, Values: c.Values, Token: c.Token})
	}
}

// positiveDuration parses the duration setting named what.
func positiveDuration(what, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive duration such as 30s", what, v)
	}
	return d, nil
}
