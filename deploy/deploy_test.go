package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
	"github.com/waflow/waflow/sqlite"
)

// staticFlow uses no data endpoint.
const staticFlow = `{
  "version": "7.3",
  "screens": [
    {
      "id": "CONTACT",
      "title": "Contact us",
      "terminal": true,
      "layout": {
        "type": "SingleColumnLayout",
        "children": [
          {"type": "TextInput", "name": "email", "label": "Email", "input-type": "email", "required": true},
          {"type": "Footer", "label": "Send", "on-click-action": {"name": "complete", "payload": {"email": "${form.email}"}}}
        ]
      }
    }
  ]
}
`

// endpointFlow declares data_api_version: it uses the data endpoint.
const endpointFlow = `{
  "version": "7.3",
  "data_api_version": "4.0",
  "routing_model": {},
  "screens": [
    {
      "id": "DONE",
      "title": "Thank you",
      "terminal": true,
      "layout": {
        "type": "SingleColumnLayout",
        "children": [
          {"type": "TextBody", "text": "Your request is recorded."},
          {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {}}}
        ]
      }
    }
  ]
}
`

const publicURL = "https://flows.example.com"

func testFlows() []deploy.Flow {
	return []deploy.Flow{
		{Name: "contact", Source: []byte(staticFlow), Categories: []graph.Category{graph.CategoryContactUs}},
		{Name: "booking", Source: []byte(endpointFlow), UsesEndpoint: true},
	}
}

// fixture is a deployer against a fake Graph API, with an in-memory store;
// it keeps the events reported.
type fixture struct {
	t      *testing.T
	g      *graphtest.Server
	client *graph.Client
	store  *sqlite.DB
	d      *deploy.Deployer
	events []deploy.Event
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	g := graphtest.New(t)
	opts := g.Options()
	opts.Timeout = 5 * time.Second
	opts.Logger = slog.New(slog.DiscardHandler)
	client, err := graph.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	fx := &fixture{t: t, g: g, client: client, store: store}
	fx.d = &deploy.Deployer{Client: client, Store: store, WABAID: graphtest.WABAID, PublicURL: publicURL,
		Logger: slog.New(slog.DiscardHandler), Progress: func(e deploy.Event) { fx.events = append(fx.events, e) }}
	return fx
}

// checkShapes fails the test if the fake saw a request of the wrong shape.
func (fx *fixture) checkShapes() {
	fx.t.Helper()
	if v := fx.g.Violations(); len(v) > 0 {
		fx.t.Fatalf("requests of the wrong shape:\n%s", strings.Join(v, "\n"))
	}
}

// requestsMatching counts the requests "METHOD PATH" matching re.
func (fx *fixture) requestsMatching(re string) int {
	n := 0
	for _, r := range fx.g.Requests() {
		if regexp.MustCompile("^" + re + "$").MatchString(r) {
			n++
		}
	}
	return n
}

// steps returns "flow: step text" of the events so far, and forgets them.
func (fx *fixture) steps() []string {
	var out []string
	for _, e := range fx.events {
		out = append(out, e.Flow+": "+e.String())
	}
	fx.events = nil
	return out
}

func (fx *fixture) records() map[string]waflow.FlowDeployment {
	fx.t.Helper()
	recs, err := fx.store.FlowDeployments(context.Background(), graphtest.WABAID)
	if err != nil {
		fx.t.Fatal(err)
	}
	out := map[string]waflow.FlowDeployment{}
	for _, r := range recs {
		out[r.Flow] = r
	}
	return out
}

