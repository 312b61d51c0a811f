package main

import (
	"cmp"
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/server"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
)

// appConfig is the configuration shared by the commands that run or talk to
// the backend. Every field has a flag and a WAFLOW_* variable; secrets also
// have *_FILE variants (see settings).
type appConfig struct {
	addr               string
	dataDir            string
	databaseURLSetting string
	privateKey         string // PEM, one or more keys (current first)
	passphrase         string
	appSecrets         string // comma-separated, current first
	tokenSecret        string
	verifyToken        string
	requestTimeout     string
	tokenTTL           string
	webhookLease       string
	webhookTimeout     string
	requireJWT         string
	logLevel           string
	logFormat          string
	bodyMemoryMiB      string
	maxConnections     string

	catalogSettings string
	preview         string
	previewSecret   string

	graph graphConfig // the Graph API side (graphconfig.go)
}

func (c *appConfig) declare(s *settings) {
	s.String(&c.addr, "addr", "WAFLOW_ADDR", "127.0.0.1:8080", "listen address")
	s.String(&c.dataDir, "data-dir", "WAFLOW_DATA_DIR", "./waflow-data", "data folder: database, development keys")
	s.Secret(&c.databaseURLSetting, "database-url", "WAFLOW_DATABASE_URL", "a SQLite path or a postgres:// URL (default: waflow.db in the data folder)")
	s.Secret(&c.privateKey, "private-key", "WAFLOW_PRIVATE_KEY", "the PEM private key; several PEM blocks for rotation, current first")
	s.Secret(&c.passphrase, "private-key-passphrase", "WAFLOW_PRIVATE_KEY_PASSPHRASE", "the passphrase of the private key")
	s.Secret(&c.appSecrets, "app-secret", "WAFLOW_APP_SECRET", "the Meta app secret(s), comma-separated, current first")
	s.Secret(&c.tokenSecret, "token-secret", "WAFLOW_TOKEN_SECRET", "the secret that signs flow tokens (at least 16 bytes)")
	s.Secret(&c.verifyToken, "verify-token", "WAFLOW_VERIFY_TOKEN", "the webhook verify token")
	s.String(&c.requestTimeout, "request-timeout", "WAFLOW_REQUEST_TIMEOUT", "3s", "deadline of a flow handler; WhatsApp gives up after 10s")
	s.String(&c.tokenTTL, "token-ttl", "WAFLOW_TOKEN_TTL", "168h", "how long an issued flow token stays valid")
	s.String(&c.webhookTimeout, "webhook-handler-timeout", "WAFLOW_WEBHOOK_HANDLER_TIMEOUT", "30s", "deadline of one webhook event's processing (a completion handler)")
	s.String(&c.webhookLease, "webhook-lease", "WAFLOW_WEBHOOK_LEASE", "1m", "how long a replica holds a claimed webhook event before another may retake it (after a crash); must exceed the handler timeout")
	s.String(&c.requireJWT, "require-token-signature", "WAFLOW_REQUIRE_TOKEN_SIGNATURE", "false", "reject Data API 4.0 requests without flow_token_signature")
	s.String(&c.logLevel, "log-level", "WAFLOW_LOG_LEVEL", "info", "debug, info, warn or error")
	s.String(&c.logFormat, "log-format", "WAFLOW_LOG_FORMAT", "text", "text or json")
	s.String(&c.bodyMemoryMiB, "body-memory-mib", "WAFLOW_BODY_MEMORY_MIB", defaultBodyMemoryMiB, "MiB of webhook and data-endpoint request bodies in memory at once (read, not yet answered; the signature can only be checked once a body is whole); past it a request is answered 503 with Retry-After")
	s.String(&c.maxConnections, "max-connections", "WAFLOW_MAX_CONNECTIONS", defaultMaxConnections, "connections open at once; past it an idle one is closed to make room, or the new one is answered 503 with Retry-After")
	s.String(&c.catalogSettings, "catalog-settings", "WAFLOW_CATALOG_SETTINGS", "", "the catalog settings file (JSON; keys it has replace the defaults: see waflow catalog settings)")
	s.String(&c.preview, "preview", "WAFLOW_PREVIEW", "auto", "serve the browser preview at /preview/: true, false, or auto (only in development mode: the preview drives the real handlers, e.g. books slots)")
	s.Secret(&c.previewSecret, "preview-secret", "WAFLOW_PREVIEW_SECRET", "the secret that signs in to the preview (/preview/?key=SECRET or Authorization: Bearer SECRET); required with real keys")
	c.graph.declare(s)
}

// logger builds the process logger from the configuration.
func (c *appConfig) logger(env *Env) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", c.logFormat)
}

// secrets are the loaded keys and secrets the backend runs with.
type secrets struct {
	privateKeys []*rsa.PrivateKey
	appSecrets  [][]byte
	tokenSecret []byte
	verifyToken string
	dev         bool // generated development secrets
	// devFiles says where the development secrets are, for the banner;
	// devVerifyToken is set when the verify token in use is the one there.
	devFiles       *devSecrets
	devVerifyToken bool
}

