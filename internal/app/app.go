// Package app builds what "waflow serve" runs from an explicit Config: the
// store, the registry of flows (the catalog's and a flows folder's), a
// data endpoint per flow, the webhook receiver and its worker, the outbox
// worker, metrics and the browser preview, composed into one
// internal/server.Server.
//
// It reads neither flags nor the environment: cmd/waflow parses them,
// loads the secrets and copies them into a Config.
package app

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/waflow/waflow/api"
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/console"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowsdir"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/forward"
	"github.com/waflow/waflow/internal/metrics"
	"github.com/waflow/waflow/internal/server"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/internal/tlsconf"
	"github.com/waflow/waflow/media"
	"github.com/waflow/waflow/outbox"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/webhook"
)

// Config is what the server runs with. Durations must be positive.
type Config struct {
	// Addr is the listen address, for the server's logs.
	Addr string
	// DatabaseURL is a SQLite path or a postgres:// URL (internal/storage);
	// its migrations are applied.
	DatabaseURL string

	// PrivateKeys decrypt data-endpoint requests, current first.
	PrivateKeys []*rsa.PrivateKey
	// Decryptions bounds the RSA decryptions run at once; one per core
	// when 0.
	Decryptions int
	// AppSecrets check X-Hub-Signature-256, current first.
	AppSecrets [][]byte
	// TokenSecret signs flow tokens, which stay valid for TokenTTL.
	TokenSecret []byte
	TokenTTL    time.Duration
	// VerifyToken is the webhook subscription handshake's token.
	VerifyToken string
	// RequireTokenSignature rejects Data API 4.0 requests whose
	// flow_token_signature is missing or does not verify; off, they are
	// counted and logged (endpoint.Config.RequireTokenSignature).
	RequireTokenSignature bool
	// RequestTimeout is a flow handler's deadline.
	RequestTimeout time.Duration
	// WebhookLease and WebhookHandlerTimeout configure the webhook worker
	// (webhook.WorkerConfig).
	WebhookLease          time.Duration
	WebhookHandlerTimeout time.Duration

	// CatalogSettings are the catalog flows' settings; the defaults when
	// nil.
	CatalogSettings *catalog.Settings

	// FlowsDir is a flows folder (package flowsdir, docs/flows-folder.md)
	// whose flows are served next to the catalog's; "" for none. A folder
	// with any error stops the start.
	FlowsDir string
	// Forward builds the data-endpoint handlers of a folder flow answered
	// by a backend (flowsdir.Options.Endpoint). When nil, a folder with
	// such a flow stops the start.
	Forward func(m flowsdir.Manifest, spec *flowjson.Flow) (*endpoint.Flow, error)
	// Getenv looks up the environment variables that folder manifests
	// name for backend secrets (backend.secret_env).
	Getenv func(string) string

	// Outbox, when set, sends the outbox's messages through the Graph API.
	// When nil, OutboxOff says why, in one warning.
	Outbox    *OutboxConfig
	OutboxOff string

	// API configures the HTTP API at /api/v1/ (api.go).
	API APIConfig
	// Assistant switches reminders, budget alerts and digests (assistant.go).
	Assistant AssistantConfig
	// Events configures the events sent to the business and the webhook
	// relay (events.go).
	Events EventsConfig

	// Preview serves the browser preview at /preview/. It issues real
	// flow tokens and drives the real handlers; PreviewSecret, when set,
	// signs in to it (preview.Config.Secret).
	Preview       bool
	PreviewSecret string

	// BodyBytesInFlight and MaxConns are the admission bounds
	// (server.Config).
	BodyBytesInFlight int64
	MaxConns          int

	// TLS, when set, serves HTTPS (internal/tlsconf). With ACME domains
	// and no cache set, New gives it one: the database's tls_cache table
	// and lock with PostgreSQL, so that replicas share one certificate;
	// the folder TLSCacheDir otherwise.
	TLS         *tlsconf.Config
	TLSCacheDir string
	// DrainDelay and ShutdownTimeout shape the stop (server.Config):
	// /readyz answers 503 for DrainDelay while the server still serves,
	// then requests in flight get up to ShutdownTimeout; Close then lets
	// the workers settle what they hold.
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration

	// Media says where PhotoPicker and DocumentPicker files are kept
	// (internal/app/media.go); the database by default.
	Media MediaConfig
	// Console, when set, serves the browser console at /console/
	// (console.go).
	Console *ConsoleConfig

	// Logger receives the server's logs; slog.Default() when nil.
	Logger *slog.Logger
}

