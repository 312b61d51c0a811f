package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Template categories Meta accepts for a template with a flow button.
const (
	TemplateMarketing      = "MARKETING"
	TemplateUtility        = "UTILITY"
	TemplateAuthentication = "AUTHENTICATION"
)

// Template statuses (the review): only an APPROVED template can be sent.
const (
	TemplateApproved = "APPROVED"
	TemplatePending  = "PENDING"
	TemplateRejected = "REJECTED"
)

// MaxFlowButtonTextLen is the longest text of a template's FLOW button
// (protocol.md 5.2).
const MaxFlowButtonTextLen = 25

// TemplateCreate is a message template with a FLOW button to create with
// CreateTemplate (protocol.md 5.2): a body text and one button that opens a
// flow, named by id, by name, or given as Flow JSON.
type TemplateCreate struct {
	Name     string // lowercase letters, digits and underscores
	Language string // such as "en_US"
	Category string // TemplateMarketing or TemplateUtility
	Header   string // optional text header
	Body     string // the body text, required
	Footer   string // optional footer text
	// Button is the FLOW button, required.
	Button TemplateFlowButton
}

// TemplateFlowButton is the FLOW button of a template. Exactly one of
// FlowID, FlowName and FlowJSON names the flow; Meta stores the flow's id.
type TemplateFlowButton struct {
	Text     string // the button's text, at most MaxFlowButtonTextLen characters
	FlowID   string
	FlowName string
	FlowJSON string // a Flow JSON document, for a flow made with the template
	// Action is ActionNavigate (Meta's default) or ActionDataExchange.
	Action FlowAction
	// NavigateScreen is the screen a navigate button opens; Meta's default
	// is the first entry screen.
	NavigateScreen string
}

// Template is a message template as the Graph API lists it.
type Template struct {
	ID       string              `json:"id"`
	Name     string              `json:"name"`
	Language string              `json:"language"`
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Reason   string              `json:"rejected_reason,omitempty"`
	Parts    []TemplateComponent `json:"components"`
}

// TemplateComponent is one component of a listed template.
type TemplateComponent struct {
	Type    string           `json:"type"` // HEADER, BODY, FOOTER, BUTTONS
	Format  string           `json:"format,omitempty"`
	Text    string           `json:"text,omitempty"`
	Buttons []TemplateButton `json:"buttons,omitempty"`
}

// TemplateButton is one button of a listed template; a FLOW button has the
// flow's id.
type TemplateButton struct {
	Type           string `json:"type"` // FLOW, QUICK_REPLY, URL...
	Text           string `json:"text"`
	FlowID         string `json:"flow_id,omitempty"`
	FlowAction     string `json:"flow_action,omitempty"`
	NavigateScreen string `json:"navigate_screen,omitempty"`
}

// FlowButton returns the template's FLOW button and its index among the
// buttons (what a send's button component names), or ok false.
func (t *Template) FlowButton() (b TemplateButton, index int, ok bool) {
	for _, c := range t.Parts {
		if !strings.EqualFold(c.Type, "BUTTONS") {
			continue
		}
		for i, x := range c.Buttons {
			if strings.EqualFold(x.Type, "FLOW") {
				return x, i, true
			}
		}
	}
	return TemplateButton{}, 0, false
}

// CreatedTemplate is Meta's answer to a template creation.
type CreatedTemplate struct {
	ID       string `json:"id"`
	Status   string `json:"status"` // PENDING, APPROVED or REJECTED
	Category string `json:"category"`
}

type templateCreateBody struct {
	Name       string           `json:"name"`
	Language   string           `json:"language"`
	Category   string           `json:"category"`
	Components []map[string]any `json:"components"`
}