// loadSecrets loads the configured key and secrets or, when neither a key
// nor an app secret is configured, the development ones from the data folder
// (generated on first run).
func (c *appConfig) loadSecrets(log *slog.Logger) (*secrets, error) {
	s := &secrets{}
	switch {
	case c.privateKey == "" && c.appSecrets == "":
		dev, err := loadDevSecrets(c.dataDir)
		if err != nil {
			return nil, err
		}
		s.dev = true
		c.privateKey, c.appSecrets = dev.privateKey, dev.appSecret
		if c.tokenSecret == "" {
			c.tokenSecret = dev.tokenSecret
		}
		if c.verifyToken == "" {
			c.verifyToken = dev.verifyToken
			s.devVerifyToken = true
		}
		// The banner (banner.go) says where they are once serve listens.
		s.devFiles = dev
	case c.privateKey == "":
		return nil, errors.New("an app secret is configured but no private key: set WAFLOW_PRIVATE_KEY_FILE (or -private-key-file), or set neither for a development server")
	case c.appSecrets == "":
		return nil, errors.New("a private key is configured but no app secret: set WAFLOW_APP_SECRET_FILE (or -app-secret-file); requests cannot be authenticated without it")
	}
	ks, err := keys.ParsePrivateKeys([]byte(c.privateKey), []byte(c.passphrase))
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	s.privateKeys = ks
	for _, a := range splitList(c.appSecrets) {
		s.appSecrets = append(s.appSecrets, []byte(a))
	}
	if len(s.appSecrets) == 0 {
		return nil, errors.New("the app secret setting holds no secret")
	}
	if c.tokenSecret == "" {
		return nil, errors.New("no flow-token secret: set WAFLOW_TOKEN_SECRET_FILE (at least 16 random bytes, e.g. `openssl rand -hex 32`)")
	}
	if len(c.tokenSecret) < 16 {
		return nil, fmt.Errorf("the flow-token secret is %d bytes; use at least 16 random bytes", len(c.tokenSecret))
	}
	s.tokenSecret = []byte(c.tokenSecret)
	s.verifyToken = c.verifyToken
	log.Info("keys loaded", "private_keys", len(ks), "app_secrets", len(s.appSecrets), "public_key", keys.Fingerprint(&ks[0].PublicKey))
	return s, nil
}

