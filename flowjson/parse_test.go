package flowjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// modelCmp compares models ignoring source positions.
var modelCmp = cmp.Options{
	cmpopts.IgnoreUnexported(Flow{}, RoutingModel{}, Screen{}, Schema{}, Layout{}, Component{}, Option{},
		CarouselImage{}, NavItem{}, NavContent{}, NavStart{}, Cases{}, Action{}, Next{}),
	cmpopts.IgnoreFields(Value{}, "Pos"),
	cmpopts.IgnoreFields(Member{}, "KeyPos"),
	// cmp works out an edit script for every slice, comparing the
	// elements in full, then descends into them again: on nested JSON
	// values that is exponential in the depth (8 s for one real-world
	// flow with a deep data schema). sameValue is the same equality in
	// one walk.
	cmp.Comparer(sameValue),
}

// sameValue reports whether two JSON values are equal, ignoring positions.
func sameValue(a, b *Value) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || a.Bool != b.Bool || a.Str != b.Str ||
		len(a.Items) != len(b.Items) || len(a.Members) != len(b.Members) ||
		(a.Items == nil) != (b.Items == nil) || (a.Members == nil) != (b.Members == nil) {
		return false
	}
	for i := range a.Items {
		if !sameValue(a.Items[i], b.Items[i]) {
			return false
		}
	}
	for i, m := range a.Members {
		n := b.Members[i]
		if (m == nil) != (n == nil) {
			return false
		}
		if m != nil && (m.Key != n.Key || !sameValue(m.Value, n.Value)) {
			return false
		}
	}
	return true
}

func TestParseValuePositions(t *testing.T) {
	t.Parallel()
	src := "{\n  \"a\": [1, \"x\"],\n\t\"b\": {\"c\": true}\n}"
	v, err := ParseValue([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		got  Pos
		want string
	}{
		{v.Pos, "1:1"},
		{v.member("a").KeyPos, "2:3"},
		{v.Get("a").Pos, "2:8"},
		{v.Get("a").Items[1].Pos, "2:12"},
		{v.member("b").KeyPos, "3:2"},
		{v.Get("b").Get("c").Pos, "3:13"},
	}
	for i, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("position %d = %s, want %s", i, tt.got, tt.want)
		}
	}
	if off := v.Get("b").Pos.Offset; src[off] != '{' {
		t.Errorf("offset %d points at %q, want '{'", off, src[off])
	}
}

func TestParseValueMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	inputs := []string{
		`{"s":"caf\u00e9 \"q\" \\ \/ \n","n":-0.5e+3,"z":0,"t":true,"f":false,"x":null,"a":[],"o":{}}`,
		`"\ud83d\ude00"`,
		"\"\xff invalid utf-8\"",
		`[1e5, 1E-2, 12345678901234567890]`,
	}
	for _, in := range inputs {
		v, err := ParseValue([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		var want any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, v.Interface()); diff != "" {
			t.Errorf("%s: (-encoding/json +ParseValue)\n%s", in, diff)
		}
	}
}

func TestParseValueSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, pos, msg string
	}{
		{"", "1:1", "unexpected end of input"},
		{"{\n  \"a\": 1,\n}", "3:1", "want a property name"},
		{"{\"a\" 1}", "1:6", "want ':'"},
		{"[1 2]", "1:4", "want ',' or ']'"},
		{"{\"a\": tru}", "1:7", "invalid literal"},
		{"{\"a\": 01}", "1:8", "want ',' or '}'"},
		{"{\"a\": 1.}", "1:9", "digit after '.'"},
		{"{\"a\": \"\\x\"}", "1:9", "invalid escape"},
		{"{\"a\": \"\\u12\"}", "1:12", "4 hex digits"},
		{"{\"a\": \"line\nbreak\"}", "1:12", "control character"},
		{"{} {}", "1:4", "after the top-level value"},
		{"{\"a\": 'x'}", "1:7", "want a value"},
		{strings.Repeat("[", 600), "1:502", "nesting deeper"},
	}
	for _, tt := range tests {
		_, err := ParseValue([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if se.Pos.String() != tt.pos || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("%q: %s: %s, want %s: ...%s...", tt.in, se.Pos, se.Msg, tt.pos, tt.msg)
		}
		if json.Valid([]byte(tt.in)) {
			t.Errorf("%q: encoding/json accepts it but ParseValue does not", tt.in)
		}
	}
}

