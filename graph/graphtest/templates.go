package graphtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
)

// Template is a message template as the fake keeps it.
type Template struct {
	ID, Name, Language, Category string
	Status                       string // PENDING until SetTemplateStatus
	// Components are the components of the creation request, decoded.
	Components []map[string]any
}

var wabaTemplates = regexp.MustCompile(`^/([0-9]+)/message_templates$`)

// Template returns the template called name, or nil.
func (f *Server) Template(name string) *Template {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.templates[name]; t != nil {
		c := *t
		return &c
	}
	return nil
}

// SetTemplateStatus sets the review status of template name (APPROVED,
// REJECTED...), as Meta's review would.
func (f *Server) SetTemplateStatus(name, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.templates[name]; t != nil {
		t.Status = status
	}
}

// templatesEdge: POST and GET /{WABA_ID}/message_templates (protocol.md
// 5.2). A creation is checked as Meta checks a template with a FLOW
// button: name, language, category, a BODY, and a BUTTONS component whose
// FLOW button has a text of at most 25 characters, exactly one of flow_id
// (of a flow the fake holds), flow_name (resolved to its id, as Meta
// stores it) and flow_json, and flow_action navigate or data_exchange.
func (f *Server) templatesEdge(w http.ResponseWriter, r *http.Request, body []byte, bad func(string, ...any)) {
	if r.Method == "GET" {
		name := r.URL.Query().Get("name")
		data := []any{}
		names := make([]string, 0, len(f.templates))
		for n := range f.templates {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t := f.templates[n]
			if name != "" && t.Name != name {
				continue
			}
			data = append(data, map[string]any{"id": t.ID, "name": t.Name, "language": t.Language, "status": t.Status,
				"category": t.Category, "components": t.Components})
		}
		writeJSON(w, 200, map[string]any{"data": data, "paging": map[string]any{"cursors": map[string]any{"before": "b", "after": "a"}}})
		return
	}
	if r.Method != "POST" || !wantContentType(r, "application/json") {
		bad("message_templates wants a JSON POST or a GET")
		return
	}
	var t struct {
		Name       string           `json:"name"`
		Language   string           `json:"language"`
		Category   string           `json:"category"`
		Components []map[string]any `json:"components"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.Name == "" || t.Language == "" || t.Category == "" {
		bad("a template needs name, language and category: %s", body)
		return
	}
	if f.templates[t.Name] != nil {
		graphError(w, 400, 100, "(#100) Invalid parameter", "Message template already exists with this name and language")
		return
	}
	hasBody, flowButtons := false, 0
	for _, c := range t.Components {
		switch c["type"] {
		case "BODY", "body":
			hasBody = c["text"] != nil
		case "BUTTONS":
			buttons, _ := c["buttons"].([]any)
			for _, x := range buttons {
				b, _ := x.(map[string]any)
				if b["type"] != "FLOW" {
					continue
				}
				flowButtons++
				text, _ := b["text"].(string)
				named := 0
				for _, k := range []string{"flow_id", "flow_name", "flow_json"} {
					if b[k] != nil {
						named++
					}
				}
				switch {
				case text == "" || len([]rune(text)) > 25:
					bad("a FLOW button needs a text of at most 25 characters: %s", body)
					return
				case named != 1:
					bad("a FLOW button needs exactly one of flow_id, flow_name and flow_json: %s", body)
					return
				case b["flow_action"] != nil && b["flow_action"] != "navigate" && b["flow_action"] != "data_exchange":
					bad("flow_action: %s", body)
					return
				}
				if name, ok := b["flow_name"].(string); ok {
					for _, fl := range f.flows {
						if fl.Name == name {
							b["flow_id"] = fl.ID
						}
					}
					if b["flow_id"] == nil {
						graphError(w, 400, 100, "(#100) Invalid parameter", "Flow with name "+name+" does not exist")
						return
					}
					delete(b, "flow_name")
				}
				if id, ok := b["flow_id"].(string); ok && f.flows[id] == nil {
					graphError(w, 400, 100, "(#100) Invalid parameter", "Flow with id "+id+" does not exist")
					return
				}
				if b["flow_json"] != nil {
					// Meta makes a flow of it and stores its id.
					f.nextID++
					id := fmt.Sprint(f.nextID)
					f.flows[id] = &Flow{ID: id, Name: t.Name + "_flow", Status: "PUBLISHED"}
					b["flow_id"] = id
					delete(b, "flow_json")
				}
			}
		}
	}
	if !hasBody || flowButtons != 1 {
		bad("a flow template needs a BODY and one FLOW button: %s", body)
		return
	}
	f.nextTemplate++
	tpl := &Template{ID: fmt.Sprint(800000000 + f.nextTemplate), Name: t.Name, Language: t.Language, Category: t.Category,
		Status: "PENDING", Components: t.Components}
	if f.templates == nil {
		f.templates = map[string]*Template{}
	}
	f.templates[t.Name] = tpl
	writeJSON(w, 200, map[string]any{"id": tpl.ID, "status": tpl.Status, "category": tpl.Category})
}

// checkTemplateSend refuses the send of a template the fake holds that is
// not APPROVED (Meta: 132001), and a flow button component at an index that
// is not the template's FLOW button. Templates the fake does not hold are
// let through, for tests that never created one.
func (f *Server) checkTemplateSend(w http.ResponseWriter, m map[string]any, bad func(string, ...any)) bool {
	t := f.templates[templateName(m)]
	if t == nil {
		return true
	}
	if t.Status != "APPROVED" {
		graphError(w, 404, 132001, "(#132001) Template name does not exist in the translation", "template "+t.Name+" is "+t.Status)
		return false
	}
	tm, _ := m["template"].(map[string]any)
	comps, _ := tm["components"].([]any)
	for _, x := range comps {
		c, _ := x.(map[string]any)
		if c["type"] == "button" && c["sub_type"] == "flow" && c["index"] != "0" {
			bad("flow button index %v: template %s has its FLOW button at 0", c["index"], t.Name)
			return false
		}
	}
	return true
}