func serveCommand() *Command {
	return &Command{
		Name:    "serve",
		Summary: "run the backend: data endpoint, webhooks, catalog, preview",
		Help: `
Runs the WhatsApp Flows backend on one address. Each flow's data endpoint is
served at POST /flows/{flow}; health checks at /healthz and /readyz.

With no private key and no app secret configured, serve runs as a development
server: it generates both (and a flow-token secret and a webhook verify token)
into the data folder on first run and says where they are. In production set
at least WAFLOW_PRIVATE_KEY_FILE, WAFLOW_PRIVATE_KEY_PASSPHRASE_FILE,
WAFLOW_APP_SECRET_FILE and WAFLOW_TOKEN_SECRET_FILE. The browser preview
(/preview/) is then off; WAFLOW_PREVIEW=true turns it on and needs
WAFLOW_PREVIEW_SECRET_FILE: open /preview/?key=SECRET once, or send
"Authorization: Bearer SECRET".

Every flag can also be set with the environment variable named in its help;
a flag on the command line wins.

serve runs one RSA decryption per CPU at once and sets GOMAXPROCS above that
(one more with the pure-Go RSA, twice the CPUs with -tags openssl), so a
processor is always free to read new requests (docs/performance.md). An
explicit GOMAXPROCS variable is left as set.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			cfg.declare(s)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("serve", "unexpected argument %q", args[0])
				}
				if err := s.resolve(); err != nil {
					return err
				}
				return runServe(ctx, env, &cfg, nil)
			}
		},
	}
}

// runServe runs the backend until ctx is done. When ready is not nil, it
// receives the listen address once the server accepts connections (tests).
func runServe(ctx context.Context, env *Env, cfg *appConfig, ready chan<- string) error {
	log, err := cfg.logger(env)
	if err != nil {
		return err
	}
	timeout, err := time.ParseDuration(cfg.requestTimeout)
	if err != nil || timeout <= 0 || timeout > 9*time.Second {
		return fmt.Errorf("request timeout %q: want a duration between 0 and 9s (WhatsApp gives up after 10s)", cfg.requestTimeout)
	}
	ttl, err := time.ParseDuration(cfg.tokenTTL)
	if err != nil || ttl <= 0 {
		return fmt.Errorf("token TTL %q: want a positive duration such as 24h", cfg.tokenTTL)
	}
	requireJWT, err := strconv.ParseBool(cfg.requireJWT)
	if err != nil {
		return fmt.Errorf("require-token-signature %q: want true or false", cfg.requireJWT)
	}
	bodyMiB, maxConns, err := cfg.admissionBounds()
	if err != nil {
		return err
	}
	sec, err := cfg.loadSecrets(log)
	if err != nil {
		return err
	}
	if err := checkPreviewSecret(cfg.preview, cfg.previewSecret, sec.dev); err != nil {
		return err
	}
	unwrapper, err := envelope.NewPrivateKeys(sec.privateKeys...)
	if err != nil {
		return err
	}
	decryptions, procs := spareProcessor(env.Getenv)
	unwrapper = unwrapper.WithMaxConcurrent(decryptions)
	verifier, err := signature.New(sec.appSecrets...)
	if err != nil {
		return err
	}
	issuer, err := flowtoken.NewIssuer(sec.tokenSecret)
	if err != nil {
		return err
	}
	issuer.TTL = ttl
	b, err := newBackend(ctx, cfg, sec, verifier, issuer, log)
	if err != nil {
		return err
	}
	defer b.Close()

	epCfg := endpoint.Config{
		Keys:                  unwrapper,
		Signatures:            verifier,
		Tokens:                b.tokenValidator(),
		RequireTokenSignature: requireJWT,
		Timeout:               timeout,
		Logger:                log.With("component", "endpoint"),
		Observe:               b.observeEndpoint,
	}
	flowHandlers := map[string]http.Handler{}
	for _, f := range b.flows.Endpoints() {
		h, err := endpoint.New(epCfg, f)
		if err != nil {
			return fmt.Errorf("flow %s: %w", f.Name(), err)
		}
		flowHandlers[f.Name()] = h
	}
	// The preview issues tokens and drives the real handlers (it books
	// real slots), so a production server shows it only when asked to.
	var preview http.Handler
	if withPreview, err := previewEnabled(cfg.preview, sec.dev); err != nil {
		return err
	} else if withPreview {
		specs, sources := map[string]*flowjson.Flow{}, map[string][]byte{}
		for _, f := range b.flows.Flows() {
			specs[f.Name], sources[f.Name] = f.Spec, f.Source
		}
		preview, err = newPreview(previewDeps{
			Specs:     specs,
			Sources:   sources,
			Endpoints: flowHandlers,
			PublicKey: &sec.privateKeys[0].PublicKey,
			AppSecret: sec.appSecrets[0],
			Tokens:    b.tokens,
			Secret:    cfg.previewSecret,
			Logger:    log.With("component", "preview"),
		})
		if err != nil {
			return err
		}
	}
	srv := server.New(server.Config{
		Addr:           cfg.addr,
		Flows:          flowHandlers,
		Webhook:        b.webhook,
		Metrics:        b.metrics.Handler(),
		Preview:        preview,
		Ready:          b.ready,
		RequestTimeout: timeout,
		Logger:         log,

		BodyBytesInFlight: bodyMiB << 20,
		MaxConns:          maxConns,
	})
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(flowHandlers))
	for _, n := range slices.Sorted(maps.Keys(flowHandlers)) {
		names = append(names, "/flows/"+n)
	}
	log.Info("waflow serving", "addr", ln.Addr().String(), "flows", strings.Join(names, " "), "dev", sec.dev, "rsa", envelope.Backend, "rsa_concurrency", decryptions, "gomaxprocs", procs)
	if preview != nil {
		warnPreviewReach(log, ln.Addr(), cfg.previewSecret != "")
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	writeBanner(env.Stderr, bannerInfo{addr: ln.Addr(), flows: names, webhook: b.webhook != nil, preview: preview != nil, sec: sec})
	err = srv.Serve(ctx, ln)
	writeStopped(env.Stderr, err)
	return err
}

// Defaults of the admission bounds (internal/server, package admission).
const (
	defaultBodyMemoryMiB  = "16"
	defaultMaxConnections = "1024"
)

// admissionBounds reads the MiB of request bodies held at once and the
// connections open at once; an empty setting is its default.
func (c *appConfig) admissionBounds() (bodyMiB int64, maxConns int, err error) {
	bodyMiB, err = strconv.ParseInt(cmp.Or(c.bodyMemoryMiB, defaultBodyMemoryMiB), 10, 64)
	if err != nil || bodyMiB < 4 || bodyMiB > 1<<20 {
		return 0, 0, fmt.Errorf("body memory %q: want a number of MiB, at least 4 (a webhook body of 3 MiB must fit), such as %s", c.bodyMemoryMiB, defaultBodyMemoryMiB)
	}
	maxConns, err = strconv.Atoi(cmp.Or(c.maxConnections, defaultMaxConnections))
	if err != nil || maxConns <= 0 {
		return 0, 0, fmt.Errorf("max connections %q: want a positive number such as %s", c.maxConnections, defaultMaxConnections)
	}
	return bodyMiB, maxConns, nil
}

// previewEnabled reads the preview setting: "auto" serves it only on a
// development server.
func previewEnabled(setting string, dev bool) (bool, error) {
	if setting == "auto" || setting == "" {
		return dev, nil
	}
	on, err := strconv.ParseBool(setting)
	if err != nil {
		return false, fmt.Errorf("preview %q: want true, false or auto", setting)
	}
	return on, nil
}