// App is a built server: the workers run from New until Close.
type App struct {
	log     *slog.Logger
	store   storage.Store
	metrics *metrics.Metrics
	tokens  endpoint.StoreTokens
	flows   *registry.Registry // every flow the server runs
	worker  *webhook.Worker
	webhook http.Handler
	preview http.Handler
	paths   []string // "/flows/NAME", sorted
	srv     *server.Server
	certs   *tlsconf.Certs // nil without TLS

	stopWorker context.CancelFunc
	workerDone chan struct{}
	outbox     *outbox.Worker // nil when the Graph API is not configured
	stopOutbox func()
	api        *api.API // nil when Config.API.Off

	stopAssistant func() // nil when the scheduler does not run

	mediaStore media.Store
	mediaFetch *media.Fetcher
	mediaURLs  *media.URLSigner

	console     http.Handler      // nil when Config.Console is
	recorder    *console.Recorder // nil when Config.Console is
	stopConsole func()
	events      *events.Dispatcher
	relay       *events.Relay // nil without a relay URL
	stopEvents  func()
}

// New opens the store, registers the flows, builds the handlers and starts
// the webhook and outbox workers; Serve then serves them. Close stops them
// and closes the store, also when Serve was never called.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.VerifyToken == "" {
		return nil, errors.New("app: no webhook verify token")
	}
	if len(cfg.PrivateKeys) == 0 || len(cfg.AppSecrets) == 0 {
		return nil, errors.New("app: a private key and an app secret are required")
	}
	unwrapper, err := envelope.NewPrivateKeys(cfg.PrivateKeys...)
	if err != nil {
		return nil, err
	}
	if cfg.Decryptions > 0 {
		unwrapper = unwrapper.WithMaxConcurrent(cfg.Decryptions)
	}
	verifier, err := signature.New(cfg.AppSecrets...)
	if err != nil {
		return nil, err
	}
	issuer, err := flowtoken.NewIssuer(cfg.TokenSecret)
	if err != nil {
		return nil, err
	}
	issuer.TTL = cfg.TokenTTL

	store, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: log.With("component", "storage")})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", storage.Describe(cfg.DatabaseURL), err)
	}
	log.Info("database open", "database", storage.Describe(cfg.DatabaseURL))
	a := &App{log: log, store: store, tokens: endpoint.StoreTokens{Issuer: issuer, Store: store}}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	a.metrics = metrics.New(log)
	a.metrics.WatchInbox(store.InboxStats)
	if err := a.startEvents(ctx, cfg.Events, cfg.AppSecrets); err != nil {
		return nil, err
	}

	if err := a.loadFlows(cfg); err != nil {
		return nil, err
	}
	a.worker, err = webhook.NewWorker(webhook.WorkerConfig{
		Lease:          cfg.WebhookLease,
		HandlerTimeout: cfg.WebhookHandlerTimeout,
		Store:          store,
		Users:          store,
		OnFlowsEvent:   a.onFlowsEvent(webhook.FlowHealthRecorder(store, log.With("component", "flow-health"))),
		Tokens:         issuer,
		Validator:      a.flows.ValidateCompletion,
		OnInbound:      a.noteInbound(cfg),
		Observer:       a.metrics,
		Logger:         log.With("component", "webhook-worker"),
	})
	if err != nil {
		return nil, err
	}
	if err := a.setupMedia(cfg); err != nil {
		return nil, err
	}
	for _, f := range a.flows.Flows() {
		a.worker.Handle(f.Name, a.countCompletions(f.Name, a.emitCompletion(a.completionMedia(f, graphDownloader(cfg.Outbox), completionHandler(f)))))
	}
	a.webhook, err = webhook.NewReceiver(webhook.ReceiverConfig{
		Verifier:    verifier,
		VerifyToken: cfg.VerifyToken,
		Inbox:       store,
		OnStored:    a.worker.Notify,
		Relay:       a.keepForRelay(),
		Observer:    a.metrics,
		Logger:      log.With("component", "webhook"),
	})
	if err != nil {
		return nil, err
	}
	if err := a.startOutbox(ctx, cfg.Outbox, cfg.OutboxOff); err != nil {
		return nil, err
	}
	if err := a.startAssistant(ctx, cfg); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopWorker, a.workerDone = cancel, make(chan struct{})
	go func() {
		defer close(a.workerDone)
		a.worker.Run(wctx)
	}()

	epCfg := endpoint.Config{
		Keys:                  unwrapper,
		Signatures:            verifier,
		Tokens:                a.tokens,
		RequireTokenSignature: cfg.RequireTokenSignature,
		Timeout:               cfg.RequestTimeout,
		Logger:                log.With("component", "endpoint"),
		Observe:               a.observeEndpoint,
	}
	flowHandlers := map[string]http.Handler{}
	for _, f := range a.flows.Endpoints() {
		if err := a.useMedia(f); err != nil {
			return nil, fmt.Errorf("flow %s: %w", f.Name(), err)
		}
		h, err := endpoint.New(epCfg, f)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", f.Name(), err)
		}
		flowHandlers[f.Name()] = h
	}
	for _, n := range slices.Sorted(maps.Keys(flowHandlers)) {
		a.paths = append(a.paths, "/flows/"+n)
	}
	if cfg.Preview {
		a.preview, err = NewPreview(PreviewConfig{
			Flows:     a.flows,
			Endpoints: flowHandlers,
			PublicKey: &cfg.PrivateKeys[0].PublicKey,
			AppSecret: cfg.AppSecrets[0],
			Tokens:    a.tokens,
			Secret:    cfg.PreviewSecret,
			Logger:    log.With("component", "preview"),
		})
		if err != nil {
			return nil, err
		}
	}
	extra, err := a.newAPI(cfg)
	if err != nil {
		return nil, err
	}
	if extra == nil {
		extra = map[string]http.Handler{}
	}
	maps.Copy(extra, a.mediaRoutes())
	if err := a.startConsole(ctx, cfg); err != nil {
		return nil, err
	}
	maps.Copy(extra, a.consoleRoutes())
	var tlsCfg *tls.Config
	if cfg.TLS != nil {
		if a.certs, err = a.newCerts(*cfg.TLS, cfg.TLSCacheDir); err != nil {
			return nil, err
		}
		tlsCfg = a.certs.TLSConfig()
	}
	a.srv = server.New(server.Config{
		TLS:             tlsCfg,
		HTTP:            a.httpHandler(),
		DrainDelay:      cfg.DrainDelay,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Addr:            cfg.Addr,
		Flows:           flowHandlers,
		Webhook:         a.webhook,
		Metrics:         a.metrics.Handler(),
		Preview:         a.preview,
		Extra:           extra,
		Ready:           a.ready,
		RequestTimeout:  cfg.RequestTimeout,
		Logger:          log,

		BodyBytesInFlight: cfg.BodyBytesInFlight,
		MaxConns:          cfg.MaxConns,
	})
	return a, nil
}

