package deploy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
)

// CheckTemplate names every reason a template cannot be sent with a token
// waflow issues: not approved, a flow waflow does not run, a flow not
// published.
func TestCheckTemplate(t *testing.T) {
	ctx := context.Background()
	fake := graphtest.New(t)
	c, err := graph.New(fake.Options())
	if err != nil {
		t.Fatal(err)
	}
	fake.AddFlow("customer_survey", "PUBLISHED", nil, "")
	fake.AddFlow("their_flow", "PUBLISHED", nil, "")
	fake.AddFlow("draft_flow", "DRAFT", nil, "")
	known := func(f string) bool { return f == "customer_survey" || f == "draft_flow" }
	for _, name := range []string{"customer_survey", "their_flow", "draft_flow"} {
		if _, err := c.CreateTemplate(ctx, graphtest.WABAID, graph.TemplateCreate{Name: "t_" + name, Language: "en_US", Category: graph.TemplateUtility,
			Body: "Hi", Button: graph.TemplateFlowButton{Text: "Open", FlowName: name}}); err != nil {
			t.Fatal(err)
		}
		fake.SetTemplateStatus("t_"+name, graph.TemplateApproved)
	}
	fake.SetTemplateStatus("t_draft_flow", graph.TemplateRejected)
	for name, want := range map[string][]string{
		"t_customer_survey": nil,
		"t_their_flow":      {"opens flow their_flow, which waflow does not run"},
		"t_draft_flow":      {"was REJECTED", "flow draft_flow of template t_draft_flow is DRAFT, not PUBLISHED"},
		"t_missing":         {"has no template t_missing"},
	} {
		got, err := deploy.CheckTemplate(ctx, c, graphtest.WABAID, name, "", known)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Problems) != len(want) {
			t.Fatalf("%s: problems %q, want %q", name, got.Problems, want)
		}
		for i, w := range want {
			if !strings.Contains(got.Problems[i], w) {
				t.Errorf("%s: problem %q, want it to say %q", name, got.Problems[i], w)
			}
		}
		if name == "t_customer_survey" && (got.Flow != "customer_survey" || got.ButtonIndex != 0 || !got.OK()) {
			t.Errorf("%s: %+v", name, got)
		}
	}
	got, err := deploy.CheckTemplate(ctx, c, graphtest.WABAID, "t_customer_survey", "pt_BR", known)
	if err != nil || got.OK() || !strings.Contains(got.Problems[0], "in language pt_BR") {
		t.Fatalf("another language: %+v, %v", got, err)
	}
}
