package flowjson

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// addCorpus seeds a fuzz target with every Flow JSON of testdata.
func addCorpus(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"a":`, `{"version":7.3}`, `"\ud800"`, `{"a":1,"a":[true]}`,
		`{"screens":[{"layout":{"children":[{"type":"If","then":[{"type":"Switch","cases":{"a":[1]}}]}]}}]}`} {
		f.Add([]byte(s))
	}
}

// FuzzParse parses arbitrary bytes; where they parse, the flow must
// validate without panicking, marshal, and parse again to the same model
// (and marshal to the same bytes).
func FuzzParse(f *testing.F) {
	addCorpus(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		fl, err := Parse(src)
		if err != nil {
			return
		}
		Validate(fl)
		out, err := fl.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("marshal produced invalid JSON: %s", out)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("reparse of %s: %v", out, err)
		}
		if diff := cmp.Diff(fl, again, modelCmp); diff != "" {
			t.Fatalf("model changed after a round trip (-first +second):\n%s", diff)
		}
		out2, _ := again.MarshalJSON()
		if !bytes.Equal(out, out2) {
			t.Fatalf("marshal is not stable:\n%s\n%s", out, out2)
		}
	})
}

// FuzzParseValue checks that the position-tracking parser accepts exactly
// the documents encoding/json accepts, and decodes them to the same value.
func FuzzParseValue(f *testing.F) {
	addCorpus(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := ParseValue(src)
		var want any
		jerr := json.Unmarshal(src, &want)
		if (err == nil) != (jerr == nil) {
			if err != nil && bytes.Count(src, []byte("["))+bytes.Count(src, []byte("{")) > maxDepth {
				return // deeper than our nesting limit
			}
			t.Fatalf("ParseValue error %v, encoding/json error %v", err, jerr)
		}
		if err != nil {
			return
		}
		if diff := cmp.Diff(want, v.Interface()); diff != "" {
			t.Fatalf("values differ (-encoding/json +ParseValue):\n%s", diff)
		}
	})
}

// FuzzExpression parses arbitrary nested expressions and conditions: no
// panics, and a parsed expression type-checks without panicking.
func FuzzExpression(f *testing.F) {
	for _, s := range []string{"${data.a} > 1", "`'x' ${form.b}`", "(${data.a} && !${form.b}) || 1 == ${data.c}",
		"-${data.n} % 2", "(", "${", "'unterminated", "1 == 1", "${screen.A.form.b} != ''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, concat := range []bool{false, true} {
			n, err := parseExpr(s, concat)
			if err != nil {
				continue
			}
			n.typeCheck(func(*Ref) vtype { return tAny })
			n.typeCheck(func(*Ref) vtype { return tString })
		}
	})
}

// FuzzCheckRequest feeds arbitrary request data (attacker-controlled) to
// the submitted-value checks of several flows: they must never panic, and
// must never accept a key no action sends.
func FuzzCheckRequest(f *testing.F) {
	for _, s := range []string{`{}`, `{"amount":"12","category":"food"}`, `{"date":"2026-03-10","stay":{"start-date":1}}`,
		`{"slot":["am"],"extras":"x","terms":"true"}`, `{"invoices":[{"media_id":1}]}`, `{"x":null}`} {
		f.Add([]byte(s), []byte(`{"slots":[{"id":"am"}],"flow_name":"booking"}`))
	}
	var flows []*Flow
	for _, name := range []string{"v7_3_date_booking", "v7_3_expense_entry", "v4_0_document_picker", "v7_2_endpoint_booking", "v6_0_dynamic_dropdown"} {
		flows = append(flows, mustFlow(f, name))
	}
	f.Fuzz(func(t *testing.T, values, screenData []byte) {
		var v, d map[string]any
		if json.Unmarshal(values, &v) != nil {
			return
		}
		json.Unmarshal(screenData, &d)
		for _, fl := range flows {
			for _, s := range fl.Screens {
				chk := fl.CheckRequest(Submission{Screen: s.ID, Values: v, ScreenData: d})
				if chk.OK() {
					for k := range v {
						if chk.Action.Action.Binding(k) == nil {
							t.Fatalf("screen %s accepted key %q, which its action does not send", s.ID, k)
						}
					}
				}
				fl.CheckCompletion(Submission{Values: v, ScreenData: d})
			}
		}
	})
}
