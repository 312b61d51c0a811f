package flowjson

// Helpers other packages use to navigate a flow.

// Screen returns the screen with the given id, or nil.
func (f *Flow) Screen(id string) *Screen {
	for _, s := range f.Screens {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// TerminalScreens returns the ids of the terminal screens, in order.
func (f *Flow) TerminalScreens() []string {
	var out []string
	for _, s := range f.Screens {
		if s.IsTerminal() {
			out = append(out, s.ID)
		}
	}
	return out
}

// Field returns the declared data field called name, or nil.
func (s *Screen) Field(name string) *DataField { return s.Data.Field(name) }

// Type returns the declared JSON Schema type of the field ("" when it has
// none).
func (f *DataField) Type() string {
	if f.Schema == nil {
		return ""
	}
	return f.Schema.Type
}

// Example returns the field's "__example__", or nil.
func (f *DataField) Example() *Value {
	if f.Schema == nil {
		return nil
	}
	return f.Schema.Example
}

// Children returns the components of the screen's layout (nil without one).
func (s *Screen) Children() []*Component {
	if s.Layout == nil {
		return nil
	}
	return s.Layout.Children
}

// Components returns every component of the screen in document order,
// flattened through Form, If (both branches) and Switch (every case). The
// containers themselves are left out.
func (s *Screen) Components() []*Component {
	var out []*Component
	walkComponents(s.Children(), func(c *Component, _ bool) {
		out = append(out, c)
	})
	return out
}

// walkComponents calls fn for every non-container component, with whether
// it sits in an If or Switch branch.
func walkComponents(list []*Component, fn func(c *Component, inBranch bool)) {
	var walk func([]*Component, bool)
	walk = func(list []*Component, branch bool) {
		for _, c := range list {
			switch c.Type {
			case "Form":
				walk(c.Children, branch)
			case "If":
				walk(c.Then, true)
				walk(c.Else, true)
			case "Switch":
				if c.Cases != nil {
					for _, k := range c.Cases.Cases {
						walk(k.Children, true)
					}
				}
			default:
				fn(c, branch)
			}
		}
	}
	walk(list, false)
}

// Inputs returns the screen's input components (those producing a form
// value, such as TextInput or Dropdown) by name.
func (s *Screen) Inputs() map[string]*Component {
	out := map[string]*Component{}
	for _, c := range s.Components() {
		if IsInput(c.Type) && c.Name != "" {
			if _, dup := out[c.Name]; !dup {
				out[c.Name] = c
			}
		}
	}
	return out
}

// Component returns the named component of the screen (an input or a
// NavigationList), or nil.
func (s *Screen) Component(name string) *Component {
	for _, c := range s.Components() {
		if c.Name == name && c.Type != "Form" {
			return c
		}
	}
	return nil
}

// ActionRef is an action of a screen with what fires it.
type ActionRef struct {
	// Component fires the action (for an option or item, the component
	// holding it).
	Component *Component
	// Option is set when a data-source option fires the action.
	Option *Option
	// Item is set when a NavigationList item fires the action.
	Item *NavItem
	// Event is "on-click-action", "on-select-action" or "on-unselect-action".
	Event  string
	Action *Action
}

// Actions returns every action of the screen, in document order.
func (s *Screen) Actions() []ActionRef {
	var out []ActionRef
	walkComponents(s.Children(), func(c *Component, _ bool) {
		for _, ev := range []struct {
			name string
			a    *Action
		}{{"on-click-action", c.OnClickAction}, {"on-select-action", c.OnSelectAction}, {"on-unselect-action", c.OnUnselectAction}} {
			if ev.a != nil {
				out = append(out, ActionRef{Component: c, Event: ev.name, Action: ev.a})
			}
		}
		if c.DataSource != nil {
			for _, o := range c.DataSource.Items {
				if o.OnSelectAction != nil {
					out = append(out, ActionRef{Component: c, Option: o, Event: "on-select-action", Action: o.OnSelectAction})
				}
				if o.OnUnselectAction != nil {
					out = append(out, ActionRef{Component: c, Option: o, Event: "on-unselect-action", Action: o.OnUnselectAction})
				}
			}
		}
		if c.ListItems != nil {
			for _, it := range c.ListItems.Items {
				if it.OnClickAction != nil {
					out = append(out, ActionRef{Component: c, Item: it, Event: "on-click-action", Action: it.OnClickAction})
				}
			}
		}
	})
	return out
}

// PayloadKeys returns the keys of the action's payload, in order.
func (a *Action) PayloadKeys() []string {
	if a.Payload == nil || a.Payload.Kind != Object {
		return nil
	}
	keys := make([]string, 0, len(a.Payload.Members))
	for _, m := range a.Payload.Members {
		keys = append(keys, m.Key)
	}
	return keys
}

// Binding returns the payload value of key as written (a literal, a
// reference such as "${form.amount}", or a nested object), or nil.
func (a *Action) Binding(key string) *Value { return a.Payload.Get(key) }
