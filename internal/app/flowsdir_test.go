package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowsdir"
	"github.com/waflow/waflow/registry"
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
// with a message naming the file; so does a backend flow on a server that
// cannot forward.
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
	cfg.Getenv = func(string) string { return "whsec_b3JkZXI=" }
	_, err = New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "order.waflow.json:1:2: ENDPOINT_NOT_BUILT: flow order: this server cannot forward to a backend") {
		t.Errorf("no Forward: New = %v", err)
	}
}
