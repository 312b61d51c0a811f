package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/graph/graphtest"
	"github.com/waflow/waflow/keyfiles"
	"github.com/waflow/waflow/webhook"
)

// A template with a FLOW button, created, reviewed, checked and sent with a
// token waflow issued: its completion is attributed to the flow.
func TestTemplatesCreateCheckSendAttribute(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.mustRun("flows", "deploy", "-publish", "feedback_survey")
	flowID := c.g.Flow("feedback_survey").ID

	out := c.mustRun("templates", "create", "survey_invite", "-flow", "feedback_survey", "-body", "How did we do?", "-button", "Rate us", "-screen", "RATE")
	c.checkShapes()
	tpl := c.g.Template("survey_invite")
	if tpl == nil || !strings.Contains(out, "status PENDING") {
		t.Fatalf("create: %q, template %+v", out, tpl)
	}
	buttons, _ := tpl.Components[len(tpl.Components)-1]["buttons"].([]any)
	b, _ := buttons[0].(map[string]any)
	if b["type"] != "FLOW" || b["text"] != "Rate us" || b["flow_id"] != flowID || b["flow_action"] != "navigate" || b["navigate_screen"] != "RATE" {
		t.Fatalf("FLOW button %v: want flow_id %s, navigate to RATE", b, flowID)
	}

	code, out, _ := c.run("templates", "check", "survey_invite")
	if code != 1 || !strings.Contains(out, "FAIL template survey_invite is PENDING, not APPROVED") {
		t.Fatalf("check of a pending template: exit %d\n%s", code, out)
	}
	if code, _, errOut := c.run("templates", "send", "survey_invite", "-to", "15550001111"); code != 1 || !strings.Contains(errOut, "PENDING") {
		t.Fatalf("send of a pending template: exit %d, %s", code, errOut)
	}
	if n := len(c.g.Messages()); n != 0 {
		t.Fatalf("%d messages sent for a pending template", n)
	}
	c.g.SetTemplateStatus("survey_invite", "APPROVED")
	out = c.mustRun("templates", "check", "survey_invite")
	if !strings.Contains(out, "OK   template survey_invite (en_US) is APPROVED; its FLOW button opens flow feedback_survey ("+flowID+"), PUBLISHED") {
		t.Fatalf("check: %s", out)
	}
	out = c.mustRun("templates", "list")
	if !strings.Contains(out, "survey_invite  en_US     APPROVED  UTILITY   feedback_survey ("+flowID+")") {
		t.Fatalf("list:\n%s", out)
	}

	wamid := strings.TrimSpace(c.mustRun("templates", "send", "survey_invite", "-to", "15550001111"))
	c.checkShapes()
	msgs := c.g.Messages()
	if len(msgs) != 1 || msgs[0].WAMID != wamid {
		t.Fatalf("sent %+v, printed %q", msgs, wamid)
	}
	tm, _ := msgs[0].Body["template"].(map[string]any)
	comps, _ := tm["components"].([]any)
	btn, _ := comps[0].(map[string]any)
	params, _ := btn["parameters"].([]any)
	action, _ := params[0].(map[string]any)["action"].(map[string]any)
	tok, _ := action["flow_token"].(string)
	dev, err := keyfiles.Development(c.env["WAFLOW_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := flowtoken.NewIssuer([]byte(dev.TokenSecret))
	claims, err := iss.Verify(tok, "feedback_survey")
	if err != nil || claims.WAID != "15550001111" {
		t.Fatalf("the template's flow token: %+v, %v; want one for feedback_survey and the user", claims, err)
	}

	// The user completes the flow: the completion names the template
	// message, and is attributed to the flow by the token.
	store := c.store()
	resp, _ := json.Marshal(map[string]any{"flow_token": tok, "rating": "5"})
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"changes":[{"field":"messages","value":{
		"contacts":[{"wa_id":"15550001111","profile":{"name":"Ana"}}],
		"messages":[{"from":"15550001111","id":"wamid.done","timestamp":"%d","type":"interactive","context":{"id":%q},
		"interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":%q}}}]}}]}]}`,
		graphtest.WABAID, time.Now().Unix(), wamid, resp)
	evs, err := webhook.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := store.AddEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	w, err := webhook.NewWorker(webhook.WorkerConfig{Store: store, Users: store, Tokens: iss, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ProcessBatch(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := store.Completion(ctx, "wamid.done")
	if err != nil || got.Flow != "feedback_survey" || got.TokenID != claims.ID || got.Status != waflow.CompletionRecorded {
		t.Fatalf("completion: %+v, %v; want it attributed to feedback_survey with token %s", got, err, claims.ID)
	}
}

// templates send -outbox queues the template for waflow serve, with the
// flow it opens (so a blocked flow holds it) and, for a user known only by
// a business-scoped user id, recipient and a token bound to that id.
func TestTemplatesSendThroughOutboxToBSUID(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.mustRun("flows", "deploy", "-publish", "feedback_survey")
	c.mustRun("templates", "create", "survey_invite", "-flow", "feedback_survey", "-body", "How did we do?", "-button", "Rate us")
	c.g.SetTemplateStatus("survey_invite", "APPROVED")
	const bsuid = "US.13491208655302741918"
	out := c.mustRun("templates", "send", "survey_invite", "-to", bsuid, "-outbox")
	if n := len(c.g.Messages()); n != 0 {
		t.Fatalf("-outbox sent %d messages itself", n)
	}
	var id int64
	if _, err := fmt.Sscan(out, &id); err != nil {
		t.Fatalf("stdout %q: want the outbox id", out)
	}
	store := c.store()
	m, err := store.OutboxMessage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal(m.Payload, &body)
	if m.Flow != "feedback_survey" || m.To != bsuid || body["recipient"] != bsuid || body["to"] != nil || body["type"] != "template" {
		t.Fatalf("outbox message %+v, body %s", m, m.Payload)
	}
	tok, err := store.Token(context.Background(), m.TokenID)
	if err != nil || tok.UserID != bsuid || tok.WAID != "" || tok.Flow != "feedback_survey" {
		t.Fatalf("token %+v, %v; want one bound to the BSUID", tok, err)
	}
}

// Templates refuse what cannot work, saying why.
func TestTemplatesRefusals(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"templates"}, 2, "want create, list, check or send"},
		{[]string{"templates", "create", "x", "-flow", "feedback_survey"}, 2, "needs -flow, -body and -button"},
		{[]string{"templates", "create", "x", "-flow", "no_such_flow", "-body", "b", "-button", "b"}, 1, `no flow named "no_such_flow"`},
		{[]string{"templates", "create", "Bad-Name", "-flow", "feedback_survey", "-body", "b", "-button", "b"}, 1, "lowercase letters"},
		{[]string{"templates", "create", "x", "-flow", "appointment_booking", "-body", "b", "-button", "b", "-screen", "DETAILS"}, 2, "uses the data endpoint"},
		{[]string{"templates", "check", "nothing_here"}, 1, "has no template nothing_here"},
		{[]string{"templates", "send", "x"}, 2, "send needs -to"},
	} {
		code, out, errOut := c.run(tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("waflow %s: exit %d, want %d saying %q\n%s%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out, errOut)
		}
	}
}

// waflow send to a business-scoped user id sends with recipient and binds
// the token to the id.
func TestSendToBSUID(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	const bsuid = "US.13491208655302741918"
	wamid := strings.TrimSpace(c.mustRun("send", "feedback_survey", "-to", bsuid))
	c.checkShapes()
	msgs := c.g.Messages()
	if len(msgs) != 1 || msgs[0].Body["recipient"] != bsuid || msgs[0].Body["to"] != nil {
		t.Fatalf("sent %+v: want recipient %s and no to", msgs, bsuid)
	}
	tok, err := c.store().TokenByMessage(context.Background(), wamid)
	if err != nil || tok.UserID != bsuid || tok.WAID != "" {
		t.Fatalf("token %+v, %v: want it bound to the BSUID", tok, err)
	}
}
