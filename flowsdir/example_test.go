package flowsdir_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/waflow/waflow/flowsdir"
	"github.com/waflow/waflow/registry"
)

// Load adds a folder's flows to a registry, after the flows already there
// (the catalog's, in a server). Without Options.Endpoint the folder is
// described: everything is checked, no secret is read.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "flows")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "contact.json"), []byte(static), 0o600)
	os.WriteFile(filepath.Join(dir, "contact.waflow.json"), []byte(`{"title": "Contact us", "categories": ["CONTACT_US"]}`), 0o600)

	r := registry.New()
	if _, err := flowsdir.Load(r, dir, flowsdir.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range r.Flows() {
		fmt.Println(f.Name, f.Origin, f.Title, f.Categories, f.UsesEndpoint())
	}
	// Output: contact folder Contact us [CONTACT_US] false
}

// A manifest's problems carry their line and column.
func ExampleParseManifest() {
	_, problems := flowsdir.ParseManifest([]byte("{\n  \"titel\": \"Contact us\"\n}"))
	for _, p := range problems {
		fmt.Println(p.Format("contact.waflow.json"))
	}
	// Output: contact.waflow.json:2:3: UNKNOWN_MANIFEST_KEY: unknown key "titel"; did you mean "title"?
}
