package main

import (
	"bufio"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/simulator"
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
	known, err := describeFlows()
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
		if err := waitForEndpoint(ctx, probe, o.wait); err != nil {
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
	out := &stepPrinter{w: env.Stdout, json: o.json}
	s := simulator.NewSession(c)
	fmt.Fprintf(env.Stdout, "simulating %s (Flow JSON %s", name, spec.Version)
	if spec.DataAPIVersion != "" {
		fmt.Fprintf(env.Stdout, ", Data API %s) against %s\n", spec.DataAPIVersion, cfg.URL)
	} else {
		fmt.Fprintln(env.Stdout, ", no data endpoint: navigate and complete run locally)")
	}
	var failures []string
	if sc != nil {
		rep, err := simulator.Play(ctx, s, sc, func(_ int, st *simulator.Step) {
			out.step(st)
			if st.Kind != simulator.ActionPing && st.Kind != "error" {
				out.view(s)
			}
		})
		if err != nil {
			return err
		}
		failures = rep.Failures
	} else {
		if failures, err = interact(ctx, env, s, out); err != nil {
			return err
		}
	}
	if o.webhook != "" && s.Completion() != nil {
		st, err := s.DeliverCompletion(ctx, simulator.WebhookOptions{URL: o.webhook, AppSecret: appSecret, WAID: o.target.waID})
		if err != nil {
			return err
		}
		out.step(st)
		if !st.OK() {
			failures = append(failures, "webhook: "+st.Err().Error())
		}
	}
	return verdict(env, s, failures)
}

// waitForEndpoint pings until the endpoint answers or d passes.
func waitForEndpoint(ctx context.Context, c *simulator.Client, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		_, err := c.Send(ctx, simulator.Request{Action: simulator.ActionPing})
		var te *simulator.TransportError
		if err == nil || !errors.As(err, &te) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the endpoint did not answer within %s: %w", d, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// verdict prints the summary and turns failures into the exit status.
func verdict(env *Env, s *simulator.Session, failures []string) error {
	var n int
	var total, worst time.Duration
	for _, st := range s.Steps() {
		if st.Endpoint {
			n++
			total += st.Latency
			worst = max(worst, st.Latency)
		}
	}
	st := s.State()
	end := "the flow did not complete"
	switch {
	case st.Completion != nil:
		end = "the flow completed (" + st.Completion.Via + ")"
	case st.Closed:
		end = fmt.Sprintf("the endpoint closed the flow (427: %q)", st.CloseMessage)
	}
	fmt.Fprintf(env.Stdout, "\n%s; %s, %s", end, count(len(s.Steps()), "step"), count(n, "request"))
	if n > 0 {
		fmt.Fprintf(env.Stdout, ", latency mean %s max %s", (total / time.Duration(n)).Round(10*time.Microsecond), worst.Round(10*time.Microsecond))
	}
	fmt.Fprintln(env.Stdout)
	if len(failures) > 0 {
		fmt.Fprintln(env.Stdout, "FAIL")
		for _, f := range failures {
			fmt.Fprintln(env.Stdout, "  "+f)
		}
		return &exitError{code: 1, msg: fmt.Sprintf("%d problem(s)", len(failures))}
	}
	fmt.Fprintln(env.Stdout, "PASS")
	return nil
}

// stepPrinter prints steps and screens as text or JSON lines.
type stepPrinter struct {
	w    io.Writer
	json bool
}

func (p *stepPrinter) step(st *simulator.Step) {
	if p.json {
		b, _ := json.Marshal(map[string]any{"step": st})
		fmt.Fprintf(p.w, "%s\n", redactTokens(b))
		return
	}
	st.WriteText(p.w)
}

func (p *stepPrinter) view(s *simulator.Session) {
	v := s.View()
	if v == nil || s.Done() {
		return
	}
	if p.json {
		b, _ := json.Marshal(map[string]any{"view": v})
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintln(p.w)
	v.WriteText(p.w)
}

// redactTokens hides flow tokens in printed JSON.
func redactTokens(b []byte) []byte {
	var x any
	if json.Unmarshal(b, &x) != nil {
		return b
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				if k == "flow_token" || k == "flow_token_signature" {
					x[k] = "(hidden)"
				} else {
					x[k] = walk(v)
				}
			}
		case []any:
			for i, v := range x {
				x[i] = walk(v)
			}
		}
		return x
	}
	out, _ := json.Marshal(walk(x))
	return out
}

// interact asks for each shown input of each screen on the terminal and
// presses the Footer, until the flow ends or the input does.
func interact(ctx context.Context, env *Env, s *simulator.Session, out *stepPrinter) ([]string, error) {
	in := bufio.NewScanner(env.Stdin)
	ask := func(prompt string) (string, bool) {
		fmt.Fprint(env.Stdout, prompt)
		if !in.Scan() {
			fmt.Fprintln(env.Stdout)
			return "", false
		}
		return strings.TrimSpace(in.Text()), true
	}
	st, err := s.Start(ctx)
	if err != nil {
		return nil, err
	}
	out.step(st)
	var failures []string
	titles := map[string]map[string]string{} // input name -> option id -> title
	for !s.Done() && s.Screen() != nil {
		out.view(s)
		v := s.View()
		back := false
		for _, it := range v.Items {
			if len(it.Options) > 0 {
				titles[it.Name] = map[string]string{}
				for _, o := range it.Options {
					titles[it.Name][o.ID] = o.Title
				}
			}
			if !flowjson.IsInput(it.Type) || !it.Enabled || it.Type == "PhotoPicker" || it.Type == "DocumentPicker" {
				continue
			}
			for {
				ans, ok := ask(fmt.Sprintf("%s %s%s: ", it.Type, it.Name, hint(it)))
				if !ok || ans == "." {
					return append(failures, "stopped before the flow ended"), nil
				}
				if ans == "<" {
					back = true
					break
				}
				if ans == "" {
					break
				}
				// Checked as it is typed, as the phone checks it at the
				// Footer: a wrong answer is asked again at once.
				val, err := parseAnswer(s, it, ans)
				if err == nil {
					err = s.Try(it.Name, val)
				}
				if err != nil {
					fmt.Fprintf(env.Stdout, "   refused: %v%s\n", err, optionList(it))
					continue
				}
				break
			}
			if back {
				break
			}
		}
		if back {
			st, err = s.Back(ctx)
		} else {
			st, err = s.Submit(ctx)
		}
		if err != nil {
			fmt.Fprintf(env.Stdout, "   %v\n", err)
			if back || errors.Is(err, simulator.ErrClosed) {
				continue
			}
			return failures, err
		}
		out.step(st)
		if len(st.Violations) > 0 {
			failures = append(failures, st.Err().Error())
			return failures, nil // the client shows an error and stops here
		}
	}
	if c := s.Completion(); c != nil {
		writeAnswers(env.Stdout, c.ResponseJSON, titles)
	}
	return failures, nil
}

// optionList lists the valid answers of a choice input, for a refusal.
func optionList(it *simulator.Item) string {
	var ids []string
	for _, o := range it.Options {
		if o.Enabled {
			ids = append(ids, fmt.Sprintf("%s (%s)", o.ID, o.Title))
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return "; the options are: " + strings.Join(ids, ", ")
}

// writeAnswers prints what the completion sends as readable lines, one
// field each, with the titles of chosen options; the flow token stays
// hidden.
func writeAnswers(w io.Writer, resp map[string]any, titles map[string]map[string]string) {
	keys := slices.Sorted(maps.Keys(resp))
	width := 0
	for _, k := range keys {
		width = max(width, len(k))
	}
	fmt.Fprintln(w, "\nanswers:")
	for _, k := range keys {
		v := resp[k]
		if k == "flow_token" || k == "flow_token_signature" {
			v = "(hidden)"
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, k, readable(v, titles[k]))
	}
}

// readable formats a submitted value for people: text as is, yes/no,
// lists joined with commas, an option id with its title.
func readable(v any, titles map[string]string) string {
	switch v := v.(type) {
	case nil:
		return "(empty)"
	case string:
		if t, ok := titles[v]; ok && t != v {
			return fmt.Sprintf("%s (%s)", v, t)
		}
		if v == "" {
			return "(empty)"
		}
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = readable(x, titles)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, k+": "+readable(v[k], titles))
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// hint describes what an answer may be.
func hint(it *simulator.Item) string {
	var parts []string
	switch it.Type {
	case "CheckboxGroup", "ChipsSelector":
		parts = append(parts, "ids separated by commas")
	case "OptIn":
		parts = append(parts, "yes/no")
	case "DatePicker", "CalendarPicker":
		if it.Mode == "range" {
			parts = append(parts, "YYYY-MM-DD..YYYY-MM-DD")
		} else {
			parts = append(parts, "YYYY-MM-DD")
		}
	}
	switch it.Type {
	case "RadioButtonsGroup", "Dropdown", "CheckboxGroup", "ChipsSelector", "DatePicker", "CalendarPicker":
		parts = append(parts, "$first picks")
	}
	if it.Value != nil {
		b, _ := json.Marshal(it.Value)
		parts = append(parts, "now "+string(b))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// parseAnswer turns a typed answer into the input's value.
func parseAnswer(s *simulator.Session, it *simulator.Item, ans string) (any, error) {
	if ans == "$first" || ans == "$last" {
		return s.Pick(it.Name, ans == "$last")
	}
	switch it.Type {
	case "CheckboxGroup", "ChipsSelector":
		var ids []any
		for _, id := range strings.Split(ans, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		return ids, nil
	case "OptIn":
		switch strings.ToLower(ans) {
		case "y", "yes", "true", "1":
			return true, nil
		case "n", "no", "false", "0":
			return false, nil
		}
		return nil, errors.New("answer yes or no")
	case "CalendarPicker":
		if a, b, ok := strings.Cut(ans, ".."); ok && it.Mode == "range" {
			return map[string]any{"start-date": strings.TrimSpace(a), "end-date": strings.TrimSpace(b)}, nil
		}
	}
	return ans, nil
}
