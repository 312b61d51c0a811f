package loadgen_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/internal/loadgen"
	"github.com/waflow/waflow/simulator"
)

const greetFlow = `{"version": "7.3", "data_api_version": "3.0",
  "routing_model": {"START": ["DONE"], "DONE": []},
  "screens": [
    {"id": "START", "title": "Start", "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "TextInput", "name": "name", "label": "Name", "required": true},
      {"type": "Footer", "label": "Next", "on-click-action": {"name": "data_exchange", "payload": {"name": "${form.name}"}}}]}},
    {"id": "DONE", "title": "Done", "terminal": true, "success": true,
     "data": {"greeting": {"type": "string", "__example__": "Hello Ada"}},
     "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "TextHeading", "text": "${data.greeting}"},
      {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {}}}]}}]}`

// TestStepRepeatsScenarioRequest: NewStep plays the scenario once, then
// repeats its second request (the START screen's data_exchange), each
// answer checked; a step past the scenario's requests is a StepRangeError.
func TestStepRepeatsScenarioRequest(t *testing.T) {
	spec, problems := flowjson.ValidateSource([]byte(greetFlow))
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	f := endpoint.NewFlow("greet")
	f.HandleInit(func(ctx context.Context, req *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("START", nil), nil
	})
	f.HandleDataExchange("START", func(ctx context.Context, req *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("DONE", map[string]any{"greeting": "Hello"}), nil
	})
	h := flowtest.NewHarness(t, spec, f, flowtest.HarnessOptions{})
	sc, err := simulator.ParseScenario([]byte(`{"steps": [{"screen": "START", "fill": {"name": "Ada"}, "expect": {"screen": "DONE"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	opts := loadgen.StepOptions{Client: h.Config(h.Token(t, loadgen.WAID(0))), Scenario: sc, Name: "greet.json", Step: 2, Pool: 3}
	src, err := loadgen.NewStep(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if src.Name() != "step data_exchange START" {
		t.Errorf("name %q", src.Name())
	}
	res, err := loadgen.Run(t.Context(), loadgen.Config{URL: h.URL, Source: src, Concurrency: 2, Requests: 6, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 6 || res.Failed != 0 {
		t.Fatalf("%d ok, %d failed, want 6 and 0: %+v", res.OK, res.Failed, res.Errors)
	}
	opts.Step = 3
	var rangeErr *loadgen.StepRangeError
	if _, err := loadgen.NewStep(t.Context(), opts); !errors.As(err, &rangeErr) || rangeErr.Requests != 2 {
		t.Fatalf("step 3 of 2: %v", err)
	}
}

func TestWAID(t *testing.T) {
	if got := loadgen.WAID(7); got != "4915000000007" {
		t.Errorf("WAID(7) = %q", got)
	}
	if loadgen.WAID(1_000_000_003) != loadgen.WAID(3) {
		t.Error("WAID does not stay within nine digits")
	}
}
