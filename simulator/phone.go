package simulator

import (
	"fmt"
	"strings"
	"time"

	"github.com/waflow/waflow/flowjson"
)

// phoneCheck runs the checks the phone makes before a Footer submits the
// form: required fields, character limits, input types, patterns, options,
// selection counts and dates, on the inputs shown now. It reuses
// flowjson's submitted-value rules (the ones the endpoint applies) on a
// copy of the screen that holds only the shown inputs, their dynamic
// properties already resolved against the form.
func (s *Session) phoneCheck() []flowjson.FieldError {
	scr := s.Screen()
	sc := s.scope()
	form := s.st.Form[scr.ID]
	var children []*flowjson.Component
	payload := map[string]any{}
	values := map[string]any{}
	sc.visible(scr, func(c, _ *flowjson.Component) {
		if !flowjson.IsInput(c.Type) || c.Name == "" || !sc.boolProp(c.Enabled, true) {
			return
		}
		cp := *c
		cp.Visible = nil
		for _, p := range []**flowjson.Value{&cp.Required, &cp.MinChars, &cp.MaxChars, &cp.MaxLength, &cp.Pattern,
			&cp.InputType, &cp.MinSelectedItems, &cp.MaxSelectedItems, &cp.MinDate, &cp.MaxDate,
			&cp.UnavailableDates, &cp.IncludeDays, &cp.MinDays, &cp.MaxDays} {
			if *p != nil && dependsOnForm(*p) {
				*p = flowjson.ValueOf(sc.value(*p))
			}
		}
		children = append(children, &cp)
		payload[c.Name] = "${form." + c.Name + "}"
		if v, ok := form[c.Name]; ok && v != nil && v != "" {
			values[c.Name] = v
		}
	})
	if len(children) == 0 {
		return nil
	}
	footer := &flowjson.Component{Type: "Footer", Label: flowjson.ValueOf("Submit"),
		OnClickAction: &flowjson.Action{Name: flowjson.ActionDataExchange, Payload: flowjson.ValueOf(payload)}}
	copyScreen := &flowjson.Screen{ID: scr.ID, Data: scr.Data,
		Layout: &flowjson.Layout{Type: "SingleColumnLayout", Children: append(children, footer)}}
	f := &flowjson.Flow{Version: s.c.cfg.Flow.Version, DataAPIVersion: "3.0", Screens: []*flowjson.Screen{copyScreen}}
	data := s.st.Data[scr.ID]
	if data == nil {
		data = map[string]any{}
	}
	chk := f.CheckRequest(flowjson.Submission{Screen: scr.ID, Values: values, ScreenData: data})
	return chk.Errors
}

// dependsOnForm reports whether a property refers to form values or other
// screens, which flowjson cannot resolve from screen data alone.
func dependsOnForm(v *flowjson.Value) bool {
	return v.Kind == flowjson.String && (strings.Contains(v.Str, "${form.") || strings.Contains(v.Str, "${screen.") || strings.HasPrefix(v.Str, "`"))
}

// Pick returns a valid value for the input called name on the current
// screen, as a user picking the first (or, with last, the last) thing on
// offer would: an enabled option of a selection (as many as
// min-selected-items asks), the first free date of a date picker, a range
// of min-days of a range CalendarPicker, true for an OptIn. Text inputs
// have nothing to pick.
func (s *Session) Pick(name string, last bool) (any, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	var item *Item
	for _, it := range s.View().Items {
		if it.Name == name && flowjson.IsInput(it.Type) {
			item = it
		}
	}
	if item == nil {
		return nil, fmt.Errorf("simulator: screen %s shows no input %q", s.st.Screen, name)
	}
	switch item.Type {
	case "RadioButtonsGroup", "Dropdown", "CheckboxGroup", "ChipsSelector":
		var ids []any
		for _, o := range item.Options {
			if o.Enabled {
				ids = append(ids, o.ID)
			}
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("simulator: %s %q on screen %s offers no enabled option", item.Type, name, s.st.Screen)
		}
		if last {
			for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
		if item.Type == "RadioButtonsGroup" || item.Type == "Dropdown" {
			return ids[0], nil
		}
		n := max(item.MinSelected, 1)
		return ids[:min(n, len(ids))], nil
	case "OptIn":
		return true, nil
	case "DatePicker", "CalendarPicker":
		days := s.freeDays(item)
		if len(days) == 0 {
			return nil, fmt.Errorf("simulator: %s %q on screen %s offers no free date", item.Type, name, s.st.Screen)
		}
		if item.Mode != "range" {
			if last {
				return days[len(days)-1], nil
			}
			return days[0], nil
		}
		// A range of min-days consecutive free days (at least one day).
		want := max(item.MinDays, 1)
		for i := range days {
			j := i
			if last {
				j = len(days) - 1 - i
			}
			start, _ := time.Parse(time.DateOnly, days[j])
			end := start.AddDate(0, 0, want-1).Format(time.DateOnly)
			if contains(days, end) { // the phone checks both ends
				return map[string]any{"start-date": days[j], "end-date": end}, nil
			}
		}
		return nil, fmt.Errorf("simulator: CalendarPicker %q on screen %s offers no range of %d days", name, s.st.Screen, want)
	}
	return nil, fmt.Errorf("simulator: %s %q needs a typed value; there is nothing to pick", item.Type, name)
}

// freeDays lists the selectable days of a date picker, at most a year
// from its minimum (today when it has none).
func (s *Session) freeDays(it *Item) []string {
	lo, err := time.Parse(time.DateOnly, it.MinDate)
	if err != nil {
		now := s.c.cfg.Now()
		lo = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	}
	hi, err := time.Parse(time.DateOnly, it.MaxDate)
	if err != nil {
		hi = lo.AddDate(1, 0, 0)
	}
	var out []string
	for d := lo; !d.After(hi) && len(out) < 400; d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		if contains(it.Unavailable, day) {
			continue
		}
		if len(it.IncludeDays) > 0 && !contains(it.IncludeDays, d.Weekday().String()[:3]) {
			continue
		}
		out = append(out, day)
	}
	return out
}
