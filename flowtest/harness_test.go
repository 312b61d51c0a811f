package flowtest_test

import (
	"context"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/simulator"
)

const helloFlow = `{"version": "7.3", "data_api_version": "3.0", "routing_model": {"HELLO": []},
 "screens": [{"id": "HELLO", "title": "Hello", "terminal": true,
  "data": {"name": {"type": "string", "__example__": "Ada"}},
  "layout": {"type": "SingleColumnLayout", "children": [
   {"type": "TextHeading", "text": "${data.name}"},
   {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {}}}]}}]}`

func helloEndpoint() *endpoint.Flow {
	f := endpoint.NewFlow("hello")
	f.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("HELLO", map[string]any{"name": "Grace"}), nil
	})
	return f
}

func helloSpec(t *testing.T) *flowjson.Flow {
	t.Helper()
	spec, problems := flowjson.ValidateSource([]byte(helloFlow))
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	return spec
}

// TestHarness: a session of the harness talks to the served endpoint over
// HTTP with a token of the harness's issuer; a token the issuer did not
// sign closes the flow (427), as on waflow serve.
func TestHarness(t *testing.T) {
	h := flowtest.NewHarness(t, helloSpec(t), helloEndpoint(), flowtest.HarnessOptions{})
	s := h.Session(t)
	st, err := s.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !st.OK() || s.State().Screen != "HELLO" || s.Data()["name"] != "Grace" {
		t.Fatalf("start: ok %v, screen %q, data %v: %v", st.OK(), s.State().Screen, s.Data(), st.Err())
	}

	c, err := simulator.NewClient(h.Config("not-a-token"))
	if err != nil {
		t.Fatal(err)
	}
	forged := simulator.NewSession(c)
	if _, err := forged.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := forged.State(); !st.Closed || st.CloseMessage == "" {
		t.Errorf("a token the harness did not issue: closed %v, message %q", st.Closed, st.CloseMessage)
	}
}

// countTokens counts the validations it passes on.
type countTokens struct {
	endpoint.TokenValidator
	n *int
}

func (c countTokens) ValidateToken(ctx context.Context, flow, token string) (flowtoken.Claims, error) {
	*c.n++
	return c.TokenValidator.ValidateToken(ctx, flow, token)
}

// TestHarnessTokens: HarnessOptions.Tokens makes the endpoint's validator
// from the harness's own issuer.
func TestHarnessTokens(t *testing.T) {
	var n int
	var got *flowtoken.Issuer
	h := flowtest.NewHarness(t, helloSpec(t), helloEndpoint(), flowtest.HarnessOptions{
		Tokens: func(iss *flowtoken.Issuer) endpoint.TokenValidator {
			got = iss
			return countTokens{endpoint.IssuerTokens{Issuer: iss}, &n}
		}})
	if got == nil || got != h.Issuer {
		t.Fatalf("Tokens got issuer %p, the harness has %p", got, h.Issuer)
	}
	c, err := simulator.NewClient(h.Config(h.Token(t, "15550000009")))
	if err != nil {
		t.Fatal(err)
	}
	st, err := simulator.NewSession(c).Start(t.Context())
	if err != nil || !st.OK() {
		t.Fatalf("start: %v %v", err, st.Err())
	}
	if n != 1 {
		t.Errorf("the validator ran %d times, want 1", n)
	}
}