func TestDeployTwiceChangesNothing(t *testing.T) {
	fx := newFixture(t)
	fx.d.Publish = true
	flows := testFlows()
	results := fx.d.Deploy(context.Background(), flows)
	fx.checkShapes()
	if c := deploy.Count(results); c != (deploy.Counts{Created: 2, Uploaded: 2, EndpointsSet: 1, Published: 2}) {
		t.Fatalf("first deploy: %+v\n%s", c, strings.Join(fx.steps(), "\n"))
	}
	hash := regexp.QuoteMeta(deploy.ContentHash([]byte(endpointFlow))[:len("sha256:")+12])
	want := []string{
		`contact: created flow 9100001`,
		`contact: uploaded Flow JSON sha256:[0-9a-f]{12}`,
		`contact: published`,
		`booking: created flow 9100002`,
		`booking: uploaded Flow JSON ` + hash,
		`booking: endpoint_uri set to https://flows.example.com/flows/booking`,
		`booking: published`,
	}
	if got := fx.steps(); !matchAll(want, got) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	recs := fx.records()
	for i, f := range flows {
		fl := fx.g.Flow(f.Name)
		if fl == nil || fl.Status != "PUBLISHED" || !bytes.Equal(fl.JSON, f.Source) {
			t.Fatalf("%s on Meta: %+v; want published with the local Flow JSON", f.Name, fl)
		}
		wantURI := ""
		if f.UsesEndpoint {
			wantURI = publicURL + "/flows/" + f.Name
		}
		if fl.EndpointURI != wantURI {
			t.Errorf("%s endpoint_uri %q, want %q", f.Name, fl.EndpointURI, wantURI)
		}
		if r := recs[f.Name]; r.FlowID != fl.ID || r.ContentHash != deploy.ContentHash(f.Source) {
			t.Errorf("%s recorded as %+v, want flow %s with the source's hash", f.Name, r, fl.ID)
		}
		if r := results[i]; r.Flow != f.Name || r.FlowID != fl.ID || r.Status != graph.StatusPublished || r.Err != nil {
			t.Errorf("result %+v, want %s published as %s", r, f.Name, fl.ID)
		}
	}
	if got := fx.g.Flow("contact").Categories; !slices.Equal(got, []string{"CONTACT_US"}) {
		t.Errorf("contact created with categories %v, want its own", got)
	}
	if got := fx.g.Flow("booking").Categories; !slices.Equal(got, []string{"OTHER"}) {
		t.Errorf("booking created with categories %v, want OTHER by default", got)
	}

	fx.g.Reset()
	results = fx.d.Deploy(context.Background(), flows)
	if c := deploy.Count(results); c != (deploy.Counts{Unchanged: 2}) {
		t.Fatalf("second deploy: %+v\n%s", c, strings.Join(fx.steps(), "\n"))
	}
	want = []string{`contact: unchanged \(flow 9100001, PUBLISHED\)`, `booking: unchanged \(flow 9100002, PUBLISHED\)`}
	if got := fx.steps(); !matchAll(want, got) {
		t.Fatalf("second deploy's steps:\n%s", strings.Join(got, "\n"))
	}
	for _, r := range fx.g.Requests() {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("second deploy changed something on Meta: %s", r)
		}
	}
}

// matchAll reports whether each of got matches the regular expression of
// want at the same index, and there are as many.
func matchAll(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if !regexp.MustCompile("^" + want[i] + "$").MatchString(got[i]) {
			return false
		}
	}
	return true
}