func validTemplateName(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (t TemplateCreate) body() (*templateCreateBody, error) {
	b := t.Button
	named := 0
	for _, s := range []string{b.FlowID, b.FlowName, b.FlowJSON} {
		if s != "" {
			named++
		}
	}
	switch {
	case !validTemplateName(t.Name):
		return nil, invalid("template name %q: want lowercase letters, digits and underscores", t.Name)
	case t.Language == "":
		return nil, invalid("template %s needs a language code, such as en_US", t.Name)
	case t.Category != TemplateMarketing && t.Category != TemplateUtility:
		return nil, invalid("template category %q: want %s or %s", t.Category, TemplateMarketing, TemplateUtility)
	case t.Body == "":
		return nil, invalid("template %s needs a body text", t.Name)
	case b.Text == "":
		return nil, invalid("the flow button of template %s needs a text", t.Name)
	case utf8.RuneCountInString(b.Text) > MaxFlowButtonTextLen:
		return nil, invalid("the flow button text is %d characters, at most %d allowed", utf8.RuneCountInString(b.Text), MaxFlowButtonTextLen)
	case named != 1:
		return nil, invalid("the flow button of template %s needs exactly one of flow id, flow name and Flow JSON", t.Name)
	case b.Action != "" && b.Action != ActionNavigate && b.Action != ActionDataExchange:
		return nil, invalid("flow action %q: want %q or %q", b.Action, ActionNavigate, ActionDataExchange)
	case b.Action == ActionDataExchange && b.NavigateScreen != "":
		return nil, invalid("a data_exchange flow button opens no screen of its own: leave navigate_screen out")
	}
	for _, c := range []struct {
		field, s string
		n        int
	}{{"header", t.Header, MaxHeaderTextLen}, {"body", t.Body, MaxBodyTextLen}, {"footer", t.Footer, MaxFooterTextLen}} {
		if err := checkLen(c.field, c.s, c.n); err != nil {
			return nil, err
		}
	}
	button := map[string]any{"type": "FLOW", "text": b.Text}
	for k, v := range map[string]string{"flow_id": b.FlowID, "flow_name": b.FlowName, "flow_json": b.FlowJSON,
		"flow_action": string(b.Action), "navigate_screen": b.NavigateScreen} {
		if v != "" {
			button[k] = v
		}
	}
	out := &templateCreateBody{Name: t.Name, Language: t.Language, Category: t.Category}
	if t.Header != "" {
		out.Components = append(out.Components, map[string]any{"type": "HEADER", "format": "TEXT", "text": t.Header})
	}
	out.Components = append(out.Components, map[string]any{"type": "BODY", "text": t.Body})
	if t.Footer != "" {
		out.Components = append(out.Components, map[string]any{"type": "FOOTER", "text": t.Footer})
	}
	out.Components = append(out.Components, map[string]any{"type": "BUTTONS", "buttons": []any{button}})
	return out, nil
}

// CreateTemplate submits t for review with POST
// /{WABA_ID}/message_templates (protocol.md 5.2) and returns its id and
// first status (Meta reviews it: PENDING, then APPROVED or REJECTED).
func (c *Client) CreateTemplate(ctx context.Context, wabaID string, t TemplateCreate) (*CreatedTemplate, error) {
	op := fmt.Sprintf("create template %q", t.Name)
	if err := checkID("WABA ID", wabaID); err != nil {
		return nil, fmt.Errorf("graph: %s: %w", op, err)
	}
	body, err := t.body()
	if err != nil {
		return nil, fmt.Errorf("graph: %s: %w", op, err)
	}
	cl, err := jsonCall(op, "POST", body, wabaID, "message_templates")
	if err != nil {
		return nil, err
	}
	cl.unsafe = true
	var r CreatedTemplate
	if err := c.do(ctx, cl, &r); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, fmt.Errorf("graph: %s: %w: no template id in the answer", op, ErrUnexpectedResponse)
	}
	return &r, nil
}

const templateFields = "id,name,language,status,category,rejected_reason,components"

// ListTemplates returns the WABA's message templates, every page of GET
// /{WABA_ID}/message_templates; name, when set, keeps those called so (one
// per language).
func (c *Client) ListTemplates(ctx context.Context, wabaID, name string) ([]Template, error) {
	op := "list templates"
	if err := checkID("WABA ID", wabaID); err != nil {
		return nil, fmt.Errorf("graph: %s: %w", op, err)
	}
	all := []Template{}
	after := ""
	for page := 0; page < maxListPages; page++ {
		q := url.Values{"fields": {templateFields}}
		if name != "" {
			q.Set("name", name)
		}
		if after != "" {
			q.Set("after", after)
		}
		var raw json.RawMessage
		if err := c.do(ctx, &call{op: op, method: "GET", segments: []string{wabaID, "message_templates"}, query: q}, &raw); err != nil {
			return nil, err
		}
		var r struct {
			Data   []Template `json:"data"`
			Paging *struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("graph: %s: %w: %w", op, ErrUnexpectedResponse, err)
		}
		for _, t := range r.Data {
			// The name filter of the API matches by prefix in some
			// versions: keep the exact name only.
			if name == "" || t.Name == name {
				all = append(all, t)
			}
		}
		if r.Paging == nil || r.Paging.Next == "" || r.Paging.Cursors.After == "" || r.Paging.Cursors.After == after || len(r.Data) == 0 {
			return all, nil
		}
		after = r.Paging.Cursors.After
	}
	return nil, fmt.Errorf("graph: %s: %w: more than %d pages", op, ErrUnexpectedResponse, maxListPages)
}