func TestParseKeepsUnknownAndMistypedProperties(t *testing.T) {
	t.Parallel()
	src := `{"version":"7.3","x-note":{"by":"me"},"screens":[{"id":"A","terminal":"yes","layout":{"type":"SingleColumnLayout","children":[
		{"type":"TextInput","name":"n","label":"Name","min_chars":2,"data-source":42},
		{"type":"Footer","label":"Go","on-click-action":{"name":"complete","payload":{"n":"${form.n}"},"extra":1}}]}}]}`
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Extra[0].Key; got != "x-note" {
		t.Errorf("flow Extra[0] = %q, want x-note", got)
	}
	s := f.Screens[0]
	if s.Terminal != nil || len(s.Extra) != 1 || s.Extra[0].Key != "terminal" {
		t.Errorf("a mistyped terminal should be kept in Extra, got Terminal=%v Extra=%v", s.Terminal, s.Extra)
	}
	in := s.Layout.Children[0]
	if in.DataSource != nil || len(in.Extra) != 2 {
		t.Errorf("TextInput Extra = %v, want min_chars and data-source", in.Extra)
	}
	out, _ := f.MarshalJSON()
	var a, b any
	json.Unmarshal([]byte(src), &a)
	json.Unmarshal(out, &b)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("marshal lost something (-source +marshalled):\n%s", diff)
	}
	ps := Validate(f)
	for _, want := range []string{"/x-note", "/screens/0/terminal", "/screens/0/layout/children/0/min_chars",
		"/screens/0/layout/children/0/data-source", "/screens/0/layout/children/1/on-click-action/extra"} {
		found := false
		for _, p := range ps {
			found = found || p.Pointer == want && (p.Code == CodeInvalidPropertyKey || p.Code == CodeInvalidPropertyType)
		}
		if !found {
			t.Errorf("no problem reported at %s; got:\n%s", want, formatGolden("", ps))
		}
	}
}

func TestParseDuplicateKeysLastWins(t *testing.T) {
	t.Parallel()
	src := `{"version":"6.0","version":"7.3","screens":[]}`
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != "7.3" {
		t.Errorf("Version = %q, want the last one, 7.3", f.Version)
	}
	out, _ := f.MarshalJSON()
	if string(out) != `{"version":"7.3","screens":[]}` {
		t.Errorf("marshalled %s", out)
	}
	ps := Validate(f)
	if !strings.Contains(formatGolden("", ps), "1:18: DUPLICATE_PROPERTY") {
		t.Errorf("duplicate key not reported at 1:18:\n%s", formatGolden("", ps))
	}
}

func TestMarshalKeepsSourceOrderAndLiterals(t *testing.T) {
	t.Parallel()
	src := `{"screens":[{"layout":{"children":[{"text":"a<b & c","type":"TextBody"},{"type":"Image","src":"AA==","aspect-ratio":1.50}],"type":"SingleColumnLayout"},"id":"A"}],"version":"7.3"}`
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := f.MarshalJSON()
	if string(out) != src {
		t.Errorf("marshal changed the document:\n got %s\nwant %s", out, src)
	}
}

func TestMarshalBuiltInGo(t *testing.T) {
	t.Parallel()
	yes := true
	f := &Flow{Version: "7.3", Screens: []*Screen{{
		ID: "ONLY", Terminal: &yes,
		Layout: &Layout{Type: "SingleColumnLayout", Children: []*Component{
			{Type: "TextInput", Name: "email", Label: ValueOf("Email"), InputType: ValueOf("email")},
			{Type: "Footer", Label: ValueOf("Send"), OnClickAction: &Action{Name: ActionComplete,
				Payload: ValueOf(map[string]any{"email": "${form.email}"})}},
		}},
	}}}
	out, err := f.MarshalIndent("", "  ")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if ps := Validate(g); len(ps) != 0 {
		t.Errorf("problems in a flow built in Go:\n%s\n%s", formatGolden("", ps), out)
	}
	if ps := Validate(f); len(ps) != 0 {
		t.Errorf("problems validating the Go value directly:\n%s", formatGolden("", ps))
	}
	if diff := cmp.Diff(f, g, modelCmp); diff != "" {
		t.Errorf("model changed (-built +parsed):\n%s", diff)
	}
}

