package term_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/simulator/term"
)

func spec(t *testing.T, src string) *flowjson.Flow {
	t.Helper()
	f, problems := flowjson.ValidateSource([]byte(src))
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	return f
}

func scenario(t *testing.T, src string) *simulator.Scenario {
	t.Helper()
	sc, err := simulator.ParseScenario([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

const helloFlow = `{"version": "7.3", "data_api_version": "3.0", "routing_model": {"HELLO": []},
 "screens": [{"id": "HELLO", "title": "Hello", "terminal": true,
  "data": {"name": {"type": "string", "__example__": "Ada"}},
  "layout": {"type": "SingleColumnLayout", "children": [
   {"type": "TextHeading", "text": "${data.name}"},
   {"type": "Footer", "label": "Done", "on-click-action": {"name": "data_exchange", "payload": {}}}]}}]}`

// TestRunScenario: a scenario expectation the endpoint does not meet is a
// failure, printed under FAIL; with JSON every step and screen is a JSON
// line and the flow token is hidden.
func TestRunScenario(t *testing.T) {
	f := endpoint.NewFlow("hello")
	f.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("HELLO", map[string]any{"name": "Grace"}), nil
	})
	f.HandleDataExchange("HELLO", func(_ context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Success(map[string]any{"done": true}), nil
	})
	h := flowtest.NewHarness(t, spec(t, helloFlow), f, flowtest.HarnessOptions{})
	token := h.Token(t, "15550000001")
	c, err := simulator.NewClient(h.Config(token))
	if err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	failures, err := term.Run(t.Context(), c, term.Options{Out: &out, JSON: true,
		Scenario: scenario(t, `{"steps": [{"screen": "HELLO", "expect": {"complete": {"done": false}}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(failures) != 1 || !strings.Contains(failures[0], "done") {
		t.Errorf("failures = %q, want the one about done", failures)
	}
	text := out.String()
	if strings.Contains(text, token) {
		t.Error("the flow token is printed")
	}
	header, rest, _ := strings.Cut(text, "\n")
	if !strings.HasPrefix(header, "simulating hello (Flow JSON 7.3, Data API 3.0) against "+h.URL) {
		t.Errorf("header = %q", header)
	}
	body, summary, _ := strings.Cut(rest, "\n\n")
	var steps int
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if m["step"] != nil {
			steps++
		}
	}
	if steps != 2 {
		t.Errorf("%d step lines, want 2 (INIT, data_exchange):\n%s", steps, body)
	}
	if !strings.Contains(summary, "the flow completed (SUCCESS); 2 steps, 2 requests, latency mean") || !strings.Contains(summary, "\nFAIL\n  ") {
		t.Errorf("summary:\n%s", summary)
	}
}

const sendFlow = `{"version": "7.3", "screens": [{"id": "SEND", "title": "Send", "terminal": true,
  "layout": {"type": "SingleColumnLayout", "children": [
   {"type": "TextInput", "name": "note", "label": "Note"},
   {"type": "Footer", "label": "Send", "on-click-action": {"name": "complete", "payload": {"note": "${form.note}"}}}]}}]}`

// TestRunWebhook: the completion webhook goes to the receiver, signed; a
// receiver that refuses it is a failure.
func TestRunWebhook(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusForbidden} {
		c, err := simulator.NewClient(simulator.Config{Flow: spec(t, sendFlow), Name: "send", FlowToken: "token-1"})
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		recv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Hub-Signature-256") == "" {
				t.Error("the webhook is not signed")
			}
			got, _ = io.ReadAll(r.Body)
			w.WriteHeader(status)
		})
		var out bytes.Buffer
		failures, err := term.Run(t.Context(), c, term.Options{Out: &out,
			Scenario: scenario(t, `{"steps": [{"fill": {"note": "hi"}, "expect": {"complete": {"note": "hi"}}}]}`),
			Webhook:  simulator.WebhookOptions{Handler: recv, AppSecret: []byte("secret")}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(got, []byte(`nfm_reply`)) {
			t.Errorf("the receiver got %s", got)
		}
		if !strings.Contains(out.String(), "-> webhook on SEND") {
			t.Errorf("the webhook step is not printed:\n%s", out.String())
		}
		wantFail := status != http.StatusOK
		if (len(failures) > 0) != wantFail || (wantFail && !strings.HasPrefix(failures[0], "webhook: ")) {
			t.Errorf("receiver answers %d: failures %q", status, failures)
		}
	}
}

// TestRunStop: "." stops before the flow ends, which fails.
func TestRunStop(t *testing.T) {
	c, err := simulator.NewClient(simulator.Config{Flow: spec(t, sendFlow), Name: "send", FlowToken: "token-1"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	failures, err := term.Run(t.Context(), c, term.Options{In: strings.NewReader(".\n"), Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if len(failures) != 1 || failures[0] != "stopped before the flow ended" {
		t.Errorf("failures = %q", failures)
	}
	if !strings.Contains(out.String(), "TextInput note: ") || !strings.HasSuffix(out.String(), "FAIL\n  stopped before the flow ended\n") {
		t.Errorf("output:\n%s", out.String())
	}
}
