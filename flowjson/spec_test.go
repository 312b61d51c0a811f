package flowjson

import (
	"reflect"
	"testing"
)

// TestComponentValuePropsComplete keeps the accessor table in step with the
// Component struct: every *Value field, with its JSON name, once.
func TestComponentValuePropsComplete(t *testing.T) {
	c := &Component{}
	rv := reflect.ValueOf(c).Elem()
	want := map[string]bool{}
	for _, fi := range componentInfo.fields {
		if fi.kind == fkValue {
			want[fi.key] = true
			rv.Field(fi.index).Set(reflect.ValueOf(&Value{Str: fi.key}))
		}
	}
	seen := map[string]bool{}
	for _, p := range componentValueProps {
		if !want[p.key] || seen[p.key] {
			t.Errorf("componentValueProps has %q, which is not a *Value field of Component or is listed twice", p.key)
		}
		seen[p.key] = true
		if got := p.get(c); got == nil || got.Str != p.key {
			t.Errorf("the accessor of %q returns the wrong field", p.key)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("componentValueProps lists %d of the %d *Value fields", len(seen), len(want))
	}
	for key, cs := range componentSpecs {
		for prop := range cs.props {
			if _, ok := componentInfo.byKey[prop]; !ok && prop != "type" {
				t.Errorf("%s allows %q, which Component cannot hold", key, prop)
			}
		}
	}
}