// Serve serves the routes on ln (over TLS when Config.TLS is set) until
// ctx is done, then drains and shuts down gracefully (internal/server).
func (a *App) Serve(ctx context.Context, ln net.Listener) error { return a.srv.Serve(ctx, ln) }

// ServeWithHTTP is Serve, with httpLn serving plain HTTP beside it when
// not nil: ACME http-01 challenges and a redirect to HTTPS.
func (a *App) ServeWithHTTP(ctx context.Context, ln, httpLn net.Listener) error {
	return a.srv.ServeWithHTTP(ctx, ln, httpLn)
}

// HasTLS reports whether the server speaks HTTPS.
func (a *App) HasTLS() bool { return a.certs != nil }

// newCerts builds the certificate source, giving ACME its cache: the
// database's when it has one (PostgreSQL: replicas share it), dir
// otherwise.
func (a *App) newCerts(c tlsconf.Config, dir string) (*tlsconf.Certs, error) {
	if c.Logger == nil {
		c.Logger = a.log.With("component", "tls")
	}
	if len(c.Domains) > 0 && c.Cache == nil {
		if cs, ok := a.store.(interface {
			tlsconf.CertStore
			tlsconf.Locker
		}); ok {
			c.Cache, c.Locker = tlsconf.StoreCache(cs), cs
			a.log.Info("tls: ACME certificates kept in the database, shared by replicas")
		} else {
			if dir == "" {
				return nil, errors.New("app: ACME needs a certificate cache folder")
			}
			c.Cache = tlsconf.DirCache(dir)
			a.log.Info("tls: ACME certificates kept in a folder", "dir", dir)
		}
	}
	return tlsconf.New(c)
}

// httpHandler is what the plain-HTTP listener serves beside HTTPS.
func (a *App) httpHandler() http.Handler {
	if a.certs == nil {
		return nil
	}
	return a.certs.HTTPHandler()
}

// Flows returns the registry of the flows the server runs.
func (a *App) Flows() *registry.Registry { return a.flows }

// EndpointPaths lists the data endpoints' paths, "/flows/NAME", sorted.
func (a *App) EndpointPaths() []string { return a.paths }

