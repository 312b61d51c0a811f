package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/doctor"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/graph"
)

func flowsCommand() *Command {
	return &Command{
		Name:    "flows",
		Args:    "deploy [FLOW...] | status | preview FLOW | metrics FLOW",
		Summary: "deploy flows to Meta, show their status, preview links and endpoint metrics",
		Help: `
A FLOW is a catalog flow's name (waflow catalog lists them) or a Flow JSON
file, whose name without .json is the flow's name on Meta.

  waflow flows deploy [FLOW...] [-publish]
      Validates each flow locally first (a flow with errors is not uploaded),
      creates it in the WhatsApp Business Account if no flow has its name,
      uploads its Flow JSON only when the content changed since the last
      deploy (the hash is recorded in the database), sets endpoint_uri to
      PUBLIC_URL/flows/{flow} for flows that use the data endpoint, prints
      Meta's validation errors as FILE:LINE:COL: CODE: message, and publishes
      with -publish. Without FLOW, deploys the whole catalog. Running it twice
      changes nothing the second time. Exit status 1 when a flow failed.

  waflow flows status
      Every flow of the WABA: id, status, whether messages can be sent, Meta's
      validation errors, and whether the local Flow JSON is deployed; then
      whether an app is subscribed to the WABA (publishing and webhooks need
      one): exit status 1 when none is.

  waflow flows preview FLOW [-invalidate] [-debug] [-screen S -data JSON]
      Prints the flow's web preview URL with the interactive parameters filled
      in: a recorded flow token, flow_action, and the business phone number
      (WAFLOW_PHONE_NUMBER) whose key the preview encrypts to.

  waflow flows metrics FLOW [-metric NAME] [-granularity DAY|HOUR|LIFETIME] [-since D] [-until D]
      The flow's endpoint metrics (Meta needs 250 requests first).

Needs WAFLOW_GRAPH_ACCESS_TOKEN_FILE and WAFLOW_WABA_ID; deploy needs
WAFLOW_PUBLIC_URL for flows that use the data endpoint.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			declareCLI(&cfg, s)
			publish := fs.Bool("publish", false, "deploy: publish each flow that is a valid draft")
			categories := fs.String("categories", "", "deploy: categories of flows created from files, comma-separated (default OTHER)")
			invalidate := fs.Bool("invalidate", false, "preview: make a new preview URL, revoking the old one")
			debug := fs.Bool("debug", false, "preview: show the debug panel")
			screen := fs.String("screen", "", "preview: the entry screen, for a flow without data endpoint")
			data := fs.String("data", "", "preview: the entry screen's data, as a JSON object")
			metric := fs.String("metric", string(graph.MetricRequestCount), "metrics: ENDPOINT_REQUEST_COUNT, ENDPOINT_REQUEST_ERROR, ENDPOINT_REQUEST_ERROR_RATE, ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL or ENDPOINT_AVAILABILITY")
			granularity := fs.String("granularity", string(graph.GranularityDay), "metrics: DAY, HOUR or LIFETIME")
			since := fs.String("since", "", "metrics: first day, YYYY-MM-DD")
			until := fs.String("until", "", "metrics: last day, YYYY-MM-DD")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return usagef("flows", "want deploy, status, preview or metrics")
				}
				sub := args[0]
				rest, err := parseInterleaved("flows", fs, args[1:])
				if errors.Is(err, flag.ErrHelp) {
					return nil
				} else if err != nil {
					return err
				}
				if err := s.resolve(); err != nil {
					return err
				}
				switch sub {
				case "deploy":
					return runDeploy(ctx, env, &cfg, rest, *publish, *categories)
				case "status":
					if len(rest) > 0 {
						return usagef("flows", "status takes no argument")
					}
					return runFlowStatus(ctx, env, &cfg)
				case "preview":
					if len(rest) != 1 {
						return usagef("flows", "preview takes one flow: waflow flows preview FLOW")
					}
					return runPreview(ctx, env, &cfg, rest[0], previewOptions{invalidate: *invalidate, debug: *debug, screen: *screen, data: *data})
				case "metrics":
					if len(rest) != 1 {
						return usagef("flows", "metrics takes one flow: waflow flows metrics FLOW")
					}
					return runMetrics(ctx, env, &cfg, rest[0], *metric, *granularity, *since, *until)
				}
				return usagef("flows", "unknown subcommand %q (want deploy, status, preview or metrics)", sub)
			}
		},
	}
}

func runDeploy(ctx context.Context, env *Env, cfg *appConfig, args []string, publish bool, categoryList string) error {
	var cats []graph.Category
	for _, c := range splitList(categoryList) {
		cats = append(cats, graph.Category(strings.ToUpper(c)))
	}
	if len(args) == 0 {
		known, err := describeFlows(env)
		if err != nil {
			return err
		}
		args = known.Names()
	}
	var flows []deploy.Flow
	for _, a := range args {
		f, err := loadFlowSource(env, a)
		if err != nil {
			return err
		}
		flows = append(flows, f.deployFlow())
		if len(cats) > 0 {
			flows[len(flows)-1].Categories = cats
		}
	}
	needs := []graphNeed{needToken, needWABAID}
	if slices.ContainsFunc(flows, func(f deploy.Flow) bool { return f.UsesEndpoint }) {
		needs = append(needs, needPublicURL)
	}
	if err := cfg.graph.require(needs...); err != nil {
		return err
	}
	sess, err := openGraphSession(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()

	d := sess.deployer()
	d.Publish = publish
	d.Progress = func(e deploy.Event) {
		switch e.Step {
		case deploy.StepLocalProblems, deploy.StepMetaProblems:
			fmt.Fprintln(env.Stdout, e)
			return
		case deploy.StepFailed:
			if _, ok := errors.AsType[*deploy.InvalidError](e.Err); ok {
				fmt.Fprintf(env.Stdout, "%s: %v (waflow validate shows the same)\n", e.Flow, e.Err)
				return
			}
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", e.Flow, e)
	}
	st := deploy.Count(d.Deploy(ctx, flows))
	fmt.Fprintf(env.Stdout, "%s: %d created, %d uploaded, %d endpoint_uri set, %d published, %d unchanged, %d failed\n",
		count(len(flows), "flow"), st.Created, st.Uploaded, st.EndpointsSet, st.Published, st.Unchanged, st.Failed)
	if st.Failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// runFlowStatus prints every flow of the WABA and every registered flow.
func runFlowStatus(ctx context.Context, env *Env, cfg *appConfig) error {
	if err := cfg.graph.require(needToken, needWABAID); err != nil {
		return err
	}
	sess, err := openGraphSession(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	known, err := describeFlows(env)
	if err != nil {
		return err
	}
	var local []deploy.Flow
	for _, f := range known.Flows() {
		local = append(local, deploy.Flow{Name: f.Name, Source: f.Source})
	}
	states, err := sess.deployer().Status(ctx, local)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FLOW\tID\tSTATUS\tCAN SEND\tMETA ERRORS\tLOCAL")
	var notes []string
	for _, s := range states {
		f := s.Remote
		if f == nil {
			fmt.Fprintf(w, "%s\t-\tnot on Meta\t-\t-\t%s\n", s.Name, s.LocalText())
			continue
		}
		canSend := "-"
		opts := &graph.GetFlowOptions{Fields: []string{"id", "health_status"}, PhoneNumberID: cfg.graph.phoneNumberID}
		if full, err := sess.client.GetFlow(ctx, f.ID, opts); err != nil {
			sess.log.Warn("could not read the flow's health", "flow", f.Name, "error", err)
		} else if h := full.HealthStatus; h != nil {
			canSend = h.CanSendMessage
			for _, e := range h.Entities {
				for _, is := range e.Errors {
					notes = append(notes, fmt.Sprintf("%s: %s %s: error %d: %s %s", f.Name, e.EntityType, e.ID, is.ErrorCode, is.ErrorDescription, is.PossibleSolution))
				}
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", f.Name, f.ID, f.Status, canSend, len(f.ValidationErrors), s.LocalText())
		// What the flows webhooks last said, as every replica's outbox
		// sees it.
		if h, err := sess.store.FlowHealth(ctx, f.Name); err == nil && h.Paused {
			notes = append(notes, fmt.Sprintf("%s: Meta reported it %s at %s: the outbox holds its messages until it is PUBLISHED again", f.Name, h.Status, h.UpdatedAt.UTC().Format(time.RFC3339)))
		}
		for _, v := range f.ValidationErrors {
			notes = append(notes, deploy.MetaProblem(v).Format(f.Name+".json"))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(env.Stdout, strings.TrimSpace(n))
	}
	// Publishing needs an app subscribed to the WABA, and so do the
	// webhooks (protocol.md 5.3): say so here, where flows are looked at.
	sub := doctor.CheckSubscription(ctx, sess.client, cfg.graph.wabaID, "")
	fmt.Fprintln(env.Stdout, sub.String())
	if sub.Status == doctor.Fail {
		return fmt.Errorf("no app is subscribed to WABA %s: flows cannot be published and no webhook arrives", cfg.graph.wabaID)
	}
	return nil
}

type previewOptions struct {
	invalidate, debug bool
	screen, data      string
}

// runPreview prints the flow's preview URL with a recorded flow token, so
// that the preview's data-endpoint calls are accepted like a sent message's.
func runPreview(ctx context.Context, env *Env, cfg *appConfig, arg string, o previewOptions) error {
	params := graph.PreviewParams{Debug: o.debug, PhoneNumber: cfg.graph.phoneNumber, Screen: o.screen}
	if o.data != "" {
		if err := json.Unmarshal([]byte(o.data), &params.Data); err != nil || params.Data == nil {
			return usagef("flows", "-data must be a JSON object: %v", err)
		}
	}
	name, endpointFlow := arg, false
	if src, err := loadFlowSource(env, arg); err == nil {
		name, endpointFlow = src.Name, usesEndpoint(src.Src)
	}
	if endpointFlow {
		params.Action = graph.ActionDataExchange
		if o.screen != "" || o.data != "" {
			return usagef("flows", "%s uses the data endpoint, which answers INIT with the first screen: -screen and -data are for flows without one", name)
		}
	}
	needs := []graphNeed{needToken}
	if endpointFlow {
		// The preview encrypts its endpoint requests to that number's key.
		needs = append(needs, needPhoneNumber)
	}
	if err := cfg.graph.require(needs...); err != nil {
		return err
	}
	sess, err := openGraphSession(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	flowID, err := sess.flowIDOf(ctx, name)
	if err != nil {
		return err
	}
	if endpointFlow {
		tok, rec, err := issueRecordedToken(ctx, env, cfg, sess, name, "")
		if err != nil {
			return err
		}
		params.FlowToken = tok
		fmt.Fprintf(env.Stderr, "flow token valid until %s\n", rec.ExpiresAt.UTC().Format(time.RFC3339))
	}
	p, err := sess.client.FlowPreview(ctx, flowID, o.invalidate)
	if err != nil {
		return err
	}
	link, err := p.Link(params)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, link)
	if !p.ExpiresAt.IsZero() {
		fmt.Fprintf(env.Stderr, "preview URL expires %s\n", p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// issueRecordedToken issues a flow token with the server's secret and
// records it, as the data endpoint and the webhook worker refuse tokens
// that were never recorded.
func issueRecordedToken(ctx context.Context, env *Env, cfg *appConfig, sess *graphSession, flow, waID string) (string, waflow.FlowToken, error) {
	ttl, err := time.ParseDuration(cfg.tokenTTL)
	if err != nil || ttl <= 0 {
		return "", waflow.FlowToken{}, fmt.Errorf("token TTL %q: want a positive duration such as 24h", cfg.tokenTTL)
	}
	sec, err := cfg.loadSecrets(sess.log)
	if err != nil {
		return "", waflow.FlowToken{}, err
	}
	issuer, err := flowtoken.NewIssuer(sec.tokenSecret)
	if err != nil {
		return "", waflow.FlowToken{}, err
	}
	issuer.TTL = ttl
	return endpoint.StoreTokens{Issuer: issuer, Store: sess.store}.Issue(ctx, flow, waID)
}

func runMetrics(ctx context.Context, env *Env, cfg *appConfig, name, metric, granularity, since, until string) error {
	req := graph.MetricsRequest{Name: graph.MetricName(strings.ToUpper(metric)), Granularity: graph.Granularity(strings.ToUpper(granularity))}
	for _, d := range []struct {
		s   string
		dst *time.Time
	}{{since, &req.Since}, {until, &req.Until}} {
		if d.s == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.s)
		if err != nil {
			return usagef("flows", "date %q: want YYYY-MM-DD", d.s)
		}
		*d.dst = t
	}
	if src, err := loadFlowSource(env, name); err == nil {
		name = src.Name
	}
	if err := cfg.graph.require(needToken); err != nil {
		return err
	}
	sess, err := openGraphSession(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	flowID, err := sess.flowIDOf(ctx, name)
	if err != nil {
		return err
	}
	m, err := sess.client.FlowMetrics(ctx, flowID, req)
	if graph.IsMetricsThresholdNotReached(err) {
		return fmt.Errorf("flow %s has fewer than 250 data-endpoint requests, too few for Meta's metrics; try again once it has more", name)
	}
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "%s (%s)\n", m.Name, m.Granularity)
	fmt.Fprintln(w, "PERIOD\tKEY\tVALUE")
	points := slices.Clone(m.DataPoints)
	slices.SortStableFunc(points, func(a, b graph.DataPoint) int { return a.Timestamp.Compare(b.Timestamp.Time) })
	for _, p := range points {
		when := p.Timestamp.UTC().Format(time.DateOnly)
		if m.Granularity == graph.GranularityHour {
			when = p.Timestamp.UTC().Format("2006-01-02 15:04")
		}
		for _, v := range p.Data {
			fmt.Fprintf(w, "%s\t%s\t%g\n", when, v.Key, v.Value)
		}
	}
	if len(points) == 0 {
		fmt.Fprintln(w, "(no data points)")
	}
	return w.Flush()
}
