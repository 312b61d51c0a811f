package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/graph"
)

func templatesCommand() *Command {
	return &Command{
		Name:    "templates",
		Args:    "create NAME -flow FLOW -body TEXT -button TEXT | list | check NAME | send NAME -to USER",
		Summary: "message templates with a FLOW button: create, list, check and send them",
		Help: `
A template with a FLOW button is how a flow reaches a user outside the
24-hour window (protocol.md 5.2). Meta reviews each template before it can be
sent.

  waflow templates create NAME -flow FLOW -body TEXT -button TEXT [-language en_US]
                          [-category MARKETING|UTILITY] [-header T] [-footer T] [-screen S]
      Submits a template whose FLOW button opens FLOW (a flow waflow runs:
      its deployed id, else its name). A flow that uses the data endpoint
      is opened with flow_action data_exchange, the others with navigate
      (-screen sets the screen). Prints the template id and its status.

  waflow templates list
      Every template of the WABA: name, language, status, category and the
      flow its FLOW button opens.

  waflow templates check NAME [-language L]
      Checks that the template exists, is APPROVED, and that its FLOW button
      opens a flow waflow runs and that flow is PUBLISHED. Exit status 1
      with what is wrong otherwise.

  waflow templates send NAME -to USER [-language L] [-data JSON] [-outbox]
      Checks the template as check does, issues and records a flow token for
      the flow and the user (a phone number, or a business-scoped user id
      such as US.13491208655302741918, sent as recipient), and sends the
      template with the token in its FLOW button. Its completion is
      attributed to the flow through the token. Prints the message id; with
      -outbox, queues the message for waflow serve's outbox instead and
      prints its outbox id.

Needs WAFLOW_GRAPH_ACCESS_TOKEN_FILE and WAFLOW_WABA_ID; send needs
WAFLOW_PHONE_NUMBER_ID.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			declareCLI(&cfg, s)
			var o templateOptions
			fs.StringVar(&o.flow, "flow", "", "create: the flow the FLOW button opens")
			fs.StringVar(&o.body, "body", "", "create: the template's body text")
			fs.StringVar(&o.button, "button", "", "create: the FLOW button's text, at most 25 characters")
			fs.StringVar(&o.header, "header", "", "create: an optional header text")
			fs.StringVar(&o.footer, "footer", "", "create: an optional footer text")
			fs.StringVar(&o.screen, "screen", "", "create: the screen a navigate button opens (default: the first entry screen)")
			fs.StringVar(&o.category, "category", graph.TemplateUtility, "create: MARKETING or UTILITY")
			fs.StringVar(&o.language, "language", "", "the template's language code (create: default en_US)")
			fs.StringVar(&o.to, "to", "", "send: the user's phone number, or their business-scoped user id")
			fs.StringVar(&o.data, "data", "", "send: the first screen's data (flow_action_data), as a JSON object")
			fs.BoolVar(&o.outbox, "outbox", false, "send: queue the message in the outbox for waflow serve instead of sending it now")
			return func(ctx context.Context, args []string) error {
				rest, err := parseInterleaved("templates", fs, args)
				if errors.Is(err, flag.ErrHelp) {
					return nil
				} else if err != nil {
					return err
				}
				if len(rest) == 0 {
					return usagef("templates", "want create, list, check or send")
				}
				sub, rest := rest[0], rest[1:]
				wantName := func() error {
					if len(rest) != 1 {
						return usagef("templates", "%s takes one template name: waflow templates %s NAME", sub, sub)
					}
					return nil
				}
				switch sub {
				case "create", "check", "send":
					if err := wantName(); err != nil {
						return err
					}
					o.name = rest[0]
				case "list":
					if len(rest) > 0 {
						return usagef("templates", "list takes no argument")
					}
				default:
					return usagef("templates", "unknown subcommand %q (want create, list, check or send)", sub)
				}
				if err := s.resolve(); err != nil {
					return err
				}
				if err := cfg.graph.require(needToken, needWABAID); err != nil {
					return err
				}
				switch sub {
				case "create":
					return runTemplateCreate(ctx, env, &cfg, o)
				case "list":
					return runTemplateList(ctx, env, &cfg)
				case "check":
					return runTemplateCheck(ctx, env, &cfg, o)
				default:
					return runTemplateSend(ctx, env, &cfg, o)
				}
			}
		},
	}
}

type templateOptions struct {
	name, flow, body, button, header, footer, screen, category, language, to, data string
	outbox                                                                         bool
}

func runTemplateCreate(ctx context.Context, env *Env, cfg *appConfig, o templateOptions) error {
	if o.flow == "" || o.body == "" || o.button == "" {
		return usagef("templates", "create needs -flow, -body and -button")
	}
	src, err := loadFlowSource(env, o.flow)
	if err != nil {
		return err
	}
	t := graph.TemplateCreate{Name: o.name, Language: o.language, Category: strings.ToUpper(o.category),
		Header: o.header, Body: o.body, Footer: o.footer,
		Button: graph.TemplateFlowButton{Text: o.button, FlowName: src.Name, Action: graph.ActionNavigate, NavigateScreen: o.screen}}
	if t.Language == "" {
		t.Language = "en_US"
	}
	if usesEndpoint(src.Src) {
		if o.screen != "" {
			return usagef("templates", "%s uses the data endpoint, which answers INIT with the first screen: -screen is for flows without one", src.Name)
		}
		t.Button.Action = graph.ActionDataExchange
	}
	sess, err := openGraphSession(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	if d, err := sess.store.FlowDeployment(ctx, cfg.graph.wabaID, src.Name); err == nil {
		t.Button.FlowID, t.Button.FlowName = d.FlowID, ""
	}
	created, err := sess.client.CreateTemplate(ctx, cfg.graph.wabaID, t)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "template %s (%s): id %s, status %s\n", o.name, t.Language, created.ID, created.Status)
	if created.Status != graph.TemplateApproved {
		fmt.Fprintf(env.Stderr, "Meta reviews it before it can be sent: waflow templates check %s says when it is ready\n", o.name)
	}
	return nil
}

func runTemplateList(ctx context.Context, env *Env, cfg *appConfig) error {
	sess, err := newGraphSession(env, cfg)
	if err != nil {
		return err
	}
	list, err := sess.client.ListTemplates(ctx, cfg.graph.wabaID, "")
	if err != nil {
		return err
	}
	flows, err := sess.client.ListFlows(ctx, cfg.graph.wabaID)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, f := range flows {
		names[f.ID] = f.Name
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TEMPLATE\tLANGUAGE\tSTATUS\tCATEGORY\tFLOW")
	for _, t := range list {
		flow := "-"
		if b, _, ok := t.FlowButton(); ok {
			flow = b.FlowID
			if n := names[b.FlowID]; n != "" {
				flow = n + " (" + b.FlowID + ")"
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Language, t.Status, t.Category, flow)
	}
	return w.Flush()
}

// checkTemplate runs deploy.CheckTemplate against the flows waflow runs.
func checkTemplate(ctx context.Context, env *Env, cfg *appConfig, sess *graphSession, o templateOptions) (deploy.TemplateCheck, error) {
	known, err := describeFlows(env)
	if err != nil {
		return deploy.TemplateCheck{}, err
	}
	return deploy.CheckTemplate(ctx, sess.client, cfg.graph.wabaID, o.name, o.language, func(flow string) bool { return known.Flow(flow) != nil })
}

func runTemplateCheck(ctx context.Context, env *Env, cfg *appConfig, o templateOptions) error {
	sess, err := newGraphSession(env, cfg)
	if err != nil {
		return err
	}
	c, err := checkTemplate(ctx, env, cfg, sess, o)
	if err != nil {
		return err
	}
	if !c.OK() {
		for _, p := range c.Problems {
			fmt.Fprintln(env.Stdout, "FAIL "+p)
		}
		return fmt.Errorf("template %s cannot be sent yet", o.name)
	}
	fmt.Fprintf(env.Stdout, "OK   template %s (%s) is APPROVED; its FLOW button opens flow %s (%s), PUBLISHED\n", o.name, c.Template.Language, c.Flow, c.FlowID)
	return nil
}

func runTemplateSend(ctx context.Context, env *Env, cfg *appConfig, o templateOptions) error {
	if o.to == "" {
		return usagef("templates", "send needs -to: the user's phone number (such as 15550001111) or business-scoped user id")
	}
	m := &graph.TemplateMessage{To: o.to, Name: o.name, FlowButton: &graph.FlowButton{}}
	if waflow.IsBSUID(o.to) {
		m.To, m.Recipient = "", o.to
	}
	if o.data != "" {
		if err := json.Unmarshal([]byte(o.data), &m.FlowButton.ActionData); err != nil || m.FlowButton.ActionData == nil {
			return usagef("templates", "-data must be a JSON object: %v", err)
		}
	}
	need := []graphNeed{needPhoneID}
	if o.outbox {
		need = nil // waflow serve sends it, from its own phone number
	}
	if err := cfg.graph.require(need...); err != nil {
		return err
	}
	sess, err := openGraphSession(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	c, err := checkTemplate(ctx, env, cfg, sess, o)
	if err != nil {
		return err
	}
	if !c.OK() {
		return fmt.Errorf("template %s cannot be sent: %s", o.name, strings.Join(c.Problems, "; "))
	}
	m.Language, m.FlowButton.Index = c.Template.Language, c.ButtonIndex
	// The token binds the template's flow: its completion is attributed to
	// it like a flow message's.
	tok, rec, err := issueRecordedToken(ctx, env, cfg, sess, c.Flow, o.to)
	if err != nil {
		return err
	}
	m.FlowButton.Token = tok
	if o.outbox {
		body, err := graph.EncodeMessage(m)
		if err != nil {
			return err
		}
		q, _, err := sess.store.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "template:" + rec.ID, To: o.to, TokenID: rec.ID, Flow: c.Flow, Payload: body})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%d\n", q.ID)
		fmt.Fprintf(env.Stderr, "queued as outbox message %d: waflow serve sends it (held while Meta reports flow %s blocked or throttled)\n", q.ID, c.Flow)
		return nil
	}
	res, err := sess.client.Send(ctx, cfg.graph.phoneNumberID, m)
	if errors.Is(err, graph.ErrOutcomeUnknown) {
		return fmt.Errorf("%w\nThe message may have been delivered: check the chat before sending again (flow token %s stays recorded)", err, rec.ID)
	}
	if graph.IsBSUIDUnsupported(err) {
		return fmt.Errorf("%w\nMeta does not deliver this template to a business-scoped user id: send it to the user's phone number", err)
	}
	if err != nil {
		return err
	}
	if err := sess.store.SetTokenMessage(ctx, rec.ID, res.MessageID); err != nil {
		fmt.Fprintf(env.Stderr, "waflow templates send: sent, but recording the message id with flow token %s failed: %v\n", rec.ID, err)
	}
	fmt.Fprintln(env.Stdout, res.MessageID)
	return nil
}
