package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
)

func sendCommand() *Command {
	return &Command{
		Name:    "send",
		Args:    "FLOW -to WA_ID",
		Summary: "send a flow message to a WhatsApp user and print its message id",
		Help: `
Issues a signed flow token for FLOW and the user, records it (the data
endpoint and the webhook refuse tokens that were never recorded), sends the
interactive flow message from WAFLOW_PHONE_NUMBER_ID and prints the message id
(wamid) on standard output. The wamid is recorded with the token, so a
completion that arrives without its flow_token is matched by its context.id.

FLOW is the flow's name on Meta (a catalog flow, or a flow deployed from a
file: its name without .json). A flow that uses the data endpoint is opened
with flow_action data_exchange, the others with navigate (-screen and -data
set the first screen and its data). -draft sends the current draft, for
testing a flow that is not published yet.

The message is a flow message, which WhatsApp delivers only inside the 24-hour
window after the user wrote to the business; outside it, use a template with
a flow button.

send sends directly rather than through the outbox: the person at the
terminal sees Meta's answer and decides. When Meta's answer is lost (a 5xx or
a timeout), the message may have been delivered: send says so and does not
retry; check the chat before sending again.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			declareCLI(&cfg, s)
			to := fs.String("to", "", "the user's WhatsApp id (phone number with country code, digits only), or their business-scoped user id (sent as recipient)")
			draft := fs.Bool("draft", false, "send the flow's current draft (mode draft) instead of the published version")
			body := fs.String("body", "", "the message text (default: the catalog flow's title, or \"Please open the form.\")")
			cta := fs.String("cta", "Open", "the button text, at most 30 characters")
			header := fs.String("header", "", "an optional header text")
			footer := fs.String("footer", "", "an optional footer text")
			screen := fs.String("screen", "", "the entry screen, for a flow without data endpoint")
			data := fs.String("data", "", "the entry screen's data, as a JSON object")
			return func(ctx context.Context, args []string) error {
				rest, err := parseInterleaved("send", fs, args)
				if errors.Is(err, flag.ErrHelp) {
					return nil
				} else if err != nil {
					return err
				}
				if len(rest) != 1 {
					return usagef("send", "want one flow: waflow send FLOW -to WA_ID")
				}
				if *to == "" {
					return usagef("send", "-to is required: the user's WhatsApp id, such as 15550001111")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				m := &graph.FlowMessage{To: *to, Body: *body, CTA: *cta, Header: *header, Footer: *footer, Screen: *screen}
				if *draft {
					m.Mode = graph.ModeDraft
				}
				if *data != "" {
					if err := json.Unmarshal([]byte(*data), &m.Data); err != nil || m.Data == nil {
						return usagef("send", "-data must be a JSON object: %v", err)
					}
				}
				return runSend(ctx, env, &cfg, rest[0], m)
			}
		},
	}
}

func runSend(ctx context.Context, env *Env, cfg *appConfig, name string, m *graph.FlowMessage) error {
	user := m.To
	if waflow.IsBSUID(m.To) {
		// A user known only by their business-scoped user id: sent as
		// recipient, and the token is bound to it (protocol.md 4.2).
		m.To, m.Recipient = "", user
	}
	if src, err := loadFlowSource(env, name); err == nil {
		name = src.Name
		if usesEndpoint(src.Src) {
			m.Action = graph.ActionDataExchange
			if m.Screen != "" || len(m.Data) > 0 {
				return usagef("send", "%s uses the data endpoint, which answers INIT with the first screen: -screen and -data are for flows without one", name)
			}
		}
	}
	if m.Body == "" {
		m.Body = "Please open the form."
		if c, err := describeFlows(env); err == nil {
			if f := c.Flow(name); f != nil {
				m.Body = f.Title
			}
		}
	}
	if err := cfg.graph.require(needToken, needPhoneID); err != nil {
		return err
	}
	// Refuse a malformed message before a token is issued for it.
	if _, err := graph.EncodeMessage(&graph.FlowMessage{To: m.To, Recipient: m.Recipient, Body: m.Body, CTA: m.CTA, Header: m.Header, Footer: m.Footer, FlowName: name, Mode: m.Mode, Action: m.Action, Screen: m.Screen, Data: m.Data}); err != nil {
		return err
	}
	sess, err := openGraphSession(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()

	// The deployed flow's id when we have it, else its name: Meta accepts
	// either (protocol.md 5.1).
	m.FlowName = name
	if cfg.graph.wabaID != "" {
		if d, err := sess.store.FlowDeployment(ctx, cfg.graph.wabaID, name); err == nil {
			m.FlowID, m.FlowName = d.FlowID, ""
		}
	}
	tok, rec, err := issueRecordedToken(ctx, env, cfg, sess, name, user)
	if err != nil {
		return err
	}
	m.Token = tok
	res, err := sess.client.Send(ctx, cfg.graph.phoneNumberID, m)
	if errors.Is(err, graph.ErrOutcomeUnknown) {
		return fmt.Errorf("%w\nThe message may have been delivered: check the chat before sending again (flow token %s stays recorded)", err, rec.ID)
	}
	if err != nil {
		return err
	}
	if err := sess.store.SetTokenMessage(ctx, rec.ID, res.MessageID); err != nil {
		// The message went out; only the context.id correlation is lost.
		fmt.Fprintf(env.Stderr, "waflow send: sent, but recording the message id with flow token %s failed: %v\n", rec.ID, err)
	}
	fmt.Fprintln(env.Stdout, res.MessageID)
	return nil
}
