package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/simulator/term"
)

func simulateCommand() *Command {
	return &Command{
		Name:    "simulate",
		Args:    "FLOW",
		Summary: "play a flow as the WhatsApp client, against the local server or any URL",
		Help: `
Plays FLOW (a catalog flow's name, or a Flow JSON file) as the WhatsApp
client does: each data-endpoint request encrypted with a fresh AES key for
the endpoint's public key and signed with the app secret, each answer
decrypted and checked as the client checks it, and more strictly (the screen
exists and the routing model allows the move, the data matches the screen's
data model, SUCCESS carries the flow token, error_message is a string).
navigate and complete run locally, as on the phone.

With -scenario FILE the steps come from a JSON scenario (see package
simulator: the values to enter on each screen, the actions, what each step
must bring); without it, simulate asks for each input of each screen on the
terminal (an empty answer keeps the shown value, "<" goes back, "." stops).
Each screen, what was sent, what came back, its latency and the verdict are
printed. The exit status is 1 when a step broke a rule or a scenario
expectation failed.

The endpoint is -url, by default http://ADDR/flows/FLOW. The public key, app
secret and token secret default to the development ones that "waflow serve"
writes into the data folder. The flow token is -flow-token, or one issued
and recorded in the server's database (-database-url, by default
DATA_DIR/waflow.db) the way the server's flow messages record theirs.
-webhook URL delivers the completion webhook (an nfm_reply signed with the
app secret) to a receiver, e.g. http://127.0.0.1:8080/webhook.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var o simulateOptions
			s := newSettings(fs, env)
			o.target.declare(fs, s)
			fs.StringVar(&o.scenario, "scenario", "", "JSON scenario file to play (default: ask on the terminal)")
			fs.StringVar(&o.webhook, "webhook", "", "deliver the completion webhook to this URL")
			fs.DurationVar(&o.wait, "wait", 0, "keep pinging the endpoint this long until it answers (for scripts that just started it)")
			fs.BoolVar(&o.json, "json", false, "print the steps as JSON lines instead of text")
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("simulate", "want one FLOW (a catalog name or a Flow JSON file), got %d arguments", len(args))
				}
				if err := s.resolve(); err != nil {
					return err
				}
				return runSimulate(ctx, env, args[0], &o)
			}
		},
	}
}

type simulateOptions struct {
	target   targetConfig
	scenario string
	webhook  string
	wait     time.Duration
	json     bool
}

// targetConfig says how a simulated client reaches a waflow server (or
// any data endpoint): its address, keys, secrets and database.
type targetConfig struct {
	addr, url, dataDir, databaseURL string
	publicKey, appSecret            string
	tokenSecret, flowToken          string
	waID                            string
}

func (t *targetConfig) declare(fs *flag.FlagSet, s *settings) {
	s.String(&t.addr, "addr", "WAFLOW_ADDR", "127.0.0.1:8080", "address of the waflow server, for the default endpoint URL")
	s.String(&t.dataDir, "data-dir", "WAFLOW_DATA_DIR", "./waflow-data", "data folder of the server: development keys and secrets, database")
	fs.StringVar(&t.url, "url", "", "the data endpoint (default http://ADDR/flows/FLOW)")
	fs.StringVar(&t.publicKey, "public-key", "", "the endpoint's public key, PEM (default DATA_DIR/dev/public.pem)")
	s.Secret(&t.appSecret, "app-secret", "WAFLOW_APP_SECRET", "the app secret that signs requests; the first of a list (default DATA_DIR/dev/app-secret)")
	s.Secret(&t.tokenSecret, "token-secret", "WAFLOW_TOKEN_SECRET", "the secret that signs flow tokens (default DATA_DIR/dev/token-secret)")
	s.Secret(&t.databaseURL, "database-url", "WAFLOW_DATABASE_URL", "the server's database, where issued flow tokens are recorded (default DATA_DIR/waflow.db)")
	fs.StringVar(&t.flowToken, "flow-token", "", "use this flow token instead of issuing one")
	s.FlowsDir()
	fs.StringVar(&t.waID, "wa-id", "15550000001", "the simulated user's WhatsApp id: flow tokens are issued for it and completion webhooks come from it")
}

// loadAppSecret returns the app secret that signs requests.
func (t *targetConfig) loadAppSecret() ([]byte, error) {
	s, err := secretOrDev(t.appSecret, t.dataDir, "app-secret", "-app-secret-file")
	if err != nil {
		return nil, err
	}
	return []byte(signingSecret(s)), nil
}

// loadPublicKey returns the endpoint's public key.
func (t *targetConfig) loadPublicKey() (*rsa.PublicKey, error) {
	return endpointPublicKey(t.publicKey, t.dataDir)
}

func (t *targetConfig) tokenIssuer(ctx context.Context) (func(ctx context.Context, flow string) (string, error), func(), error) {
	if t.flowToken != "" {
		return func(context.Context, string) (string, error) { return t.flowToken, nil }, func() {}, nil
	}
	secret, err := secretOrDev(t.tokenSecret, t.dataDir, "token-secret", "-token-secret-file or -flow-token")
	if err != nil {
		return nil, nil, err
	}
	iss, err := flowtoken.NewIssuer([]byte(secret))
	if err != nil {
		return nil, nil, err
	}
	dbURL := t.databaseURL
	if dbURL == "" {
		dbURL = filepath.Join(t.dataDir, "waflow.db")
		if _, err := os.Stat(dbURL); err != nil {
			return nil, nil, fmt.Errorf("no database at %s to record a flow token in: start the server first, or set -database-url or -flow-token", dbURL)
		}
	}
	store, err := storage.Open(ctx, dbURL, storage.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", storage.Describe(dbURL), err)
	}
	tokens := endpoint.StoreTokens{Issuer: iss, Store: store}
	issue := func(ctx context.Context, flow string) (string, error) {
		tok, _, err := tokens.Issue(ctx, flow, t.waID)
		return tok, err
	}
	return issue, func() { store.Close() }, nil
}

// loadFlow reads FLOW: a catalog flow's name or a Flow JSON file. A flow
// with errors is refused with the validator's report.
func loadFlow(env *Env, arg string) (name string, spec *flowjson.Flow, src []byte, err error) {
	known, err := describeFlows(env)
	if err != nil {
		return "", nil, nil, err
	}
	if f := known.Flow(arg); f != nil {
		name, src = arg, f.Source
	} else {
		name = strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg))
		src, err = readFlowFile(env, arg)
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, nil, fmt.Errorf("%s is neither a file nor a known flow (%s)", arg, strings.Join(known.Names(), ", "))
		}
	}
	if err != nil {
		return "", nil, nil, err
	}
	spec, problems := flowjson.ValidateSource(src)
	if problems.HasErrors() {
		var b strings.Builder
		problems.WriteText(&b, arg)
		return "", nil, nil, fmt.Errorf("%s does not validate:\n%s", arg, strings.TrimRight(b.String(), "\n"))
	}
	return name, spec, src, nil
}

func runSimulate(ctx context.Context, env *Env, flowArg string, o *simulateOptions) error {
	err := simulate(ctx, env, flowArg, o)
	if errors.Is(err, syscall.ECONNREFUSED) {
		where := o.target.url
		if where == "" {
			where = o.target.addr
		}
		return fmt.Errorf("%w\nis `waflow serve` running at %s? Start it in another terminal, or set -addr or -url", err, where)
	}
	return err
}

func simulate(ctx context.Context, env *Env, flowArg string, o *simulateOptions) error {
	name, spec, _, err := loadFlow(env, flowArg)
	if err != nil {
		return err
	}
	var sc *simulator.Scenario
	if o.scenario != "" {
		b, err := os.ReadFile(o.scenario)
		if err != nil {
			return err
		}
		if sc, err = simulator.ParseScenario(b); err != nil {
			return fmt.Errorf("%s: %w", o.scenario, err)
		}
	}
	cfg := simulator.Config{Flow: spec, Name: name}
	needSecret := spec.DataAPIVersion != "" || o.webhook != ""
	var appSecret []byte
	load := func() error {
		if !needSecret {
			return nil
		}
		if appSecret, err = o.target.loadAppSecret(); err != nil {
			return err
		}
		if spec.DataAPIVersion != "" {
			cfg.URL = o.target.url
			if cfg.URL == "" {
				cfg.URL = "http://" + o.target.addr + "/flows/" + name
			}
			if cfg.PublicKey, err = o.target.loadPublicKey(); err != nil {
				return err
			}
			cfg.AppSecret = appSecret
		}
		return nil
	}
	// With -wait, a development server that is starting may not have
	// written its keys yet.
	for deadline := time.Now().Add(o.wait); ; {
		err := load()
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if spec.DataAPIVersion != "" && o.wait > 0 {
		// Wait before issuing the token: a server that just started may
		// not have created its database yet.
		probe, err := simulator.NewClient(cfg)
		if err != nil {
			return err
		}
		if err := probe.WaitReady(ctx, o.wait); err != nil {
			return err
		}
	} else if o.webhook != "" && o.wait > 0 {
		// A static flow never calls the endpoint: wait for the webhook
		// receiver instead, or the completion finds no server yet.
		if err := waitListening(ctx, o.webhook, o.wait); err != nil {
			return err
		}
	}
	cfg.FlowToken = o.target.flowToken
	if cfg.FlowToken == "" && !needSecret {
		cfg.FlowToken = "flowtest" // nobody checks it: no endpoint, no webhook
	}
	if cfg.FlowToken == "" {
		issue, closeStore, err := o.target.tokenIssuer(ctx)
		if err != nil {
			return err
		}
		cfg.FlowToken, err = issue(ctx, name)
		closeStore()
		if err != nil {
			return fmt.Errorf("issuing a flow token: %w", err)
		}
	}
	c, err := simulator.NewClient(cfg)
	if err != nil {
		return err
	}
	to := term.Options{Scenario: sc, In: env.Stdin, Out: env.Stdout, JSON: o.json}
	if o.webhook != "" {
		to.Webhook = simulator.WebhookOptions{URL: o.webhook, AppSecret: appSecret, WAID: o.target.waID}
	}
	failures, err := term.Run(ctx, c, to)
	if err != nil {
		return err
	}
	if len(failures) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d problem(s)", len(failures))}
	}
	return nil
}

// waitListening waits until the host of rawURL accepts TCP connections,
// for at most within.
func waitListening(ctx context.Context, rawURL string, within time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-webhook %q: want a URL such as http://127.0.0.1:8080/webhook", rawURL)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	host := net.JoinHostPort(u.Hostname(), port)
	deadline := time.Now().Add(within)
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", host)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the webhook receiver %s did not answer within %s: %w", host, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
