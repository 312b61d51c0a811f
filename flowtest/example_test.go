package flowtest_test

import (
	"context"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
)

// A test serves its flow's handlers on a harness and plays a session
// against them over HTTP, encrypted and signed as WhatsApp does; every
// answer is checked as the client checks it. (The harness needs a test's
// testing.TB: this example shows the body of a test, it is not run.
// examples/library plays a whole flow, completion webhook included.)
func ExampleNewHarness() {
	TestHello := func(t *testing.T) {
		spec, problems := flowjson.ValidateSource([]byte(helloFlow))
		if problems.HasErrors() {
			t.Fatal(problems.Err())
		}
		f := endpoint.NewFlow("hello")
		f.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
			return endpoint.Next("HELLO", map[string]any{"name": "Grace"}), nil
		})

		h := flowtest.NewHarness(t, spec, f, flowtest.HarnessOptions{})
		s := h.Session(t) // a fresh flow token of the harness's issuer
		st, err := s.Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Err(); err != nil { // a status, a screen or data the client refuses
			t.Fatal(err)
		}
		if s.Data()["name"] != "Grace" {
			t.Errorf("HELLO shows %v", s.Data()["name"])
		}
	}
	_ = TestHello
}
