package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/registry"
)

// static is a one-screen flow that completes with the value typed.
const static = `{"version":"7.2","screens":[{"id":"ONE","title":"One","terminal":true,"layout":{"type":"SingleColumnLayout","children":[
 {"type":"TextInput","name":"who","label":"Who","required":true},
 {"type":"Footer","label":"Done","on-click-action":{"name":"complete","payload":{"who":"${form.who}"}}}]}}]}`

func TestAddKeepsOrderAndParses(t *testing.T) {
	r := registry.New()
	for _, n := range []string{"b_flow", "a_flow", "c.flow-2"} {
		if err := r.Add(&registry.Flow{Name: n, Source: []byte(static), Origin: registry.OriginFile}); err != nil {
			t.Fatalf("Add(%s): %v", n, err)
		}
	}
	if got := strings.Join(r.Names(), ","); got != "b_flow,a_flow,c.flow-2" {
		t.Errorf("Names = %s, want the order of Add", got)
	}
	f := r.Flow("a_flow")
	if f == nil || f.Spec == nil || len(f.Spec.Screens) != 1 {
		t.Fatalf("Flow(a_flow) = %+v, want the parsed Flow JSON", f)
	}
	if f.Title != "a_flow" {
		t.Errorf("Title = %q, want the name when none is given", f.Title)
	}
	if got := f.Fields(); len(got) != 1 || got[0].Name != "who" || got[0].Screen != "ONE" {
		t.Errorf("Fields = %+v", got)
	}
	if r.Flow("nope") != nil {
		t.Error("Flow(nope) is not nil")
	}
}

func TestAddRefuses(t *testing.T) {
	r := registry.New()
	if err := r.Add(&registry.Flow{Name: "one", Source: []byte(static), Origin: registry.OriginCatalog}); err != nil {
		t.Fatal(err)
	}
	err := r.Add(&registry.Flow{Name: "one", Source: []byte(static), Origin: registry.OriginFile})
	if !errors.Is(err, registry.ErrDuplicate) || !strings.Contains(err.Error(), "catalog") {
		t.Errorf("second Add(one) = %v, want ErrDuplicate naming where the first came from", err)
	}
	for _, bad := range []string{"", "../x", ".hidden", "a/b", "sp ace", strings.Repeat("x", 101)} {
		if err := r.Add(&registry.Flow{Name: bad, Source: []byte(static)}); err == nil {
			t.Errorf("Add(%q) accepted a name that is not a path segment", bad)
		}
	}
	err = r.Add(&registry.Flow{Name: "broken", Source: []byte(`{"version":"7.2","screens":[]}`)})
	if err == nil || !strings.Contains(err.Error(), "broken.json:") {
		t.Errorf("Add(broken) = %v, want the validator's file:line:col report", err)
	}
	err = r.Add(&registry.Flow{Name: "two", Source: []byte(static), Endpoint: endpoint.NewFlow("other")})
	if err == nil {
		t.Error("Add accepted endpoint handlers named after another flow")
	}
	if got := strings.Join(r.Names(), ","); got != "one" {
		t.Errorf("after refusals Names = %s, want only one", got)
	}
}

func TestRemove(t *testing.T) {
	r := registry.New()
	for _, n := range []string{"a", "b", "c"} {
		if err := r.Add(&registry.Flow{Name: n, Source: []byte(static)}); err != nil {
			t.Fatal(err)
		}
	}
	if !r.Remove("b") || r.Remove("b") {
		t.Error("Remove(b) twice: want true then false")
	}
	if got := strings.Join(r.Names(), ","); got != "a,c" {
		t.Errorf("Names = %s", got)
	}
	if err := r.Add(&registry.Flow{Name: "b", Source: []byte(static)}); err != nil {
		t.Errorf("Add after Remove: %v", err)
	}
}

func TestValidateCompletion(t *testing.T) {
	r := registry.New()
	rule := errors.New("who must not be root")
	err := r.Add(&registry.Flow{Name: "f", Source: []byte(static), CheckCompletion: func(v map[string]any) error {
		if v["who"] == "root" {
			return rule
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ValidateCompletion(context.Background(), "f", map[string]any{"who": "ana"}); err != nil {
		t.Errorf("good values: %v", err)
	}
	if err := r.ValidateCompletion(context.Background(), "f", map[string]any{}); err == nil {
		t.Error("a completion without the complete payload's field was accepted")
	}
	if err := r.ValidateCompletion(context.Background(), "f", map[string]any{"who": "root"}); !errors.Is(err, rule) {
		t.Errorf("CheckCompletion's error: got %v", err)
	}
	if err := r.ValidateCompletion(context.Background(), "nope", nil); err == nil {
		t.Error("an unknown flow was accepted")
	}
}

// A flow its endpoint completes carries the endpoint's SUCCESS params,
// which no complete action describes: only CheckCompletion judges them.
func TestValidateEndpointCompletion(t *testing.T) {
	const byEndpoint = `{"version":"7.2","data_api_version":"3.0","routing_model":{},"screens":[{"id":"ONE","title":"One","terminal":true,"layout":{"type":"SingleColumnLayout","children":[
 {"type":"TextInput","name":"who","label":"Who","required":true},
 {"type":"Footer","label":"Done","on-click-action":{"name":"data_exchange","payload":{"who":"${form.who}"}}}]}}]}`
	r := registry.New()
	err := r.Add(&registry.Flow{Name: "f", Source: []byte(byEndpoint), CheckCompletion: func(v map[string]any) error {
		if _, ok := v["order_id"].(string); !ok {
			return errors.New("no order_id")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ValidateCompletion(context.Background(), "f", map[string]any{"order_id": "O-1"}); err != nil {
		t.Errorf("the endpoint's params: %v", err)
	}
	if err := r.ValidateCompletion(context.Background(), "f", map[string]any{}); err == nil {
		t.Error("CheckCompletion was not asked")
	}
}
