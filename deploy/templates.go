package deploy

import (
	"context"
	"fmt"

	"github.com/waflow/waflow/graph"
)

// TemplateGraph is what the template checks need of the Graph API;
// *graph.Client is one.
type TemplateGraph interface {
	ListTemplates(ctx context.Context, wabaID, name string) ([]graph.Template, error)
	ListFlows(ctx context.Context, wabaID string) ([]graph.Flow, error)
}

// TemplateCheck is what CheckTemplate found of a message template with a
// FLOW button (protocol.md 5.2).
type TemplateCheck struct {
	// Template is the template found; nil when there is none.
	Template *graph.Template
	// ButtonIndex is the FLOW button's index among the template's
	// buttons: what a send's button component names.
	ButtonIndex int
	// FlowID is the id the FLOW button points at; Flow its name and
	// FlowStatus its status on Meta, when the WABA holds it.
	FlowID, Flow, FlowStatus string
	// Problems say why the template cannot be sent with a token waflow
	// issues; empty when it can.
	Problems []string
}

// OK reports whether the template is ready: no problems.
func (c TemplateCheck) OK() bool { return len(c.Problems) == 0 }

// CheckTemplate checks that template name (in language, when set) exists in
// the WABA, is APPROVED, has a FLOW button, and that the button points at a
// flow known says waflow runs (its completions are attributed through the
// token waflow issues for it) and that flow is PUBLISHED on Meta. An error
// is a failure to ask the Graph API; what is wrong with the template is in
// Problems.
func CheckTemplate(ctx context.Context, g TemplateGraph, wabaID, name, language string, known func(flow string) bool) (TemplateCheck, error) {
	var c TemplateCheck
	list, err := g.ListTemplates(ctx, wabaID, name)
	if err != nil {
		return c, err
	}
	for i := range list {
		if language == "" || list[i].Language == language {
			c.Template = &list[i]
			break
		}
	}
	if c.Template == nil {
		in := ""
		if language != "" {
			in = " in language " + language
		}
		c.Problems = append(c.Problems, fmt.Sprintf("WABA %s has no template %s%s: create it with waflow templates create", wabaID, name, in))
		return c, nil
	}
	t := c.Template
	switch t.Status {
	case graph.TemplateApproved:
	case graph.TemplateRejected:
		c.Problems = append(c.Problems, fmt.Sprintf("template %s was REJECTED by Meta's review (%s): fix it and create it again", name, orNone(t.Reason)))
	default:
		c.Problems = append(c.Problems, fmt.Sprintf("template %s is %s, not APPROVED: Meta sends only approved templates; wait for the review", name, t.Status))
	}
	b, index, ok := t.FlowButton()
	if !ok {
		c.Problems = append(c.Problems, fmt.Sprintf("template %s has no FLOW button", name))
		return c, nil
	}
	c.ButtonIndex, c.FlowID = index, b.FlowID
	flows, err := g.ListFlows(ctx, wabaID)
	if err != nil {
		return c, err
	}
	for _, f := range flows {
		if f.ID == b.FlowID {
			c.Flow, c.FlowStatus = f.Name, string(f.Status)
		}
	}
	switch {
	case c.Flow == "":
		c.Problems = append(c.Problems, fmt.Sprintf("the FLOW button of template %s points at flow %s, which WABA %s does not hold", name, orNone(b.FlowID), wabaID))
	case !known(c.Flow):
		c.Problems = append(c.Problems, fmt.Sprintf("the FLOW button of template %s opens flow %s, which waflow does not run: its completions could not be attributed", name, c.Flow))
	case c.FlowStatus != "PUBLISHED":
		c.Problems = append(c.Problems, fmt.Sprintf("flow %s of template %s is %s, not PUBLISHED: publish it with waflow flows deploy -publish %s", c.Flow, name, c.FlowStatus, c.Flow))
	}
	return c, nil
}

func orNone(s string) string {
	if s == "" {
		return "none given"
	}
	return s
}
