package simulator

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/flowjson"
)

// FuzzParseScenario: any input either parses into a scenario that survives
// a JSON round trip, or is refused with an error; it never panics.
func FuzzParseScenario(f *testing.F) {
	for _, s := range []string{
		`{"steps": []}`,
		`{"start": {"screen": "A", "data": {"x": 1}}, "steps": [{"fill": {"a": "$first"}, "do": "select:a", "expect": {"screen": "B", "violations": ["wrong-type"]}}]}`,
		`{"steps": [{"do": "error", "error": {"key": "K", "message": "m"}}, {"do": "fire:2"}, {"do": "back"}]}`,
		`{"steps": [{"do": "jump"}]}`,
		`{"steps": [{"do": "fire:-1"}]}`,
		`{"steps": [], "extra": 1}`,
		`{"steps": []} {}`,
		`[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := ParseScenario(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseScenario(out)
		if err != nil {
			t.Fatalf("a parsed scenario does not parse again: %v\n%s", err, out)
		}
		out2, _ := json.Marshal(again)
		if string(out) != string(out2) {
			t.Fatalf("round trip changed the scenario:\n%s\n%s", out, out2)
		}
	})
}

// FuzzCheckAnswer: any decrypted answer is checked without panicking, and
// every violation names a known rule; an answer with none is one the
// client accepts (a screen of the flow, or SUCCESS with the token).
func FuzzCheckAnswer(f *testing.F) {
	src, err := catalog.Source("appointment_booking")
	if err != nil {
		f.Fatal(err)
	}
	spec, _ := flowjson.ValidateSource(src)
	for _, s := range []string{
		`{"screen":"DATE","data":{"min_date":"2026-12-01","max_date":"2026-12-31","unavailable_dates":[]}}`,
		`{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"flow_token":"t"}}}}`,
		`{"screen":"TIME","data":{"slots":[{"id":1}],"error_message":3}}`,
		`{"screen":5}`, `{"data":[]}`, `{}`,
	} {
		f.Add([]byte(s), "DETAILS", ActionDataExchange)
	}
	f.Add([]byte(`{"screen":"DATE"}`), "TIME", ActionBack)
	f.Add([]byte(`{"screen":"DETAILS"}`), "", ActionInit)
	known := map[string]bool{RuleSchema: true, RuleUnknownScreen: true, RuleTransition: true, RuleMissingField: true,
		RuleUndeclaredField: true, RuleWrongType: true, RuleFlowToken: true, RuleErrorMessage: true}
	f.Fuzz(func(t *testing.T, b []byte, from, action string) {
		var body map[string]any
		if json.Unmarshal(b, &body) != nil || body == nil {
			return
		}
		m := move{action: action, from: from, back: []string{"DETAILS", "DATE"}}
		vs := checkScreenAnswer(spec, m, body, "t")
		for _, v := range vs {
			if !known[v.Rule] || v.Message == "" {
				t.Fatalf("violation %+v", v)
			}
		}
		if len(vs) == 0 {
			screen, _ := body["screen"].(string)
			if screen != "SUCCESS" && spec.Screen(screen) == nil {
				t.Fatalf("accepted an answer on screen %q", screen)
			}
		}
	})
}

// FuzzEval: expressions and conditions evaluate without panicking, and a
// condition is always a boolean decision.
func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"${form.a} == 'x' && !${data.b}", "(${data.n} + 2) * 3 > 7 || false", "'Hello ' ${form.name}",
		"${screen.A.form.x} != ${screen.B.data.y.z}", "1 / 0", "((", "'open", "${data", "- - 1 % 0",
	} {
		f.Add(s)
	}
	sc := &scope{screen: "S",
		data: func(string) map[string]any {
			return map[string]any{"b": false, "n": 4.0, "y": map[string]any{"z": "q"}}
		},
		form: func(string) map[string]any { return map[string]any{"a": "x", "name": "Ada"} }}
	f.Fuzz(func(t *testing.T, s string) {
		sc.eval(s, true)
		_ = sc.condition(s)
		x := sc.text("`" + s + "`")
		if x != nil {
			reflect.TypeOf(x)
		}
	})
}
