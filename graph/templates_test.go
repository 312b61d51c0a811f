package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
)

func templateClient(t *testing.T) (*graph.Client, *graphtest.Server) {
	t.Helper()
	fake := graphtest.New(t)
	c, err := graph.New(fake.Options())
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

// CreateTemplate posts a template whose BUTTONS component holds one FLOW
// button with the fields Meta documents (protocol.md 5.2); the template is
// listed with the flow's id, and can be sent once APPROVED, not before.
func TestCreateListSendFlowTemplate(t *testing.T) {
	ctx := context.Background()
	c, fake := templateClient(t)
	fl := fake.AddFlow("customer_survey", "PUBLISHED", []byte(`{"version":"7.1","screens":[]}`), "")
	created, err := c.CreateTemplate(ctx, graphtest.WABAID, graph.TemplateCreate{
		Name: "survey_invite", Language: "en_US", Category: graph.TemplateMarketing,
		Body: "Tell us how we did", Footer: "Takes a minute",
		Button: graph.TemplateFlowButton{Text: "Answer", FlowName: "customer_survey", Action: graph.ActionNavigate, NavigateScreen: "RATE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Status != graph.TemplatePending || created.Category != graph.TemplateMarketing {
		t.Fatalf("created %+v", created)
	}
	var sentBody struct {
		Name, Language, Category string
		Components               []struct {
			Type    string
			Text    string
			Buttons []map[string]string
		}
	}
	log := fake.Log()
	if err := json.Unmarshal(log[len(log)-1].Body, &sentBody); err != nil {
		t.Fatal(err)
	}
	last := sentBody.Components[len(sentBody.Components)-1]
	want := map[string]string{"type": "FLOW", "text": "Answer", "flow_name": "customer_survey", "flow_action": "navigate", "navigate_screen": "RATE"}
	if sentBody.Name != "survey_invite" || last.Type != "BUTTONS" || len(last.Buttons) != 1 || !sameMap(last.Buttons[0], want) {
		t.Fatalf("request body %s: want a BUTTONS component with %v", log[len(log)-1].Body, want)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Fatal(v)
	}

	list, err := c.ListTemplates(ctx, graphtest.WABAID, "survey_invite")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListTemplates = %+v, %v", list, err)
	}
	b, index, ok := list[0].FlowButton()
	if !ok || index != 0 || b.FlowID != fl.ID || b.FlowAction != "navigate" || b.NavigateScreen != "RATE" || list[0].Status != graph.TemplatePending {
		t.Fatalf("listed template %+v: FLOW button %+v at %d (%v), want flow id %s", list[0], b, index, ok, fl.ID)
	}

	send := &graph.TemplateMessage{To: "15551234567", Name: "survey_invite", Language: "en_US", FlowButton: &graph.FlowButton{Token: "wf1.tok"}}
	if _, err := c.Send(ctx, graphtest.PhoneNumberID, send); graph.CodeOf(err) != 132001 {
		t.Fatalf("send of a pending template: %v, want Meta's 132001", err)
	}
	fake.SetTemplateStatus("survey_invite", graph.TemplateApproved)
	if _, err := c.Send(ctx, graphtest.PhoneNumberID, send); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	tpl, _ := msgs[len(msgs)-1].Body["template"].(map[string]any)
	comps, _ := tpl["components"].([]any)
	btn, _ := comps[0].(map[string]any)
	params, _ := btn["parameters"].([]any)
	p0, _ := params[0].(map[string]any)
	action, _ := p0["action"].(map[string]any)
	if btn["sub_type"] != "flow" || action["flow_token"] != "wf1.tok" {
		t.Fatalf("sent template %v: want the flow button with the token", msgs[len(msgs)-1].Body)
	}
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A template that Meta would refuse is refused before any request, saying
// what is wrong.
func TestCreateTemplateRefusesBadInput(t *testing.T) {
	c, fake := templateClient(t)
	ok := graph.TemplateCreate{Name: "survey_invite", Language: "en_US", Category: graph.TemplateUtility, Body: "Hi",
		Button: graph.TemplateFlowButton{Text: "Open", FlowID: "9100001"}}
	for name, tc := range map[string]struct {
		mod  func(*graph.TemplateCreate)
		want string
	}{
		"uppercase name": {func(t *graph.TemplateCreate) { t.Name = "Survey" }, "lowercase"},
		"no language":    {func(t *graph.TemplateCreate) { t.Language = "" }, "language"},
		"auth category":  {func(t *graph.TemplateCreate) { t.Category = graph.TemplateAuthentication }, "category"},
		"no body":        {func(t *graph.TemplateCreate) { t.Body = "" }, "body"},
		"long button":    {func(t *graph.TemplateCreate) { t.Button.Text = strings.Repeat("x", 26) }, "at most 25"},
		"two flows":      {func(t *graph.TemplateCreate) { t.Button.FlowName = "x" }, "exactly one"},
		"no flow":        {func(t *graph.TemplateCreate) { t.Button.FlowID = "" }, "exactly one"},
		"data_exchange screen": {func(t *graph.TemplateCreate) {
			t.Button.Action, t.Button.NavigateScreen = graph.ActionDataExchange, "A"
		}, "navigate_screen"},
		"unknown action": {func(t *graph.TemplateCreate) { t.Button.Action = "open" }, "flow action"},
	} {
		t.Run(name, func(t *testing.T) {
			in := ok
			tc.mod(&in)
			_, err := c.CreateTemplate(context.Background(), graphtest.WABAID, in)
			if !errors.Is(err, graph.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrInvalidRequest saying %q", err, tc.want)
			}
		})
	}
	if n := len(fake.Log()); n != 0 {
		t.Fatalf("%d requests reached the Graph API", n)
	}
}