// HasWebhook reports whether /webhook is served.
func (a *App) HasWebhook() bool { return a.webhook != nil }

// HasPreview reports whether /preview/ is served.
func (a *App) HasPreview() bool { return a.preview != nil }

// observeEndpoint receives one observation per endpoint request.
func (a *App) observeEndpoint(o endpoint.Observation) {
	a.metrics.ObserveEndpoint(o.Flow, o.Action, o.Status, o.Duration)
	a.recorder.ObserveRequest(o.Flow, o.Status, o.Duration)
	if o.AnswerRule != "" {
		a.metrics.AnswerRefused(o.Flow, o.AnswerRule)
	}
	a.metrics.TokenSignature(o.Flow, o.TokenSignature)
}

// ready reports whether the server can take traffic.
func (a *App) ready(ctx context.Context) error { return a.store.Ping(ctx) }

// Close stops the workers, waits for what they hold to settle (the webhook
// worker's batch, the outbox's send in flight; each bounded by its own
// timeout, and both stopped at once so that the wait is the longer of the
// two, not their sum), and closes the store.
func (a *App) Close() error {
	var wg sync.WaitGroup
	if a.stopConsole != nil {
		wg.Go(a.stopConsole) // the last flush of the figures
	}
	if a.stopOutbox != nil {
		wg.Go(a.stopOutbox)
	}
	if a.stopAssistant != nil {
		wg.Go(a.stopAssistant)
	}
	if a.stopEvents != nil {
		wg.Go(a.stopEvents)
	}
	if a.stopWorker != nil {
		wg.Go(func() {
			a.stopWorker()
			<-a.workerDone
		})
	}
	wg.Wait()
	if a.store != nil {
		return a.store.Close()
	}
	return nil
}

// loadFlows fills the registry: the catalog's ready-made flows with
// settings, then the flows folder's. A flow whose Flow JSON, settings or
// manifest do not validate stops the start.
func (a *App) loadFlows(cfg Config) error {
	a.flows = registry.New()
	err := catalog.Register(a.flows, catalog.Deps{
		Store:    a.store,
		Settings: cfg.CatalogSettings,
		Logger:   a.log.With("component", "catalog"),
		// What the catalog's assistant does not send, no flow promises.
		RemindersOff:    !cfg.Assistant.Reminders,
		BudgetAlertsOff: !cfg.Assistant.BudgetAlerts,
		// A confirmation enqueued wakes the outbox worker at once.
		OnBooked: a.emitBooking,
		OnEnqueue: func() {
			if a.outbox != nil {
				a.outbox.Notify()
			}
		},
	})
	if err != nil || cfg.FlowsDir == "" {
		return err
	}
	forward := cfg.Forward
	if forward == nil {
		forward = a.forwardFlow
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	ps, err := flowsdir.Load(a.flows, cfg.FlowsDir, flowsdir.Options{Endpoint: forward, Getenv: getenv})
	for _, p := range ps {
		if p.Severity == flowjson.SeverityWarning {
			a.log.Warn("flows folder: " + p.String())
		}
	}
	if err != nil {
		return err
	}
	n := 0
	for _, f := range a.flows.Flows() {
		if f.Origin == registry.OriginFolder {
			n++
		}
	}
	a.log.Info("flows folder loaded", "dir", cfg.FlowsDir, "flows", n)
	return nil
}

// forwardFlow builds the handlers of a folder flow answered by its
// backend (package forward, docs/forwarding.md): each request that passed
// the endpoint's checks is POSTed to the backend, signed, and its answer
// goes back through the endpoint's answer path.
func (a *App) forwardFlow(m flowsdir.Manifest, spec *flowjson.Flow) (*endpoint.Flow, error) {
	b := m.Backend
	if b == nil {
		return nil, errors.New("no backend")
	}
	policy := forward.TokensWaflow
	if b.Tokens == flowsdir.TokensBackend {
		policy = forward.TokensBackend
	}
	return forward.NewFlow(m.Name, forward.Config{
		URL:         b.URL,
		Secret:      string(b.Secret),
		Timeout:     b.Timeout, // 0: forward.DefaultTimeout, under the endpoint's deadline
		TokenPolicy: policy,
		Spec:        spec, // values checked before, answers after the backend
		MediaURL:    a.mediaURL,
		Logger:      a.log.With("component", "forward", "flow", m.Name),
		Observe: func(o forward.Observation) {
			a.metrics.ObserveForward(o.Flow, string(o.Outcome), string(o.Failure))
			if o.Outcome == forward.OutcomeFailed {
				a.recorder.ObserveForwardFailure(o.Flow)
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
