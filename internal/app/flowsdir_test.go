package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowsdir"
	"github.com/waflow/waflow/forward"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/stdwebhooks"
)

const (
	folderStatic = `{"version":"7.2","screens":[{"id":"ONE","title":"One","terminal":true,"layout":{"type":"SingleColumnLayout","children":[
 {"type":"TextInput","name":"who","label":"Who","required":true},
 {"type":"Footer","label":"Done","on-click-action":{"name":"complete","payload":{"who":"${form.who}"}}}]}}]}`
	folderDynamic = `{"version":"7.2","data_api_version":"3.0","routing_model":{"ONE":[]},"screens":[{"id":"ONE","title":"One","terminal":true,"data":{},"layout":{"type":"SingleColumnLayout","children":[
 {"type":"TextInput","name":"who","label":"Who","required":true},
 {"type":"Footer","label":"Done","on-click-action":{"name":"data_exchange","payload":{"who":"${form.who}"}}}]}}]}`
)

func writeFlows(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestAppServesFlowsFolder: the folder's flows join the catalog's in one
// registry, a replaced catalog flow leaves it, and a flow with a backend is
// routed at /flows/NAME with the handlers Forward built.
func TestAppServesFlowsFolder(t *testing.T) {
	cfg := testConfig(t)
	cfg.FlowsDir = writeFlows(t, map[string]string{
		"feedback_survey.json":        folderStatic,
		"feedback_survey.waflow.json": `{"title": "Our survey", "replaces_catalog": true}`,
		"order.json":                  folderDynamic,
		"order.waflow.json":           `{"backend": {"url": "http://127.0.0.1:9/order", "secret_env": "ORDER_SECRET"}}`,
	})
	cfg.Getenv = func(k string) string {
		if k == "ORDER_SECRET" {
			return "whsec_b3JkZXI="
		}
		return ""
	}
	var forwarded []string
	cfg.Forward = func(m flowsdir.Manifest, spec *flowjson.Flow) (*endpoint.Flow, error) {
		forwarded = append(forwarded, m.Name+" "+m.Backend.URL+" "+string(m.Backend.Secret))
		return endpoint.NewFlow(m.Name), nil
	}
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	names := a.Flows().Names()
	if slices.Index(names, "order") != len(names)-1 || slices.Index(names, "feedback_survey") != len(names)-2 {
		t.Errorf("flows %v: want the folder's last, in file order", names)
	}
	if f := a.Flows().Flow("feedback_survey"); f.Origin != registry.OriginFolder || f.Title != "Our survey" {
		t.Errorf("feedback_survey: origin %s, title %q; want the folder's", f.Origin, f.Title)
	}
	if !slices.Equal(forwarded, []string{"order http://127.0.0.1:9/order whsec_b3JkZXI="}) {
		t.Errorf("Forward called with %q", forwarded)
	}
	if !slices.Contains(a.EndpointPaths(), "/flows/order") || slices.Contains(a.EndpointPaths(), "/flows/feedback_survey") {
		t.Errorf("endpoint paths %v", a.EndpointPaths())
	}
}

// TestAppRefusesBadFlowsFolder: a folder with an error stops the start
// with a message naming the file; so does a backend flow whose secret the
// forwarder refuses.
func TestAppRefusesBadFlowsFolder(t *testing.T) {
	cfg := testConfig(t)
	cfg.FlowsDir = writeFlows(t, map[string]string{"expense_entry.json": folderStatic})
	_, err := New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "expense_entry.json: FLOW_NAME_TAKEN") {
		t.Errorf("a catalog name clash: New = %v", err)
	}
	cfg = testConfig(t)
	cfg.FlowsDir = writeFlows(t, map[string]string{
		"order.json":        folderDynamic,
		"order.waflow.json": `{"backend": {"url": "http://127.0.0.1:9/order", "secret_env": "ORDER_SECRET"}}`,
	})
	cfg.Getenv = func(string) string { return "whsec_b3JkZXI=" } // 5 bytes
	_, err = New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "order.waflow.json:1:2: ENDPOINT_NOT_BUILT: flow order: forward: secret 1: stdwebhooks: bad secret: 5 bytes, want at least 24") {
		t.Errorf("a secret too short to sign with: New = %v", err)
	}
}

// TestAppForwardsFolderFlow: a folder flow with a backend is answered by
// that backend through the server's own forwarder: the request reaches it
// signed the Standard Webhooks way, its screen reaches the phone, and
// /metrics counts the forwarded request.
func TestAppForwardsFolderFlow(t *testing.T) {
	secret := stdwebhooks.NewSecret()
	verifier, err := stdwebhooks.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	var mu sync.Mutex
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.Verify(r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var req forward.Request
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		actions = append(actions, req.Action)
		mu.Unlock()
		if req.Action == "INIT" {
			io.WriteString(w, `{"screen":"ONE","data":{}}`)
			return
		}
		io.WriteString(w, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"order":"A-1"}}}}`)
	}))
	defer backend.Close()

	cfg := testConfig(t)
	cfg.FlowsDir = writeFlows(t, map[string]string{
		"order.json":        folderDynamic,
		"order.waflow.json": `{"backend": {"url": "` + backend.URL + `", "secret_env": "ORDER_SECRET", "tokens": "backend"}}`,
	})
	cfg.Getenv = func(name string) string {
		if name == "ORDER_SECRET" {
			return secret
		}
		return ""
	}
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go a.Serve(ctx, ln)
	base := "http://" + ln.Addr().String()

	c, err := simulator.NewClient(simulator.Config{Flow: a.Flows().Flow("order").Spec, Name: "order", URL: base + "/flows/order",
		PublicKey: &cfg.PrivateKeys[0].PublicKey, AppSecret: cfg.AppSecrets[0], FlowToken: "a-token-the-backend-judges"})
	if err != nil {
		t.Fatal(err)
	}
	s := simulator.NewSession(c)
	if st, err := s.Start(ctx); err != nil || !st.OK() || st.To != "ONE" {
		t.Fatalf("INIT: %v %v, to %q", err, st.Err(), st.To)
	}
	if err := s.Set("who", "Ada"); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Submit(ctx); err != nil || !st.OK() || st.To != "SUCCESS" {
		t.Fatalf("submit: %v %v, to %q", err, st.Err(), st.To)
	}
	mu.Lock()
	got := strings.Join(actions, ",")
	mu.Unlock()
	if got != "INIT,data_exchange" {
		t.Errorf("the backend saw %s", got)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(m), `waflow_forward_requests_total{failure="",flow="order",outcome="answered"} 2`) {
		t.Errorf("/metrics does not count the two forwarded requests:\n%s", grepLines(string(m), "waflow_forward"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