// A fresh store (another machine) uploads only what differs from Meta's
// copy: an upload would put a published flow back to DRAFT.
func TestDeployWithoutRecordComparesWithMeta(t *testing.T) {
	fx := newFixture(t)
	fx.g.AddFlow("booking", "PUBLISHED", []byte(endpointFlow), publicURL+"/flows/booking")
	old := strings.Replace(staticFlow, `"label": "Email"`, `"label": "Mail"`, 1)
	fx.g.AddFlow("contact", "PUBLISHED", []byte(old), "")

	results := fx.d.Deploy(context.Background(), testFlows())
	fx.checkShapes()
	steps := fx.steps()
	if !slices.Contains(steps, "booking: Flow JSON on Meta is the local one; recorded") || !slices.ContainsFunc(steps, func(s string) bool {
		return strings.HasPrefix(s, "contact: uploaded Flow JSON sha256:")
	}) {
		t.Fatalf("steps:\n%s", strings.Join(steps, "\n"))
	}
	if c := deploy.Count(results); c != (deploy.Counts{Uploaded: 1, Unchanged: 1}) {
		t.Fatalf("counts %+v, want contact uploaded and booking unchanged", c)
	}
	if n := fx.requestsMatching(`POST /[0-9]+/assets`); n != 1 {
		t.Fatalf("%d uploads, want 1 (contact only)", n)
	}
	if fl := fx.g.Flow("booking"); fl.Status != "PUBLISHED" || fl.Uploads != 0 {
		t.Fatalf("booking: %s after %d uploads, want PUBLISHED untouched", fl.Status, fl.Uploads)
	}
	if fl := fx.g.Flow("contact"); fl.Status != "DRAFT" {
		t.Fatalf("contact is %s after a changed upload without Publish, want DRAFT", fl.Status)
	}
	if len(fx.records()) != 2 {
		t.Fatalf("records %v, want both flows", fx.records())
	}
}

// A record whose flow was deleted on Meta: the flow is looked up by name,
// then created again.
func TestDeployRecordGoneFromMeta(t *testing.T) {
	fx := newFixture(t)
	err := fx.store.SaveFlowDeployment(context.Background(), waflow.FlowDeployment{WABAID: graphtest.WABAID, Flow: "contact", FlowID: "8000001", ContentHash: deploy.ContentHash([]byte(staticFlow))})
	if err != nil {
		t.Fatal(err)
	}
	r := fx.d.DeployFlow(context.Background(), testFlows()[0])
	fx.checkShapes()
	steps := fx.steps()
	if r.Err != nil || !r.Created || !r.Uploaded || len(steps) < 2 || steps[0] != "contact: recorded flow 8000001 is gone from Meta; looking it up by name" || steps[1] != "contact: created flow 9100001" {
		t.Fatalf("result %+v, steps:\n%s", r, strings.Join(steps, "\n"))
	}
	if rec := fx.records()["contact"]; rec.FlowID != "9100001" {
		t.Fatalf("record %+v, want the new flow", rec)
	}
}

// lostCreate creates the flow but loses Meta's answer, as a timeout does.
type lostCreate struct{ *graph.Client }

func (c lostCreate) CreateFlow(ctx context.Context, wabaID string, f graph.FlowCreate) (*graph.CreatedFlow, error) {
	if _, err := c.Client.CreateFlow(ctx, wabaID, f); err != nil {
		return nil, err
	}
	return nil, graph.ErrOutcomeUnknown
}

// Creating is not repeated when Meta's answer was lost: the flow is looked
// up by name.
func TestDeployCreateAnswerLost(t *testing.T) {
	fx := newFixture(t)
	fx.d.Client = lostCreate{fx.client}
	r := fx.d.DeployFlow(context.Background(), testFlows()[0])
	if r.Err != nil || !r.Created || r.FlowID != "9100001" {
		t.Fatalf("result %+v, want created as 9100001", r)
	}
	if n := fx.requestsMatching(`POST /[0-9]+/flows`); n != 1 {
		t.Fatalf("%d create requests, want 1", n)
	}
}

// When Meta's answer to the create was lost and the flow is not there,
// the error says both.
func TestDeployCreateLostAndAbsent(t *testing.T) {
	fx := newFixture(t)
	fx.g.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/flows", Status: 500, Code: 2})
	r := fx.d.DeployFlow(context.Background(), testFlows()[0])
	if !errors.Is(r.Err, graph.ErrOutcomeUnknown) || !errors.Is(r.Err, graph.ErrFlowNotFound) || !strings.Contains(r.Err.Error(), "and it is not on Meta yet") {
		t.Fatalf("error %v, want the outcome unknown and the flow not found", r.Err)
	}
	if n := fx.requestsMatching(`POST /[0-9]+/flows`); n != 1 {
		t.Fatalf("%d create requests, want 1: creating is not repeated", n)
	}
}

