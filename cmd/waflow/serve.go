package main

import (
	"cmp"
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/internal/app"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/keyfiles"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/preview"
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
	mediaDir        string
	console         string

	graph graphConfig // the Graph API side (graphconfig.go)

	api    apiSettings    // the HTTP API (apikeys.go)
	events eventsSettings // events to the business, the relay (eventsconfig.go)

	serve serveSettings // serve's own: HTTPS, stopping (servetls.go)

	assistant assistantSettings // reminders, alerts, digests (assistant.go)
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
	s.String(&c.requireJWT, "require-token-signature", "WAFLOW_REQUIRE_TOKEN_SIGNATURE", "false", "reject (427) Data API 4.0 requests whose flow_token_signature is missing or does not verify; otherwise they are counted and logged")
	s.String(&c.logLevel, "log-level", "WAFLOW_LOG_LEVEL", "info", "debug, info, warn or error")
	s.String(&c.logFormat, "log-format", "WAFLOW_LOG_FORMAT", "text", "text or json")
	s.String(&c.bodyMemoryMiB, "body-memory-mib", "WAFLOW_BODY_MEMORY_MIB", defaultBodyMemoryMiB, "MiB of webhook and data-endpoint request bodies in memory at once (read, not yet answered; the signature can only be checked once a body is whole); past it a request is answered 503 with Retry-After")
	s.String(&c.maxConnections, "max-connections", "WAFLOW_MAX_CONNECTIONS", defaultMaxConnections, "connections open at once; past it an idle one is closed to make room, or the new one is answered 503 with Retry-After")
	s.String(&c.catalogSettings, "catalog-settings", "WAFLOW_CATALOG_SETTINGS", "", "the catalog settings file (JSON; keys it has replace the defaults: see waflow catalog settings)")
	s.FlowsDir()
	s.String(&c.preview, "preview", "WAFLOW_PREVIEW", "auto", "serve the browser preview at /preview/: true, false, or auto (only in development mode: the preview drives the real handlers, e.g. books slots)")
	s.Secret(&c.previewSecret, "preview-secret", "WAFLOW_PREVIEW_SECRET", "the secret that signs in to the preview (/preview/?key=SECRET or Authorization: Bearer SECRET); required with real keys")
	s.String(&c.mediaDir, "media-dir", "WAFLOW_MEDIA_DIR", "", "keep PhotoPicker and DocumentPicker files in this folder instead of the database (one machine only: replicas do not share it)")
	s.String(&c.console, "console", "WAFLOW_CONSOLE", "auto", "serve the browser console at /console/: auto or true (in production only once an account exists: waflow console users add), or false")
	c.graph.declare(s)
	c.api.declare(s)
	c.events.declare(s)
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
	devFiles       *keyfiles.Dev
	devVerifyToken bool
}

