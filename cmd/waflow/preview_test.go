package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waflow/waflow/registry"
)

// TestPreviewFlows: "waflow preview" builds a registry of its arguments, in
// their order: files as OriginFile, known flows' names as the registry
// has them.
func TestPreviewFlows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	static := []byte(`{"version": "7.3", "screens": [{"id": "A", "terminal": true, "layout": {"type": "SingleColumnLayout", "children": [{"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {}}}]}}]}`)
	for _, n := range []string{"zeta.json", "alpha.json"} {
		if err := os.WriteFile(filepath.Join(dir, n), static, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := &Env{Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }}
	flows, err := previewFlows(env, []string{filepath.Join(dir, "zeta.json"), "appointment_booking", filepath.Join(dir, "alpha.json")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flows.Names(), []string{"zeta", "appointment_booking", "alpha"}; !slices.Equal(got, want) {
		t.Fatalf("flows %v, want the arguments' order %v", got, want)
	}
	for name, origin := range map[string]string{"zeta": registry.OriginFile, "appointment_booking": registry.OriginCatalog, "alpha": registry.OriginFile} {
		if got := flows.Flow(name).Origin; got != origin {
			t.Errorf("%s: origin %q, want %q", name, got, origin)
		}
	}
	if !usesDataAPI(flows) {
		t.Error("appointment_booking uses the data endpoint, usesDataAPI says no")
	}
}
