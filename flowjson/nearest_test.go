package flowjson_test

import (
	"testing"

	"github.com/waflow/waflow/flowjson"
)

func TestNearest(t *testing.T) {
	known := []string{"slot_minutes", "capacity", "timezone", "url"}
	for _, c := range []struct {
		name, want string
		near       bool
	}{
		{"slot_minute", "slot_minutes", true},
		{"Capacity", "capacity", true},
		{"time_zone", "timezone", true},
		{"uri", "url", true},
		{"colour", "url", false},
	} {
		got, near := flowjson.Nearest(c.name, known)
		if near != c.near || (near && got != c.want) {
			t.Errorf("Nearest(%q) = %q, %v; want %q, %v", c.name, got, near, c.want, c.near)
		}
	}
	if _, near := flowjson.Nearest("x", nil); near {
		t.Error("Nearest with no known names suggested one")
	}
}
