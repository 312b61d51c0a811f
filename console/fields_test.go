package console

import (
	"encoding/json"
	"testing"
)

func TestResponseFields(t *testing.T) {
	got := responseFields([]byte(`{"b":"x","flow_token":"secret","a":2,"c":{"d":[1,"e"]}}`))
	want := []field{{"b", "x"}, {"a", "2"}, {"c", `{"d":[1,"e"]}`}}
	if len(got) != len(want) {
		t.Fatalf("fields = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("field %d = %v, want %v (in order, flow_token left out)", i, got[i], want[i])
		}
	}
	if f := responseFields([]byte(`[1,2]`)); f != nil {
		t.Fatalf("an array gave %v", f)
	}
}

func FuzzResponseFields(f *testing.F) {
	f.Add([]byte(`{"a":"b","flow_token":"t","n":1}`))
	f.Add([]byte(`{"a":`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields := responseFields(b) // never panics
		var obj map[string]json.RawMessage
		if json.Unmarshal(b, &obj) == nil && len(fields) > len(obj) && !duplicateKeys(fields) {
			t.Fatalf("%d fields from an object of %d members", len(fields), len(obj))
		}
	})
}

func duplicateKeys(fs []field) bool {
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.Name] {
			return true
		}
		seen[f.Name] = true
	}
	return false
}