func TestDeployLocalErrorsUploadNothing(t *testing.T) {
	fx := newFixture(t)
	bad := deploy.Flow{Name: "broken_form", File: "forms/broken_form.json", Source: []byte(`{
  "version": "7.3",
  "screens": [{"id": "FIRST", "title": "Hi", "terminal": true,
    "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "Footer", "label": "Go", "on-click-action": {"name": "navigate", "next": {"type": "screen", "name": "NOWHERE"}, "payload": {}}}
    ]}}]
}
`)}
	r := fx.d.DeployFlow(context.Background(), bad)
	var invalid *deploy.InvalidError
	if !errors.As(r.Err, &invalid) || invalid.File != "forms/broken_form.json" || invalid.Errors == 0 || !strings.HasPrefix(r.Err.Error(), "not uploaded: ") {
		t.Fatalf("error %v, want an InvalidError", r.Err)
	}
	if len(fx.events) != 2 || fx.events[0].Step != deploy.StepLocalProblems || fx.events[1].Step != deploy.StepFailed {
		t.Fatalf("events %v, want the problems then the failure", fx.events)
	}
	if !regexp.MustCompile(`(?m)^forms/broken_form.json:5:\d+: INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME: `).MatchString(fx.events[0].String()) {
		t.Fatalf("problems:\n%s\nwant FILE:LINE:COL", fx.events[0])
	}
	if reqs := fx.g.Requests(); len(reqs) != 0 {
		t.Fatalf("requests %v, want none: a flow with errors is not created nor uploaded", reqs)
	}
}

func TestDeployMetaValidationErrors(t *testing.T) {
	fx := newFixture(t)
	fx.d.Publish = true
	fx.g.AddMetaError("contact", map[string]any{"error": "INVALID_PROPERTY_VALUE", "error_type": "FLOW_JSON_ERROR",
		"message": "Invalid value found for property 'type'.", "line_start": 12, "line_end": 12, "column_start": 21, "column_end": 29,
		"pointers": []any{map[string]any{"line_start": 12, "line_end": 12, "column_start": 21, "column_end": 29, "path": "screens[0].layout.children[0].type"}}})
	r := fx.d.DeployFlow(context.Background(), testFlows()[0])
	fx.checkShapes()
	if r.Err == nil || r.Err.Error() != "Meta found 1 validation error in the Flow JSON of flow 9100001; it cannot be published" || !r.Uploaded {
		t.Fatalf("result %+v, want uploaded, then failed on Meta's error", r)
	}
	steps := fx.steps()
	if !slices.Contains(steps, "contact: contact.json:12:21: INVALID_PROPERTY_VALUE: Invalid value found for property 'type'.") {
		t.Fatalf("steps do not give Meta's error as FILE:LINE:COL: CODE: message:\n%s", strings.Join(steps, "\n"))
	}
	if n := fx.requestsMatching(`POST /[0-9]+/publish`); n != 0 {
		t.Fatalf("%d publish requests, want none for a flow Meta found errors in", n)
	}
}

func TestDeployPublishRefusedShowsReason(t *testing.T) {
	fx := newFixture(t)
	fx.d.Publish = true
	fx.g.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/publish", Status: 400, Code: 139002, UserMsg: "Missing Flows Signed Public Key"})
	r := fx.d.DeployFlow(context.Background(), testFlows()[1])
	if r.Err == nil || r.Err.Error() != "publishing refused: Missing Flows Signed Public Key [code 139002, fbtrace_id AFakeTrace42]" {
		t.Fatalf("error %v", r.Err)
	}
	if n := fx.requestsMatching(`POST /[0-9]+/publish`); n != 1 {
		t.Fatalf("%d publish requests, want 1: a refusal is not retried", n)
	}
}

