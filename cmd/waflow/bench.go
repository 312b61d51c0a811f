package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path"
	"time"

	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/loadgen"
)

func benchCommand() *Command {
	return &Command{
		Name:    "bench",
		Args:    "[URL]",
		Summary: "load-test a data endpoint or webhook receiver as many WhatsApp clients",
		Help: `
Sends requests to URL as WhatsApp does, checks every answer, and reports
requests per second, latency percentiles (p50, p90, p99, max) and failures by
kind. Examples:

  waflow bench -d 10s
  waflow bench -c 8 -d 10s http://127.0.0.1:8080/flows/NAME
  waflow bench -rate 500 -d 30s http://127.0.0.1:8080/flows/NAME
  waflow bench -mode init -c 8 -n 5000 http://127.0.0.1:8080/flows/NAME
  waflow bench -mode webhook -c 16 -d 10s -dup 0.1 http://127.0.0.1:8080/webhook

Without URL, bench targets the local server, as simulate does: -addr
(WAFLOW_ADDR, default 127.0.0.1:8080) with /flows/FLOW (-flow, default
appointment_booking), or /webhook in webhook mode.

Modes: ping (health checks, the default), init (the first request of a flow,
with flow tokens from -flow-token or minted with the token secret for -flow,
by default the last element of URL, and recorded in the server's database so
that its token check accepts them), step (one request of a simulator
scenario, -scenario FILE -step N: the scenario is played once, then its N-th
request is repeated), webhook (signed flow-completion webhooks, unique
message ids, -dup of them repeated). Webhook mode writes every delivery into
the server's database (its inbox); point it at a development server whose
data folder you can throw away.

  waflow bench -mode step -scenario simulator/testdata/scenarios/appointment_booking.json \
    -step 4 -c 8 -d 10s http://127.0.0.1:8080/flows/appointment_booking

-c N runs a closed loop of N clients (peak throughput); -rate R an open loop
of R requests per second (latency at a given load, measured from when each
request was due). A run needs a bound: -n requests, -d duration, or both.

Data-endpoint requests are encrypted for the public key before the clock
starts (-pool of them, sent in turn). The public key, app secret and token
secret default to the development ones "waflow serve" writes into the data
folder, so a bare "waflow bench -d 5s URL" tests a development server.
-pid PID adds the server's CPU time during the run and its resident memory
(Linux) to the report.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var o benchOptions
			fs.StringVar(&o.mode, "mode", "ping", "ping, init, step or webhook")
			fs.IntVar(&o.concurrency, "c", 8, "clients of a closed loop")
			fs.Float64Var(&o.rate, "rate", 0, "requests per second of an open loop (instead of -c)")
			fs.Int64Var(&o.requests, "n", 0, "stop after this many requests")
			fs.DurationVar(&o.duration, "d", 0, "stop after this long")
			fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "longest wait for one answer")
			fs.IntVar(&o.pool, "pool", loadgen.DefaultPool, "distinct encrypted requests prepared up front")
			fs.StringVar(&o.version, "version", "3.0", "Data API version in the requests; from 4.0, INIT requests carry the flow_token_signature, signed with the app secret")
			fs.StringVar(&o.publicKey, "public-key", "", "the endpoint's public key, PEM (default: DATA_DIR/dev/public.pem)")
			fs.StringVar(&o.flow, "flow", "", "the flow: init mints flow tokens for it; step plays the scenario on its Flow JSON (a catalog or -flows-dir flow, or FILE.json) and mints the token for it; webhook mints completion tokens for it; without URL, the target is /flows/FLOW (default: the last element of URL; in webhook mode none, placeholder tokens)")
			fs.StringVar(&o.flowToken, "flow-token", "", "one flow token for every INIT request, instead of minted ones")
			fs.StringVar(&o.databaseURL, "database-url", "", "the server's database, where minted flow tokens are recorded (default: DATA_DIR/waflow.db)")
			fs.StringVar(&o.scenario, "scenario", "", "step mode: a simulator scenario (see waflow simulate)")
			fs.IntVar(&o.step, "step", 0, "step mode: which request of the scenario to repeat, from 1")
			fs.Float64Var(&o.dup, "dup", 0, "webhook mode: share of deliveries repeated, 0 to 0.9")
			fs.IntVar(&o.pid, "pid", 0, "server process id: report its CPU time and resident memory (Linux)")
			fs.BoolVar(&o.json, "json", false, "print the result as JSON")
			fs.BoolVar(&o.quiet, "q", false, "no progress line")
			s := newSettings(fs, env)
			s.String(&o.addr, "addr", "WAFLOW_ADDR", "127.0.0.1:8080", "address of the local waflow server, for the default URL")
			s.String(&o.dataDir, "data-dir", "WAFLOW_DATA_DIR", "./waflow-data", "data folder of a development server, for the default keys and secrets")
			s.Secret(&o.appSecret, "app-secret", "WAFLOW_APP_SECRET", "the app secret that signs requests; the first of a list (default: DATA_DIR/dev/app-secret)")
			s.Secret(&o.tokenSecret, "token-secret", "WAFLOW_TOKEN_SECRET", "the secret that signs flow tokens (default: DATA_DIR/dev/token-secret)")
			s.FlowsDir()
			return func(ctx context.Context, args []string) error {
				if len(args) > 1 {
					return usagef("bench", "want one URL or none (the local server), got %d arguments", len(args))
				}
				if err := s.resolve(); err != nil {
					return err
				}
				if len(args) == 1 {
					o.url = args[0]
				} else {
					o.url = o.localURL()
					fmt.Fprintf(env.Stderr, "waflow bench: no URL given: targeting the local server, %s (-addr, -flow or a URL choose another)\n", o.url)
				}
				return runBench(ctx, env, &o)
			}
		},
	}
}

type benchOptions struct {
	url, mode, addr             string
	concurrency, pool, pid      int
	rate, dup                   float64
	requests                    int64
	duration, timeout           time.Duration
	version, publicKey, dataDir string
	appSecret, tokenSecret      string
	flow, flowToken             string
	databaseURL, scenario       string
	step                        int
	json, quiet                 bool
	closers                     []func() // run after the load run
}

// localURL is the URL of the local server: its webhook receiver in webhook
// mode, else the data endpoint of -flow (appointment_booking by default).
func (o *benchOptions) localURL() string {
	if o.mode == "webhook" {
		return "http://" + o.addr + "/webhook"
	}
	flow := o.flow
	if flow == "" {
		flow = benchDefaultFlow
	}
	return "http://" + o.addr + "/flows/" + url.PathEscape(flow)
}

// benchDefaultFlow is the flow bench targets without URL nor -flow: a
// catalog flow with a data endpoint.
const benchDefaultFlow = "appointment_booking"

func runBench(ctx context.Context, env *Env, o *benchOptions) error {
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("bench", "URL %q: want http:// or https:// and a host", o.url)
	}
	switch {
	case o.requests <= 0 && o.duration <= 0:
		return usagef("bench", "set -n or -d: a load test without a bound would never stop")
	case o.requests < 0 || o.duration < 0:
		return usagef("bench", "-n and -d must not be negative")
	case o.rate < 0:
		return usagef("bench", "-rate must be positive")
	case o.rate == 0 && o.concurrency <= 0:
		return usagef("bench", "-c must be at least 1")
	}
	src, err := o.source(ctx, env, u)
	defer func() {
		for _, c := range o.closers {
			c()
		}
	}()
	if err != nil {
		return err
	}
	cfg := loadgen.Config{
		URL: o.url, Source: src, Concurrency: o.concurrency, Rate: o.rate,
		Requests: o.requests, Duration: o.duration, Timeout: o.timeout,
	}
	if !o.quiet {
		cfg.Progress = env.Stderr
		cfg.ProgressOverwrite = isTerminal(env.Stderr)
	}
	var before *loadgen.ProcessStats
	if o.pid > 0 {
		if before, err = loadgen.ReadProcess(o.pid); err != nil {
			return fmt.Errorf("-pid: %w", err)
		}
	}
	res, runErr := loadgen.Run(ctx, cfg)
	if res == nil {
		return runErr
	}
	if before != nil {
		if res.Server, err = loadgen.ReadProcess(o.pid); err != nil {
			fmt.Fprintf(env.Stderr, "waflow bench: %v\n", err)
		} else {
			res.Server.CPUSeconds -= before.CPUSeconds // during the run
		}
	}
	if o.json {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		res.WriteText(env.Stdout)
	}
	switch {
	case runErr != nil:
		return fmt.Errorf("interrupted: %w", runErr)
	case res.Failed > 0:
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d requests failed", res.Failed, res.Requests)}
	}
	return nil
}

// source builds the requests of the mode.
func (o *benchOptions) source(ctx context.Context, env *Env, u *url.URL) (loadgen.Source, error) {
	appSecret, err := secretOrDev(o.appSecret, o.dataDir, "app-secret", "-app-secret-file")
	if err != nil {
		return nil, err
	}
	appSecret = signingSecret(appSecret)
	switch o.mode {
	case "ping", "init":
	case "step":
		return o.stepSource(ctx, env, u, appSecret)
	case "webhook":
		if o.appSecret == "" {
			// The development server's own secret: its database takes
			// every delivery.
			fmt.Fprintf(env.Stderr, "waflow bench: webhook mode writes every delivery into the development server's database (%s): its inbox%s. Use a data folder you can throw away.\n",
				o.databaseOrDefault(), map[bool]string{true: ", and the completions of " + o.flow, false: ""}[o.flow != ""])
		}
		w := loadgen.WebhookOptions{AppSecret: []byte(appSecret), DuplicateRatio: o.dup}
		if o.flow != "" {
			// Recorded tokens, so the server's worker acts on the
			// completions as it would on WhatsApp's.
			tokens, closeStore, err := o.recorder(ctx)
			if err != nil {
				return nil, err
			}
			o.closers = append(o.closers, closeStore) // tokens are issued during the run
			w.FlowToken = func(m int64) (string, error) {
				t, _, err := tokens.Issue(ctx, o.flow, loadgen.WAID(int(m)))
				return t, err
			}
		}
		return loadgen.NewWebhook(w)
	default:
		return nil, usagef("bench", "-mode %q: want ping, init, step or webhook", o.mode)
	}
	pub, err := endpointPublicKey(o.publicKey, o.dataDir)
	if err != nil {
		return nil, err
	}
	opts := loadgen.EndpointOptions{PublicKey: pub, AppSecret: []byte(appSecret), Version: o.version, Pool: o.pool}
	if o.mode == "ping" {
		return loadgen.NewPing(opts)
	}
	if o.flowToken != "" {
		return loadgen.NewInit(opts, func(int) (string, error) { return o.flowToken, nil })
	}
	if o.flow == "" {
		o.flow = path.Base(u.Path)
		if o.flow == "/" || o.flow == "." {
			return nil, usagef("bench", "-mode init: name the flow with -flow, or give -flow-token")
		}
	}
	tokens, closeStore, err := o.recorder(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	return loadgen.NewInit(opts, func(i int) (string, error) {
		t, _, err := tokens.Issue(ctx, o.flow, loadgen.WAID(i))
		return t, err
	})
}

func (o *benchOptions) issuer() (*flowtoken.Issuer, error) {
	secret, err := secretOrDev(o.tokenSecret, o.dataDir, "token-secret", "-token-secret-file")
	if err != nil {
		return nil, err
	}
	return flowtoken.NewIssuer([]byte(secret))
}

// isTerminal reports whether w is a terminal, where a progress line can
// overwrite itself.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
