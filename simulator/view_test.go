package simulator_test

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/simulator"
)

// componentsSession opens testdata/components.json, a flow with every
// component of protocol.md 6.7, on its first screen.
func componentsSession(t *testing.T, data map[string]any) *simulator.Session {
	t.Helper()
	src, err := os.ReadFile("testdata/components.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, problems := flowjson.ValidateSource(src)
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	c, err := simulator.NewClient(simulator.Config{Flow: spec, FlowToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	s := simulator.NewSession(c)
	st, err := s.StartAt("TEXTS", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

func types(v *simulator.View) []string {
	var out []string
	for _, it := range v.Items {
		out = append(out, it.Type)
	}
	return out
}

func byName(v *simulator.View, name string) *simulator.Item {
	for _, it := range v.Items {
		if it.Name == name {
			return it
		}
	}
	return nil
}

// TestViews renders every component as the phone shows it: If, Switch and
// dynamic references resolved, init values and error messages applied.
func TestViews(t *testing.T) {
	options := []any{map[string]any{"id": "x", "title": "X"}, map[string]any{"id": "y", "title": "Y", "enabled": false}}
	s := componentsSession(t, map[string]any{"title": "All of them", "show_extra": false, "mode": "b", "options": options})
	v := s.View()
	if v.Title != "All of them" || v.Reactive {
		t.Errorf("title %q reactive %v", v.Title, v.Reactive)
	}
	want := []string{"TextHeading", "TextSubheading", "TextBody", "TextBody", "TextCaption", "Image", "TextBody", "TextBody", "EmbeddedLink", "Footer"}
	if diff := cmp.Diff(want, types(v)); diff != "" {
		t.Fatalf("TEXTS items (-want +got):\n%s", diff)
	}
	if it := v.Items[2]; it.FontWeight != "bold" || !it.Strikethrough {
		t.Errorf("TextBody style: %+v", it)
	}
	if it := v.Items[3]; !it.Markdown || it.Text != "**bold** and *italic*\n- one\n- two" {
		t.Errorf("markdown TextBody: %+v", it)
	}
	if v.Items[6].Text != "Shown by else" || v.Items[7].Text != "Case b" {
		t.Errorf("If/Switch: %q %q", v.Items[6].Text, v.Items[7].Text)
	}
	if img := v.Items[5]; img.Src == "" || img.Width != 40 || img.AltText != "A dot" {
		t.Errorf("Image: %+v", img)
	}
	if f := v.Items[9]; f.Label != "Next" || f.LeftCaption != "Left" || f.RightCaption != "Right" || f.ActionName != "navigate" || f.Action == nil {
		t.Errorf("Footer: %+v", f)
	}

	// The EmbeddedLink navigates with ${data.options} as the next screen's data.
	st, err := s.Fire(t.Context(), *v.Items[8].Action)
	if err != nil || !st.OK() || st.To != "RICH" {
		t.Fatalf("link: %v %+v", err, st)
	}
	if it := s.View().Items[0]; it.Type != "RichText" || !it.Markdown || it.Text == "" {
		t.Errorf("RichText: %+v", it)
	}
	must(t, s, "submit")

	v = s.View()
	if diff := cmp.Diff([]string{"TextInput", "TextArea", "CheckboxGroup", "RadioButtonsGroup", "Dropdown", "ChipsSelector", "OptIn", "Footer"}, types(v)); diff != "" {
		t.Fatalf("INPUTS items (-want +got):\n%s", diff)
	}
	email := byName(v, "email")
	if email.Value != "ada@example.com" || email.Error != "Check this address" || email.InputType != "email" || !email.Required || email.Helper != "Your address" || email.MaxChars != 80 {
		t.Errorf("TextInput with Form init-values and error-messages: %+v", email)
	}
	if n := byName(v, "notes"); n.MaxChars != 100 {
		t.Errorf("TextArea: %+v", n)
	}
	col := byName(v, "colours")
	if diff := cmp.Diff([]any{"red"}, col.Value); diff != "" || col.MinSelected != 1 || col.MaxSelected != 2 || col.Description != "Pick some" ||
		len(col.Options) != 3 || col.Options[2].Enabled || col.Options[1].Metadata != "Cool" {
		t.Errorf("CheckboxGroup: %+v %s", col, diff)
	}
	if p := byName(v, "pick"); len(p.Options) != 2 || p.Options[1].Enabled || p.Options[0].Title != "X" {
		t.Errorf("Dropdown from ${data.options}: %+v", p.Options)
	}
	if o := byName(v, "terms"); o.Value != false || !o.Required {
		t.Errorf("OptIn: %+v", o)
	}
	// The phone refuses: no size, terms not ticked, an email that is not one.
	s.Set("email", "not an email")
	st, _ = s.Submit(t.Context())
	got := map[string]string{}
	for _, b := range st.Blocked {
		got[b.Component] = b.Message
	}
	if diff := cmp.Diff(map[string]string{"email": "Enter a valid email", "size": "Required", "terms": "Required"}, got); diff != "" {
		t.Errorf("blocked (-want +got):\n%s", diff)
	}
	s.Fill(map[string]any{"email": "ada@example.com", "size": "m", "terms": true, "colours": []string{"red", "blue"}, "pick": "x"})
	must(t, s, "submit")

	v = s.View()
	day, stay := byName(v, "day"), byName(v, "stay")
	if day.MinDate != "2026-12-01" || day.MaxDate != "2026-12-31" || !cmp.Equal(day.Unavailable, []string{"2026-12-25"}) {
		t.Errorf("DatePicker: %+v", day)
	}
	if stay.Mode != "range" || stay.StartLabel != "Arrive" || stay.EndLabel != "Leave" || stay.MinDays != 2 || stay.MaxDays != 10 || len(stay.IncludeDays) != 5 {
		t.Errorf("CalendarPicker: %+v", stay)
	}
	r, err := s.Pick("stay", false)
	if err != nil || !cmp.Equal(r, map[string]any{"start-date": "2026-12-01", "end-date": "2026-12-02"}) {
		t.Errorf("Pick range = %v, %v", r, err)
	}
	if d, _ := s.Pick("day", true); d != "2026-12-31" {
		t.Errorf("Pick last day = %v", d)
	}
	s.Set("day", "2026-12-25")
	if st, _ := s.Submit(t.Context()); len(st.Blocked) != 1 || st.Blocked[0].Message != "Date not available" {
		t.Errorf("unavailable date: %+v", st.Blocked)
	}
	s.Fill(map[string]any{"day": "2026-12-24", "stay": r})
	must(t, s, "submit")

	v = s.View()
	if diff := cmp.Diff([]string{"PhotoPicker", "ImageCarousel", "Footer"}, types(v)); diff != "" {
		t.Errorf("PHOTO (-want +got):\n%s", diff)
	}
	if p := v.Items[0]; p.MaxUploads != 2 || p.Description != "Of the receipt" || len(v.Items[1].Images) != 2 {
		t.Errorf("PhotoPicker/ImageCarousel: %+v %+v", p, v.Items[1])
	}
	must(t, s, "submit")
	if d := s.View().Items[0]; d.Type != "DocumentPicker" || !cmp.Equal(d.MimeTypes, []string{"application/pdf"}) {
		t.Errorf("DocumentPicker: %+v", d)
	}
	must(t, s, "submit")

	nav := s.View().Items[0]
	if nav.Type != "NavigationList" || len(nav.ListItems) != 2 {
		t.Fatalf("NavigationList: %+v", nav)
	}
	first := nav.ListItems[0]
	if first.Title != "First" || first.Description != "The first" || first.EndTitle != "1" || first.Badge != "New" || first.Action == nil {
		t.Errorf("NavigationList item: %+v", first)
	}
	if st, err := s.Fire(t.Context(), *first.Action); err != nil || st.To != "END" {
		t.Fatalf("list item: %v %+v", err, st)
	}
	st = must(t, s, "submit")
	if diff := cmp.Diff(map[string]any{"flow_token": "tok", "size": "m", "terms": true}, st.Completion.ResponseJSON); diff != "" {
		t.Errorf("completion with ${screen.INPUTS.form.x} (-want +got):\n%s", diff)
	}
}

// TestReactiveView: a screen whose If depends on the form says so, and
// its view follows the form.
func TestReactiveView(t *testing.T) {
	s := componentsSession(t, map[string]any{"title": "T", "show_extra": true, "mode": "a", "options": []any{}})
	v := s.View()
	if v.Items[6].Text != "Shown by If" || v.Items[7].Text != "Case a" {
		t.Errorf("If/Switch with other data: %q %q", v.Items[6].Text, v.Items[7].Text)
	}
}

func must(t *testing.T, s *simulator.Session, what string) *simulator.Step {
	t.Helper()
	st, err := s.Submit(t.Context())
	if err != nil {
		t.Fatalf("%s on %s: %v", what, s.State().Screen, err)
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	return st
}
