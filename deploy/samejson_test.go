package deploy

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/waflow/waflow/catalog"
)

func TestSameJSON(t *testing.T) {
	src, _ := catalog.Source("appointment_booking")
	var v any
	json.Unmarshal(src, &v)
	compact, _ := json.Marshal(v) // what Meta may store: same value, other spacing and key order
	for _, tc := range []struct {
		name string
		a, b string
		want bool
	}{
		{"identical", string(src), string(src), true},
		{"reformatted", string(src), string(compact), true},
		{"key order", `{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, true},
		{"other value", `{"a":1}`, `{"a":2}`, false},
		{"number spelling", `{"a":1}`, `{"a":1.0}`, false},
		{"array order", `[1,2]`, `[2,1]`, false},
		{"trailing data", `{"a":1}`, `{"a":1} {}`, false},
		{"not JSON", `{"a":1}`, `{"a":`, false},
		{"stray closing brace", `0`, `0}`, false},
		{"stray closing bracket", `{"a":1}`, `{"a":1}]`, false},
		{"white space around", `{"a":1}`, " \n{\"a\":1}\t", true},
	} {
		if got := sameJSON([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("%s: sameJSON = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzSameJSON: a value equals itself re-encoded, and equality is symmetric.
func FuzzSameJSON(f *testing.F) {
	src, _ := catalog.Source("feedback_survey")
	for _, s := range []string{string(src), `{"a":1}`, `[1,"x",null,true]`, `{"a":{"b":[]}}`, `"\u00e9"`, `1e400`, `{`} {
		f.Add([]byte(s), []byte(`{"a":1}`))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if sameJSON(a, b) != sameJSON(b, a) {
			t.Fatalf("sameJSON is not symmetric for %q and %q", a, b)
		}
		if sameJSON(a, b) && !json.Valid(a) && !bytes.Equal(a, b) {
			t.Fatalf("%q is not JSON but equals %q", a, b)
		}
		v, err := decodeJSON(a)
		if err != nil {
			return
		}
		re, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return
		}
		if !sameJSON(a, re) {
			t.Fatalf("%q differs from itself re-encoded as %q", a, re)
		}
	})
}