// A 500 on a request that is safe to repeat (the upload) is retried.
func TestDeployRetriesA500(t *testing.T) {
	fx := newFixture(t)
	fx.g.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/assets", Status: 500, Code: 1})
	r := fx.d.DeployFlow(context.Background(), testFlows()[0])
	if n := fx.requestsMatching(`POST /[0-9]+/assets`); n != 2 || !r.Uploaded || r.Err != nil {
		t.Fatalf("%d uploads (want 2: the 500, then the success); result %+v", n, r)
	}
	fx.checkShapes()
}

// A refused access token fails every flow alike: Deploy stops at the first.
func TestDeployStopsOnAccessTokenError(t *testing.T) {
	fx := newFixture(t)
	fx.g.SetToken("EAAG-other")
	results := fx.d.Deploy(context.Background(), testFlows())
	if len(results) != 1 || !graph.IsAccessTokenError(results[0].Err) {
		t.Fatalf("results %+v, want one failed on the access token", results)
	}
	if c := deploy.Count(results); c.Failed != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestDeployDeprecatedFlow(t *testing.T) {
	fx := newFixture(t)
	fx.g.AddFlow("contact", "DEPRECATED", []byte(staticFlow), "")
	r := fx.d.DeployFlow(context.Background(), testFlows()[0])
	if r.Err == nil || !strings.Contains(r.Err.Error(), "is DEPRECATED on Meta and can no longer change") {
		t.Fatalf("error %v", r.Err)
	}
	if n := fx.requestsMatching(`POST .*`); n != 0 {
		t.Fatalf("%d changes on Meta, want none", n)
	}
}

func TestEndpointURI(t *testing.T) {
	for _, tc := range []struct{ public, want, err string }{
		{"https://flows.example.com", "https://flows.example.com/flows/booking", ""},
		{"https://example.com/waflow/", "https://example.com/waflow/flows/booking", ""},
		{"", "", "no public URL"},
		{"http://flows.example.com", "", "want an absolute https URL"},
		{"https://flows.example.com/?a=1", "", "want an absolute https URL"},
		{"flows.example.com", "", "want an absolute https URL"},
	} {
		got, err := deploy.EndpointURI(tc.public, "booking")
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("EndpointURI(%q) = %q, %v; want %q, %q", tc.public, got, err, tc.want, tc.err)
		}
	}
	fx := newFixture(t)
	fx.d.PublicURL = "http://flows.example.com"
	if r := fx.d.DeployFlow(context.Background(), testFlows()[1]); r.Err == nil || len(fx.g.Requests()) != 0 {
		t.Fatalf("deploy with an http public URL: %v, %d requests; want an error before any request", r.Err, len(fx.g.Requests()))
	}
}

func TestStatus(t *testing.T) {
	fx := newFixture(t)
	flows := testFlows()
	fx.d.Deploy(context.Background(), flows[:1]) // contact
	fx.g.AddFlow("elsewhere", "DRAFT", []byte(staticFlow), "")
	changed := append(flows, deploy.Flow{Name: "local_only", Source: []byte(staticFlow)})
	changed[0].Source = []byte(strings.Replace(staticFlow, "Contact us", "Write to us", 1))
	states, err := fx.d.Status(context.Background(), changed)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range states {
		remote := "not on Meta"
		if s.Remote != nil {
			remote = s.Remote.ID
		}
		got = append(got, s.Name+" "+remote+" "+s.LocalText())
	}
	want := []string{"contact 9100001 changed since deploy", "elsewhere 9100002 -", "booking not on Meta not deployed", "local_only not on Meta not deployed"}
	if !slices.Equal(got, want) {
		t.Fatalf("states:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if states, _ := fx.d.Status(context.Background(), flows); states[0].LocalText() != "up to date" {
		t.Fatalf("contact after deploy: %s, want up to date", states[0].LocalText())
	}
	if states, _ := fx.d.Status(context.Background(), nil); !regexp.MustCompile(`^deployed sha256:[0-9a-f]{12}$`).MatchString(states[0].LocalText()) {
		t.Fatalf("a recorded flow without a local one: %q, want deployed and the short hash", states[0].LocalText())
	}
}
