package flowsdir_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowsdir"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/registry"
)

// static is a one-screen flow without data endpoint: it completes with the
// value typed.
const static = `{"version":"7.2","screens":[{"id":"ONE","title":"One","terminal":true,"layout":{"type":"SingleColumnLayout","children":[
 {"type":"TextInput","name":"who","label":"Who","required":true},
 {"type":"Footer","label":"Done","on-click-action":{"name":"complete","payload":{"who":"${form.who}"}}}]}}]}
`

// dynamic is a one-screen flow that sends its form to the data endpoint.
const dynamic = `{"version":"7.2","data_api_version":"3.0","routing_model":{"ONE":[]},"screens":[{"id":"ONE","title":"One","terminal":true,"data":{},"layout":{"type":"SingleColumnLayout","children":[
 {"type":"TextInput","name":"who","label":"Who","required":true},
 {"type":"Footer","label":"Done","on-click-action":{"name":"data_exchange","payload":{"who":"${form.who}"}}}]}}]}
`

const backendManifest = `{
  "title": "Order a table",
  "summary": "books a table through the restaurant's own system",
  "categories": ["APPOINTMENT_BOOKING", "CONTACT_US"],
  "backend": {
    "url": "http://127.0.0.1:3000/flows/order",
    "secret_env": "ORDER_SECRET",
    "timeout": "2s",
    "tokens": "backend"
  }
}
`