func TestUnmarshalJSON(t *testing.T) {
	t.Parallel()
	var doc struct {
		Flow *Flow `json:"flow"`
	}
	if err := json.Unmarshal([]byte(`{"flow":{"version":"7.3","screens":[]}}`), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Flow.Version != "7.3" || doc.Flow.Screens == nil {
		t.Errorf("got %+v", doc.Flow)
	}
	if err := json.Unmarshal([]byte(`{"flow":[1]}`), &doc); err == nil {
		t.Error("a non-object flow should not unmarshal")
	}
}

func TestValidateSourceSyntaxError(t *testing.T) {
	t.Parallel()
	f, ps := ValidateSource([]byte("{\n  \"version\": \"7.3\"\n  \"screens\": []\n}"))
	if f != nil {
		t.Error("a flow was returned for invalid JSON")
	}
	want := Problems{{Code: CodeInvalidFlowJSON, Message: "unexpected character '\"', want ',' or '}'", Line: 3, Column: 3}}
	if diff := cmp.Diff(want, ps); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestValidateSourceTooLarge(t *testing.T) {
	t.Parallel()
	big := `{"version":"7.3","screens":[],"pad":"` + strings.Repeat("x", maxFlowJSONBytes) + `"}`
	_, ps := ValidateSource([]byte(big))
	if len(ps) == 0 || ps[0].Code != CodeFlowJSONTooLarge {
		t.Errorf("got %v, want FLOW_JSON_TOO_LARGE first", ps)
	}
}

func TestProblemFormatting(t *testing.T) {
	t.Parallel()
	ps := Problems{
		{Severity: SeverityError, Code: "X", Message: "bad", Pointer: "/a", Line: 3, Column: 7},
		{Severity: SeverityWarning, Code: "Y", Message: "meh", Pointer: "/b", Line: 1, Column: 2},
		{Severity: SeverityError, Code: "Z", Message: "no position", Pointer: "/c"},
	}
	var b strings.Builder
	if err := ps.WriteText(&b, "flow.json"); err != nil {
		t.Fatal(err)
	}
	want := "flow.json:3:7: X: bad\nflow.json:1:2: warning: Y: meh\nflow.json: Z: no position\n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	if ps.Errors() != 2 || ps.Warnings() != 1 || !ps.HasErrors() {
		t.Errorf("counts: %d errors, %d warnings", ps.Errors(), ps.Warnings())
	}
	j, _ := json.Marshal(ps.Report("flow.json"))
	wantJSON := `{"file":"flow.json","errors":2,"warnings":1,"problems":[{"severity":"error","code":"X","message":"bad","pointer":"/a","line":3,"column":7},{"severity":"warning","code":"Y","message":"meh","pointer":"/b","line":1,"column":2},{"severity":"error","code":"Z","message":"no position","pointer":"/c","line":0,"column":0}]}`
	if string(j) != wantJSON {
		t.Errorf("json:\n%s\nwant:\n%s", j, wantJSON)
	}
	var back FileReport
	if err := json.Unmarshal(j, &back); err != nil || back.Problems[1].Severity != SeverityWarning {
		t.Errorf("report does not read back: %v %+v", err, back)
	}
	empty, _ := json.Marshal(Problems(nil).Report("ok.json"))
	if !strings.Contains(string(empty), `"problems":[]`) {
		t.Errorf("empty report %s", empty)
	}
	err := ps.Err()
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "3:7: X: bad (and 1 more errors)") {
		t.Errorf("Err() = %v", err)
	}
	if (Problems{ps[1]}).Err() != nil {
		t.Error("warnings alone should not be an error")
	}
}
