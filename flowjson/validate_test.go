package flowjson

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want *Ref
	}{
		{"${data.name}", &Ref{Kind: RefData, Path: []string{"name"}}},
		{"${data.a.b.c}", &Ref{Kind: RefData, Path: []string{"a", "b", "c"}}},
		{"${form.first_name}", &Ref{Kind: RefForm, Path: []string{"first_name"}}},
		{"${screen.START.form.x}", &Ref{Kind: RefScreenForm, Screen: "START", Path: []string{"x"}}},
		{"${screen.START.data.x.y}", &Ref{Kind: RefScreenData, Screen: "START", Path: []string{"x", "y"}}},
		{"${data}", nil},
		{"${form.a.b}", nil},
		{"${screen.START.form}", nil},
		{"${foo.bar}", nil},
		{"${data.a b}", nil},
		{"x ${data.a}", nil},
		{"${data.a}${data.b}", nil},
	}
	for _, tt := range tests {
		got, ok := ParseRef(tt.in)
		if tt.want == nil {
			if ok {
				t.Errorf("ParseRef(%q) = %+v, want no reference", tt.in, got)
			}
			continue
		}
		tt.want.Text = tt.in
		if !ok {
			t.Errorf("ParseRef(%q) failed", tt.in)
		} else if diff := cmp.Diff(*tt.want, got); diff != "" {
			t.Errorf("ParseRef(%q) (-want +got)\n%s", tt.in, diff)
		}
	}
	for in, want := range map[string]dynForm{
		"plain": dynLiteral, "${data.a}": dynRef, "`${data.a} 'x'`": dynExpr,
		"Hi ${data.a}": dynMixed, "${data.a} ${data.b}": dynMixed, "${data.a}}": dynMixed, "": dynLiteral,
	} {
		if got := classify(in); got != want {
			t.Errorf("classify(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestExpressionTypes(t *testing.T) {
	t.Parallel()
	types := map[string]vtype{"${data.n}": tNumber, "${data.s}": tString, "${form.ok}": tBool, "${data.any}": tAny}
	refType := func(r *Ref) vtype { return types[r.Text] }
	tests := []struct {
		in     string
		concat bool
		want   vtype
		err    string
	}{
		{"${data.n} > 5", false, tBool, ""},
		{"(${data.n} > 5) && ${form.ok}", false, tBool, ""},
		{"!${form.ok} || ${data.s} == 'x'", false, tBool, ""},
		{"${data.n} * 2 + ${data.n} % 3", false, tNumber, ""},
		{"-${data.n}", false, tNumber, ""},
		{"'Hello ' ${data.s}", true, tString, ""},
		{"'Total: ' (${data.n} * 2) ' USD'", true, tString, ""},
		{"${data.any} == 1", false, tBool, ""},
		{"'Hello ' ${data.s}", false, 0, "missing operator"},
		{"${data.n} == 'x'", false, 0, "type mismatch in an equality operation"},
		{"${data.s} > 1", false, 0, "compares numbers"},
		{"${data.s} * 2", false, 0, "needs numbers"},
		{"${form.ok} && ${data.n}", false, 0, "needs boolean operands"},
		{"!${data.n}", false, 0, "needs a boolean operand"},
		{"-${data.s}", false, 0, "negative sign"},
		{"1 == 1", false, 0, "literals on both sides"},
		{"()", false, 0, "empty parentheses"},
		{"(${data.n} > 1", false, 0, "missing closing parenthesis"},
		{"${data.n} >", false, 0, "want an operand"},
		{"${data.n} ? 1", false, 0, "unexpected '?'"},
		{"'open", false, 0, "unterminated quoted string"},
		{"${data.n", false, 0, "unterminated reference"},
		{"", false, 0, "empty"},
	}
	for _, tt := range tests {
		n, err := parseExpr(tt.in, tt.concat)
		var got vtype
		if err == nil {
			got, err = n.typeCheck(refType)
		}
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want one containing %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case tt.err == "" && got != tt.want:
			t.Errorf("%q: type %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestVersions(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"7.3": true, "2.1": true, "7": false, "7.x": false, "-1.0": false, "+7.3": false, "": false} {
		if _, got := ParseVersion(in); got != ok {
			t.Errorf("ParseVersion(%q) ok = %v", in, got)
		}
	}
	if len(KnownVersions()) != 14 || KnownVersions()[0] != V2_1 || KnownVersions()[13] != Latest {
		t.Errorf("KnownVersions() = %v", KnownVersions())
	}
	if V5_0.Publishable() || !V5_1.Publishable() || (Version{8, 0}).Known() {
		t.Error("publishable versions start at 5.1; 8.0 is unknown")
	}
}

// validateString validates a flow given as a string and returns its
// problems as "CODE pointer" lines ("warning: CODE pointer" for warnings).
func validateString(t *testing.T, src string) []string {
	t.Helper()
	_, ps := ValidateSource([]byte(src))
	var out []string
	for _, p := range ps {
		switch {
		case p.Code == CodeFrozenVersion:
		case p.Severity == SeverityWarning:
			out = append(out, "warning: "+p.Code+" "+p.Pointer)
		default:
			out = append(out, p.Code+" "+p.Pointer)
		}
	}
	return out
}

// one wraps components in a one-screen terminal flow of version ver.
func one(ver, data, components string) string {
	if data == "" {
		data = "{}"
	}
	return `{"version":"` + ver + `","screens":[{"id":"ONLY","terminal":true,"data":` + data + `,
		"layout":{"type":"SingleColumnLayout","children":[` + components + `,
		{"type":"Footer","label":"Done","on-click-action":{"name":"complete","payload":{}}}]}}]}`
}

func TestValidateRules(t *testing.T) {
	t.Parallel()
	const p = "/screens/0/layout/children/0"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"If nested four levels", one("7.3", `{"a":{"type":"boolean","__example__":true}}`,
			`{"type":"If","condition":"${data.a}","then":[{"type":"If","condition":"${data.a}","then":[{"type":"If","condition":"${data.a}",
			"then":[{"type":"If","condition":"${data.a}","then":[{"type":"TextBody","text":"deep"}]}]}]}]}`),
			[]string{"MAXIMUM_IF_NESTING " + p + "/then/0/then/0/then/0/type"}},
		{"Footer in a nested If", `{"version":"7.3","screens":[{"id":"ONLY","terminal":true,"data":{"a":{"type":"boolean","__example__":true}},
			"layout":{"type":"SingleColumnLayout","children":[{"type":"If","condition":"${data.a}",
			"then":[{"type":"If","condition":"${data.a}","then":[{"type":"Footer","label":"A","on-click-action":{"name":"complete","payload":{}}}],
			"else":[{"type":"Footer","label":"B","on-click-action":{"name":"complete","payload":{}}}]}],
			"else":[{"type":"Footer","label":"C","on-click-action":{"name":"complete","payload":{}}}]}]}}]}`,
			[]string{"COMPONENT_NOT_ALLOWED " + p + "/then/0/then/0/type", "COMPONENT_NOT_ALLOWED " + p + "/then/0/else/0/type"}},
		{"ChipsSelector in If before 7.1", one("6.3", `{"a":{"type":"boolean","__example__":true}}`,
			`{"type":"If","condition":"${data.a}","then":[{"type":"ChipsSelector","name":"c","label":"C","data-source":[{"id":"a","title":"A"},{"id":"b","title":"B"}]}]}`),
			[]string{"COMPONENT_NOT_ALLOWED " + p + "/then/0/type"}},
		{"If inside a Switch", one("7.3", `{"a":{"type":"string","__example__":"x"}}`,
			`{"type":"Switch","value":"${data.a}","cases":{"x":[{"type":"If","condition":"${data.a} == 'x'","then":[{"type":"TextBody","text":"x"}]}]}}`),
			[]string{"COMPONENT_NOT_ALLOWED " + p + "/cases/x/0/type"}},
		{"range label in single mode", one("7.3", "", `{"type":"CalendarPicker","name":"c","label":{"start-date":"A","end-date":"B"}}`),
			[]string{"INVALID_PROPERTY_TYPE " + p + "/label"}},
		{"update_data of the wrong type", one("7.3", `{"n":{"type":"number","__example__":1}}`,
			`{"type":"OptIn","name":"o","label":"L","on-select-action":{"name":"update_data","payload":{"n":"text"}}}`),
			[]string{"INVALID_ACTION_PAYLOAD_PROPERTY " + p + "/on-select-action/payload/n"}},
		{"reference to an array for a string", one("7.3", `{"list":{"type":"array","items":{"type":"string"},"__example__":["a"]}}`,
			`{"type":"TextBody","text":"${data.list}"}`),
			[]string{"INVALID_SCREEN_DYNAMIC_DATA " + p + "/text"}},
		{"nested data path that does not exist", one("7.3", `{"u":{"type":"object","properties":{"name":{"type":"string"}},"__example__":{"name":"A"}}}`,
			`{"type":"TextBody","text":"${data.u.email}"}`),
			[]string{"INVALID_SCREEN_DYNAMIC_DATA " + p + "/text"}},
		{"Switch on an object", one("7.3", `{"o":{"type":"object","properties":{},"__example__":{}}}`,
			`{"type":"Switch","value":"${data.o}","cases":{"a":[{"type":"TextBody","text":"A"}]}}`),
			[]string{"INVALID_SCREEN_DYNAMIC_DATA " + p + "/value"}},
		{"picker in a nested complete payload", `{"version":"7.3","screens":[{"id":"ONLY","terminal":true,"layout":{"type":"SingleColumnLayout","children":[
			{"type":"DocumentPicker","name":"d","label":"Doc","max-uploaded-documents":1},
			{"type":"Footer","label":"Send","on-click-action":{"name":"complete","payload":{"files":{"doc":"${form.d}"}}}}]}}]}`,
			[]string{"INVALID_ON_CLICK_ACTION_PAYLOAD /screens/0/layout/children/1/on-click-action/payload/files/doc"}},
		{"item image over 100 KB from 6.0", one("6.0", "",
			`{"type":"RadioButtonsGroup","name":"r","label":"R","data-source":[{"id":"a","title":"A","image":"`+strings.Repeat("A", 140000)+`"}]}`),
			[]string{"INVALID_PROPERTY_VALUE " + p + "/data-source/0/image"}},
		{"init-values of the wrong type from 7.0", one("7.0", "",
			`{"type":"Form","name":"f","init-values":{"c":"red"},"children":[{"type":"CheckboxGroup","name":"c","label":"C","data-source":[{"id":"red","title":"Red"}]}]}`),
			[]string{"INVALID_PROPERTY_TYPE " + p + "/init-values/c"}},
		{"TextInput error-message too long", one("7.3", "",
			`{"type":"TextInput","name":"n","label":"N","error-message":"This message is far too long for it"}`),
			[]string{"MAX_CHARS_EXCEEDED " + p + "/error-message"}},
		{"pattern Go cannot check is a warning", one("7.3", "",
			`{"type":"TextInput","name":"n","label":"N","pattern":"(?=.*[0-9]).{8,}","helper-text":"8+ with a digit"}`),
			[]string{"warning: UNCHECKABLE_PATTERN " + p + "/pattern"}},
		{"EmbeddedLink text over Meta's 25 but within 35: a warning", one("7.3", "",
			`{"type":"EmbeddedLink","text":"Don't have an account? Sign up","on-click-action":{"name":"open_url","url":"https://example.com"}}`),
			[]string{"warning: MAX_CHARS_EXCEEDED " + p + "/text"}},
		{"EmbeddedLink text over 35: an error", one("7.3", "",
			`{"type":"EmbeddedLink","text":"Don't have an account yet? Sign up here","on-click-action":{"name":"open_url","url":"https://example.com"}}`),
			[]string{"MAX_CHARS_EXCEEDED " + p + "/text"}},
		{"unpadded base64 image", one("7.3", "", `{"type":"Image","src":"iVBORw0KGgoAAAANSUhEUgAAAAoAAAAKCAIAAAACUFjqAAAALElEQVR4nGIRPRrBgATeWLsjc5kY8AKaSrPIL3FA5i9evZNudhOQBgQAAP"}`), nil},
		{"number TextInput compared with a number", one("7.3", "",
			`{"type":"TextInput","name":"n","label":"N","input-type":"number"},{"type":"TextBody","text":"Right!","visible":"`+"`"+`${form.n} == 42`+"`"+`"}`), nil},
		{"numeric property as a string of digits", one("7.3", "", `{"type":"TextInput","name":"n","label":"N","max-chars":"20"}`), nil},
		{"programmatic flows are checked too", `{"version":"7.3","screens":[{"id":"A","terminal":true,"layout":{"type":"SingleColumnLayout","children":[
			{"type":"Footer","label":"Go","on-click-action":{"name":"complete","payload":{}}}]}}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, validateString(t, tt.src)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
