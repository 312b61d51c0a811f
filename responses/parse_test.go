package responses

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// members decodes obj's members with encoding/json, the reference for
// eachMember.
func members(obj []byte) (keys []string, vals []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys, vals = append(keys, t.(string)), append(vals, string(v))
	}
	return keys, vals, true
}

func checkMembers(t *testing.T, obj []byte) {
	var keys, vals []string
	err := eachMember(obj, func(k string, v json.RawMessage) {
		keys, vals = append(keys, k), append(vals, string(v))
	})
	wantKeys, wantVals, ok := members(obj)
	if !ok || !json.Valid(obj) {
		if err == nil && json.Valid(obj) {
			t.Fatalf("eachMember(%q) accepted what encoding/json refuses", obj)
		}
		return
	}
	if err != nil || !slices.Equal(keys, wantKeys) || !slices.Equal(vals, wantVals) {
		t.Fatalf("eachMember(%q) = %q %q, %v; want %q %q", obj, keys, vals, err, wantKeys, wantVals)
	}
}

func TestEachMember(t *testing.T) {
	for _, obj := range []string{
		`{}`, ` { } `, `{"a":1}`,
		` { "a" : "x\"y" , "b\u0041" : [1, {"c": "]}"}] ,"d":null,"e":-1.5e3,"f":true, "g":{"h":[[],{}]} } `,
		`{"a":"\\","b":"\\\""}`, `{"zoë":"Zoë"}`,
	} {
		checkMembers(t, []byte(obj))
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"a":}`, `{"a":1`, `{"a" 1}`} {
		if err := eachMember([]byte(bad), func(string, json.RawMessage) {}); err == nil {
			t.Errorf("eachMember(%q) accepted it", bad)
		}
	}
}

func FuzzEachMember(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"x\"y","b\u0041":[1,{"c":"]}"}]}`, `{"a":{"b":[1,2,{"c":null}]},"d":"\\"}`, `[1]`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) { checkMembers(t, obj) })
}
