package simulator

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/flowjson"
)

// TestEval: references, nested expressions and conditions evaluate as the
// phone does (protocol.md 6.4).
func TestEval(t *testing.T) {
	sc := &scope{screen: "S",
		data: func(id string) map[string]any {
			if id == "OTHER" {
				return map[string]any{"city": "Lisbon"}
			}
			return map[string]any{"n": 4.0, "ok": true, "user": map[string]any{"name": "Ada"}, "list": []any{"a"}}
		},
		form: func(id string) map[string]any {
			if id == "OTHER" {
				return map[string]any{"x": "from other"}
			}
			return map[string]any{"amount": "12.5", "name": "Ada", "tick": true}
		}}
	tests := []struct {
		in   string
		want any
	}{
		{"${data.n}", 4.0},
		{"${data.user.name}", "Ada"},
		{"${data.missing}", nil},
		{"${form.amount}", "12.5"},
		{"${screen.OTHER.form.x}", "from other"},
		{"${screen.OTHER.data.city}", "Lisbon"},
		{"plain text", "plain text"},
		{"`'Hello ' ${form.name}`", "Hello Ada"},
		{"`${form.name} ' is in ' ${screen.OTHER.data.city}`", "Ada is in Lisbon"},
		{"`${data.n} * 2 + 1`", 9.0},
		{"`${form.amount} + 1`", 13.5}, // a number input holds text
		{"`${data.n} / 0`", 0.0},       // division by zero yields 0
		{"`${data.n} % 3`", 1.0},
		{"`${data.n} > 3 && ${data.ok}`", true},
		{"`!${data.ok} || ${form.name} == 'Ada'`", true},
		{"`${form.name} != 'Ada'`", false},
		{"`(${data.n} - 1) * 2`", 6.0},
	}
	for _, tt := range tests {
		if got := sc.text(tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	for cond, want := range map[string]bool{
		"${form.tick}":                        true,
		"${data.n} > 5":                       false,
		"(${data.n} == 4) && ${form.tick}":    true,
		"${form.name} == 'Ada' || ${data.ok}": true,
		"${data.missing}":                     false,
		"${data.n} >":                         false, // malformed: not true
	} {
		if got := sc.condition(cond); got != want {
			t.Errorf("condition %s = %v, want %v", cond, got, want)
		}
	}
	payload := flowjson.ValueOf(map[string]any{"a": "${form.name}", "b": map[string]any{"c": "${data.n}"}, "d": []any{"${form.tick}", 1.0}})
	want := map[string]any{"a": "Ada", "b": map[string]any{"c": 4.0}, "d": []any{true, 1.0}}
	if diff := cmp.Diff(want, sc.value(payload)); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
}