// writeFolder writes files (name → content) into a new folder.
func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// withCatalog returns a registry holding two flows as the catalog registers
// them.
func withCatalog(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	for _, n := range []string{"appointment_booking", "feedback_survey"} {
		if err := r.Add(&registry.Flow{Name: n, Source: []byte(static), Origin: registry.OriginCatalog}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// builder records the manifests it is given and builds an empty endpoint.
type builder struct{ got []flowsdir.Manifest }

func (b *builder) build(m flowsdir.Manifest, spec *flowjson.Flow) (*endpoint.Flow, error) {
	if spec == nil || spec.DataAPIVersion == "" {
		return nil, errors.New("no endpoint Flow JSON")
	}
	b.got = append(b.got, m)
	return endpoint.NewFlow(m.Name), nil
}

func TestLoadGoodFolder(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"order.json":                      dynamic,
		"order.waflow.json":               backendManifest,
		"contact.json":                    static, // no manifest: defaults
		"appointment_booking.json":        static,
		"appointment_booking.waflow.json": `{"title": "Our booking", "replaces_catalog": true}`,
		"lookup.json":                     dynamic,
		"lookup.waflow.json":              `{"backend": {"url": "https://backend.example/lookup", "secret_file": "secrets/lookup"}}`,
		"secrets/lookup":                  "whsec_bG9va3VwIHNlY3JldCBieXRlcw==\n",
		"README.md":                       "not a flow",
		".draft.json":                     "{ hidden files are left alone",
		"old/ignored.json":                "{ folders too",
	})
	r := withCatalog(t)
	var b builder
	env := map[string]string{"ORDER_SECRET": "whsec_b3JkZXIgc2VjcmV0"}
	ps, err := flowsdir.Load(r, dir, flowsdir.Options{Endpoint: b.build, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
	// The catalog's flow that was replaced leaves; the folder's come in
	// the order of their file names.
	want := []string{"feedback_survey", "appointment_booking", "contact", "lookup", "order"}
	if got := r.Names(); !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	booking := r.Flow("appointment_booking")
	if booking.Origin != registry.OriginFolder || booking.Title != "Our booking" || booking.Endpoint != nil {
		t.Errorf("appointment_booking = origin %s, title %q, endpoint %v: want the folder's static flow", booking.Origin, booking.Title, booking.Endpoint)
	}
	contact := r.Flow("contact")
	if contact.Title != "contact" || contact.Endpoint != nil || contact.Complete != nil || len(contact.Categories) != 0 {
		t.Errorf("contact = %+v, want a static flow with the defaults whose completions are recorded only", contact)
	}
	if err := contact.CheckValues(map[string]any{"who": "Ana"}); err != nil {
		t.Errorf("a static flow's completion is checked against its complete payload: %v", err)
	}
	order := r.Flow("order")
	if order.Endpoint == nil || order.Endpoint.Name() != "order" || order.Spec == nil {
		t.Fatalf("order: want the built endpoint and the parsed Flow JSON, got %+v", order)
	}
	if order.Title != "Order a table" || order.Summary == "" || !slices.Equal(order.Categories, []graph.Category{graph.CategoryAppointmentBooking, graph.CategoryContactUs}) {
		t.Errorf("order: title %q, summary %q, categories %v", order.Title, order.Summary, order.Categories)
	}
	if len(b.got) != 2 {
		t.Fatalf("the endpoint builder was called %d times, want 2 (lookup, order)", len(b.got))
	}
	lookup, ord := b.got[0], b.got[1]
	if ord.Name != "order" || ord.File != filepath.Join(dir, "order.waflow.json") || ord.Backend.URL != "http://127.0.0.1:3000/flows/order" ||
		ord.Backend.Timeout != 2*time.Second || ord.Backend.Tokens != flowsdir.TokensBackend || string(ord.Backend.Secret) != env["ORDER_SECRET"] {
		t.Errorf("order's manifest = %+v, backend %+v", ord, ord.Backend)
	}
	if lookup.Backend.Tokens != flowsdir.TokensWaflow || lookup.Backend.Timeout != 0 || string(lookup.Backend.Secret) != "whsec_bG9va3VwIHNlY3JldCBieXRlcw==" {
		t.Errorf("lookup's backend = %+v: want waflow's tokens, no timeout of its own, the secret file without its newline", lookup.Backend)
	}
}

func TestLoadDescribes(t *testing.T) {
	// Without an endpoint builder nothing secret is read (the variable is
	// not set, the file does not exist) and forwarded flows get no
	// handlers: what deploy, simulate and validate need.
	dir := writeFolder(t, map[string]string{
		"order.json":         dynamic,
		"order.waflow.json":  backendManifest,
		"lookup.json":        dynamic,
		"lookup.waflow.json": `{"backend": {"url": "https://backend.example/lookup", "secret_file": "/nonexistent/secret"}}`,
	})
	r := registry.New()
	if _, err := flowsdir.Load(r, dir, flowsdir.Options{}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := r.Names(); !slices.Equal(got, []string{"lookup", "order"}) {
		t.Errorf("Names = %v", got)
	}
	if f := r.Flow("order"); f.Endpoint != nil || f.Spec.DataAPIVersion != "3.0" {
		t.Errorf("order described: endpoint %v, data_api_version %q", f.Endpoint, f.Spec.DataAPIVersion)
	}
}

func TestLoadWarnings(t *testing.T) {
	// A frozen Flow JSON version is a warning: the flow loads and the
	// warning is returned.
	dir := writeFolder(t, map[string]string{"old.json": strings.Replace(static, `"7.2"`, `"5.0"`, 1)})
	ps, err := flowsdir.Load(registry.New(), dir, flowsdir.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if ps.Warnings() == 0 || ps.Errors() != 0 || !strings.HasPrefix(ps[0].String(), filepath.Join(dir, "old.json")+":") {
		t.Errorf("problems = %v, want warnings naming old.json", ps)
	}
}

func TestLoadBadFolders(t *testing.T) {
	secretEnv := `{"backend": {"url": "http://127.0.0.1:3000/", "secret_env": "FLOW_SECRET"}}`
	for _, tc := range []struct {
		name  string
		files map[string]string
		serve bool     // build endpoints (read secrets)
		want  []string // each in the error; FILE is the folder
	}{
		{name: "invalid Flow JSON",
			files: map[string]string{"good.json": static, "bad.json": "{\"version\":\"7.2\",\n \"screens\": [}\n"},
			want:  []string{"FILE/bad.json:2:14: INVALID_FLOW_JSON: "}},
		{name: "Flow JSON that breaks a rule",
			files: map[string]string{"bad.json": strings.Replace(static, `"terminal":true,`, "", 1)},
			want:  []string{"FILE/bad.json:1:", "MISSING_TERMINAL_SCREEN"}},
		{name: "unknown manifest key",
			files: map[string]string{"f.json": static, "f.waflow.json": "{\n  \"titel\": \"F\"\n}"},
			want:  []string{`FILE/f.waflow.json:2:3: UNKNOWN_MANIFEST_KEY: unknown key "titel"; did you mean "title"?`}},
		{name: "unknown backend key",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": `{"backend": {"url": "http://h/", "secret_env": "S", "timout": "1s"}}`},
			want:  []string{`FILE/f.waflow.json:1:53: UNKNOWN_MANIFEST_KEY: unknown key "backend.timout"; did you mean "backend.timeout"?`}},
		{name: "manifest not JSON",
			files: map[string]string{"f.json": static, "f.waflow.json": "{\"title\": \"F\",}"},
			want:  []string{"FILE/f.waflow.json:1:15: INVALID_MANIFEST_JSON: "}},
		{name: "backend URL not http",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": `{"backend": {"url": "ftp://files.example/f", "secret_env": "S"}}`},
			want:  []string{`FILE/f.waflow.json:1:21: INVALID_MANIFEST_VALUE: backend.url must be an http or https URL, not "ftp:"`}},
		{name: "name clash with the catalog",
			files: map[string]string{"feedback_survey.json": static},
			want:  []string{"FILE/feedback_survey.json: FLOW_NAME_TAKEN: feedback_survey is the name of a catalog flow", `"replaces_catalog": true in FILE/feedback_survey.waflow.json`}},
		{name: "replaces_catalog with no catalog flow",
			files: map[string]string{"mine.json": static, "mine.waflow.json": `{"replaces_catalog": true}`},
			want:  []string{"FILE/mine.waflow.json:1:2: NOTHING_TO_REPLACE: "}},
		{name: "endpoint without backend",
			files: map[string]string{"f.json": dynamic},
			want:  []string{"FILE/f.json:1:18: MISSING_BACKEND: flow f uses a data endpoint (data_api_version 3.0) and has no backend", "FILE/f.waflow.json (a new file)"}},
		{name: "endpoint with a manifest without backend",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": `{"title": "F"}`},
			want:  []string{"FILE/f.json:1:18: MISSING_BACKEND: "}},
		{name: "backend for a static flow",
			files: map[string]string{"f.json": static, "f.waflow.json": secretEnv},
			want:  []string{"FILE/f.waflow.json:1:2: BACKEND_WITHOUT_ENDPOINT: "}},
		{name: "manifest without flow",
			files: map[string]string{"f.json": static, "g.waflow.json": `{}`},
			want:  []string{"FILE/g.waflow.json: MANIFEST_WITHOUT_FLOW: a manifest without its flow: g.json is not in the folder"}},
		{name: "inline secret",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": `{"backend": {"url": "http://h/", "secret": "whsec_AAAA"}}`},
			want:  []string{"FILE/f.waflow.json:1:34: UNKNOWN_MANIFEST_KEY: backend.secret: a manifest never holds a secret", "FILE/f.waflow.json:1:13: MISSING_MANIFEST_KEY: "}},
		{name: "secret as the variable's name",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": `{"backend": {"url": "http://h/", "secret_env": "whsec_AAAA"}}`},
			want:  []string{"FILE/f.waflow.json:1:48: INVALID_MANIFEST_VALUE: backend.secret_env is the name of an environment variable"}},
		{name: "timeout out of bounds",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": `{"backend": {"url": "http://h/", "secret_env": "S", "timeout": "30s"}}`},
			want:  []string{"FILE/f.waflow.json:1:64: INVALID_MANIFEST_VALUE: backend.timeout is at most 10s"}},
		{name: "invalid file name",
			files: map[string]string{"sp ace.json": static},
			want:  []string{"FILE/sp ace.json: INVALID_FLOW_NAME: "}},
		{name: "secret variable not set",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": secretEnv},
			serve: true,
			want:  []string{"FILE/f.waflow.json:1:47: BACKEND_SECRET_UNAVAILABLE: backend.secret_env: the environment variable FLOW_SECRET is not set"}},
		{name: "secret file missing",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": `{"backend": {"url": "http://h/", "secret_file": "nope"}}`},
			serve: true,
			want:  []string{"FILE/f.waflow.json:1:34: BACKEND_SECRET_UNAVAILABLE: backend.secret_file FILE/nope: "}},
		{name: "secret file too large",
			files: map[string]string{"f.json": dynamic, "f.waflow.json": `{"backend": {"url": "http://h/", "secret_file": "big"}}`, "big": strings.Repeat("x", 5000)},
			serve: true,
			want:  []string{"FILE/f.waflow.json:1:34: BACKEND_SECRET_UNAVAILABLE: backend.secret_file FILE/big: over 4096 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFolder(t, tc.files)
			r := withCatalog(t)
			before := r.Names()
			opts := flowsdir.Options{}
			if tc.serve {
				opts = flowsdir.Options{Endpoint: (&builder{}).build, Getenv: func(string) string { return "" }}
			}
			_, err := flowsdir.Load(r, dir, opts)
			var fe *flowsdir.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Load = %v, want a *flowsdir.Error", err)
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "FILE/", dir+string(filepath.Separator))
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if got := r.Names(); !slices.Equal(got, before) {
				t.Errorf("after a failed load Names = %v, want %v: nothing added, nothing removed", got, before)
			}
		})
	}
}

func TestLoadEndpointRefused(t *testing.T) {
	dir := writeFolder(t, map[string]string{"f.json": dynamic, "f.waflow.json": `{"backend": {"url": "http://h/", "secret_env": "S"}}`})
	opts := flowsdir.Options{
		Endpoint: func(flowsdir.Manifest, *flowjson.Flow) (*endpoint.Flow, error) {
			return nil, errors.New("no forwarding here")
		},
		Getenv: func(string) string { return "whsec_AAAA" },
	}
	_, err := flowsdir.Load(registry.New(), dir, opts)
	if err == nil || !strings.Contains(err.Error(), "f.waflow.json:1:2: ENDPOINT_NOT_BUILT: flow f: no forwarding here") {
		t.Errorf("Load = %v", err)
	}
	opts.Endpoint = func(flowsdir.Manifest, *flowjson.Flow) (*endpoint.Flow, error) { return endpoint.NewFlow("other"), nil }
	if _, err := flowsdir.Load(registry.New(), dir, opts); err == nil || !strings.Contains(err.Error(), "not named f") {
		t.Errorf("Load with handlers named otherwise = %v", err)
	}
}

func TestLoadMissingFolder(t *testing.T) {
	_, err := flowsdir.Load(registry.New(), filepath.Join(t.TempDir(), "nope"), flowsdir.Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing folder) = %v, want ErrNotExist", err)
	}
}

func TestLoadProblemsInFolderOrder(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"c.json":        static,
		"c.waflow.json": `{"titel": "C"}`,
		"b.json":        "{",
		"a.waflow.json": `{}`,
	})
	ps, err := flowsdir.Load(registry.New(), dir, flowsdir.Options{})
	if err == nil {
		t.Fatal("Load succeeded")
	}
	var files []string
	for _, p := range ps {
		files = append(files, filepath.Base(p.File))
	}
	if want := []string{"a.waflow.json", "b.json", "c.waflow.json"}; !slices.Equal(files, want) {
		t.Errorf("problems in %v, want %v", files, want)
	}
}
