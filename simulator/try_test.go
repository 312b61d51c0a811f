package simulator_test

import (
	"testing"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/simulator"
)

// TestTry: an answer the phone would refuse at the Footer is refused when
// it is set, and the form keeps its earlier value.
func TestTry(t *testing.T) {
	spec, err := flowjson.Parse([]byte(`{"version": "7.3", "screens": [{"id": "ONLY", "terminal": true,
	  "layout": {"type": "SingleColumnLayout", "children": [
	    {"type": "RadioButtonsGroup", "name": "size", "label": "Size", "required": true,
	     "data-source": [{"id": "s", "title": "Small"}, {"id": "l", "title": "Large"}]},
	    {"type": "TextInput", "name": "email", "label": "Email", "input-type": "email"},
	    {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {"size": "${form.size}", "email": "${form.email}"}}}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := simulator.NewClient(simulator.Config{Flow: spec, Name: "try", FlowToken: "flowtest"})
	if err != nil {
		t.Fatal(err)
	}
	s := simulator.NewSession(c)
	if _, err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Try("size", "l"); err != nil {
		t.Fatalf("a listed option was refused: %v", err)
	}
	if err := s.Try("size", "xl"); err == nil {
		t.Fatal("an option that does not exist was accepted")
	}
	if got := s.Form()["size"]; got != "l" {
		t.Fatalf("after a refused answer the form holds %v, want the earlier \"l\"", got)
	}
	if err := s.Try("email", "not an address"); err == nil {
		t.Fatal("a malformed email was accepted")
	}
	if err := s.Try("email", "ada@example.com"); err != nil {
		t.Fatalf("a valid email was refused: %v", err)
	}
}