// loadSecrets loads the configured key and secrets or, when neither a key
// nor an app secret is configured, the development ones from the data folder
// (generated on first run).
func (c *appConfig) loadSecrets(log *slog.Logger) (*secrets, error) {
	s := &secrets{}
	switch {
	case c.privateKey == "" && c.appSecrets == "":
		dev, err := keyfiles.Development(c.dataDir)
		if err != nil {
			return nil, err
		}
		s.dev = true
		c.privateKey, c.appSecrets = dev.PrivateKeyPEM, dev.AppSecret
		if c.tokenSecret == "" {
			c.tokenSecret = dev.TokenSecret
		}
		if c.verifyToken == "" {
			c.verifyToken = dev.VerifyToken
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
			cfg.serve.declare(s)
			cfg.assistant.declare(s)
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
	// The preview issues tokens and drives the real handlers (it books
	// real slots), so a production server shows it only when asked to.
	withPreview, err := previewEnabled(cfg.preview, sec.dev)
	if err != nil {
		return err
	}
	if sec.verifyToken == "" {
		return errors.New("no webhook verify token: set WAFLOW_VERIFY_TOKEN_FILE (the token you type into the Meta app dashboard)")
	}
	lease, err := positiveDuration("webhook lease", cfg.webhookLease)
	if err != nil {
		return err
	}
	handlerTimeout, err := positiveDuration("webhook handler timeout", cfg.webhookTimeout)
	if err != nil {
		return err
	}
	settings, err := loadCatalogSettings(cfg.catalogSettings)
	if err != nil {
		return err
	}
	dbURL, err := cfg.databaseURL()
	if err != nil {
		return err
	}
	tlsCfg, err := cfg.serve.tlsConfig(cfg.addr)
	if err != nil {
		return err
	}
	drain, shutdown, err := cfg.serve.stopDurations(sec.dev)
	if err != nil {
		return err
	}
	ac := app.Config{
		Addr:                  cfg.addr,
		DatabaseURL:           dbURL,
		PrivateKeys:           sec.privateKeys,
		AppSecrets:            sec.appSecrets,
		TokenSecret:           sec.tokenSecret,
		TokenTTL:              ttl,
		VerifyToken:           sec.verifyToken,
		RequireTokenSignature: requireJWT,
		RequestTimeout:        timeout,
		WebhookLease:          lease,
		WebhookHandlerTimeout: handlerTimeout,
		CatalogSettings:       settings,
		FlowsDir:              env.flowsDir,
		Getenv:                env.Getenv,
		Preview:               withPreview,
		PreviewSecret:         cfg.previewSecret,
		BodyBytesInFlight:     bodyMiB << 20,
		MaxConns:              maxConns,
		TLS:                   tlsCfg,
		TLSCacheDir:           cfg.tlsCacheDir(),
		DrainDelay:            drain,
		ShutdownTimeout:       shutdown,
		Media:                 app.MediaConfig{Dir: cfg.mediaDir, PublicURL: cfg.graph.publicURL},
		Logger:                log,
	}
	if ac.Console, err = consoleConfig(cfg.console, sec.dev); err != nil {
		return err
	}
	if ac.Console != nil {
		ac.Console.WABAID = cfg.graph.wabaID
	}
	if ac.Events, err = cfg.events.config(); err != nil {
		return err
	}
	if ac.Outbox, ac.OutboxOff, err = cfg.graph.outbox(log); err != nil {
		return err
	}
	if ac.API, err = cfg.api.appConfig(); err != nil {
		return err
	}
	if ac.Assistant, err = cfg.assistant.config(); err != nil {
		return err
	}
	decryptions, procs := spareProcessor(env.Getenv)
	ac.Decryptions = decryptions
	a, err := app.New(ctx, ac)
	if err != nil {
		return err
	}
	defer a.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	var httpLn net.Listener
	if cfg.serve.httpAddr != "" {
		if httpLn, err = net.Listen("tcp", cfg.serve.httpAddr); err != nil {
			ln.Close()
			return fmt.Errorf("HTTP address: %w", err)
		}
		log.Info("plain HTTP: redirects to HTTPS and ACME challenges", "http_addr", httpLn.Addr().String())
	}
	names := a.EndpointPaths()
	log.Info("waflow serving", "addr", ln.Addr().String(), "tls", a.HasTLS(), "flows", strings.Join(names, " "), "dev", sec.dev, "rsa", envelope.Backend, "rsa_concurrency", decryptions, "gomaxprocs", procs)
	if a.HasPreview() {
		warnPreviewReach(log, ln.Addr(), cfg.previewSecret != "")
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	writeBanner(env.Stderr, bannerInfo{addr: ln.Addr(), https: a.HasTLS(), domains: splitList(cfg.serve.tlsDomains), flows: names, webhook: a.HasWebhook(), preview: a.HasPreview(), console: a.HasConsole(), sec: sec})
	err = a.ServeWithHTTP(ctx, ln, httpLn)
	writeStopped(env.Stderr, err)
	return err
}

// outbox configures serve's outbox worker, which sends the outbox's
// messages through the Graph API. Without an access token or a phone
// number id it returns nil and why, for the server to say once, plainly,
// that messages wait in the outbox. Any other Graph setting that is wrong
// fails serve.
func (g *graphConfig) outbox(log *slog.Logger) (*app.OutboxConfig, string, error) {
	switch {
	case g.accessToken == "":
		return nil, "no Graph API access token is configured (WAFLOW_GRAPH_ACCESS_TOKEN_FILE)", nil
	case g.phoneNumberID == "":
		return nil, "no phone number id is configured (WAFLOW_PHONE_NUMBER_ID)", nil
	}
	timeout, err := g.requestTimeout()
	if err != nil {
		return nil, "", fmt.Errorf("outbox: %w", err)
	}
	// The outbox keeps its own retry schedule: the client only rides out a
	// short hiccup, well inside the worker's send timeout (two attempts
	// and one wait of at most 10s).
	client, err := g.newClient(log, &graph.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Second, MaxDelay: 10 * time.Second, Jitter: 0.5})
	if err != nil {
		return nil, "", fmt.Errorf("outbox: %w", err)
	}
	return &app.OutboxConfig{Client: client, PhoneNumberID: g.phoneNumberID, GraphTimeout: timeout}, "", nil
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

// positiveDuration parses the duration setting named what.
func positiveDuration(what, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive duration such as 30s", what, v)
	}
	return d, nil
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
