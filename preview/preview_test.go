package preview_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/preview"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
)

// newPreview serves the preview of two catalog flows: expense_entry with
// its real endpoint (on a flowtest harness, tokens recorded in SQLite)
// and the static feedback_survey.
func newPreview(t *testing.T) *httptest.Server {
	t.Helper()
	srv, _ := newPreviewWith(t, "")
	return srv
}

// newPreviewWith is newPreview with a secret; it also returns the token
// store, which issues tokens the endpoint accepts.
func newPreviewWith(t *testing.T, secret string) (*httptest.Server, endpoint.StoreTokens) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(t.Context(), sqlitetest.Path(t), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cat, err := catalog.Load(catalog.Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	expense, survey := cat.Flow("expense_entry"), cat.Flow("feedback_survey")
	var tokens endpoint.StoreTokens
	h := flowtest.NewHarness(t, expense.Spec, expense.Endpoint, flowtest.HarnessOptions{Logger: quiet,
		Tokens: func(iss *flowtoken.Issuer) endpoint.TokenValidator {
			tokens = endpoint.StoreTokens{Issuer: iss, Store: store}
			return tokens
		}})
	p, err := preview.New(preview.Config{
		Flows: []preview.Flow{
			{Name: "expense_entry", Spec: expense.Spec, Source: expense.Source, URL: h.URL},
			{Name: "feedback_survey", Spec: survey.Spec, Source: survey.Source},
		},
		PublicKey: h.PublicKey, AppSecret: h.AppSecret, Logger: quiet, Secret: secret,
		IssueToken: func(ctx context.Context, flow string) (string, error) {
			tok, _, err := tokens.Issue(ctx, flow, "preview")
			return tok, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv, tokens
}

// answer is the JSON of a start or act response.
type answer struct {
	State simulator.State `json:"state"`
	Token string          `json:"flow_token"`
	Seal  string          `json:"token_seal"`
	View  *simulator.View `json:"view"`
	Step  *simulator.Step `json:"step"`
	Error string          `json:"error"`
}

func post(t *testing.T, url string, body any) (int, answer) {
	t.Helper()
	return postWith(t, url, body, nil)
}

// postWith is post with the given headers.
func postWith(t *testing.T, url string, body any, header http.Header) (int, answer) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("POST %s: %d, body is not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, a
}

func act(t *testing.T, srv *httptest.Server, flow string, prev answer, op string, form map[string]any) answer {
	t.Helper()
	code, a := post(t, srv.URL+"/preview/api/flows/"+flow+"/act", map[string]any{"state": prev.State, "flow_token": prev.Token, "token_seal": prev.Seal, "op": op, "form": form})
	if code != 200 {
		t.Fatalf("%s: %d %s", op, code, a.Error)
	}
	return a
}

func item(v *simulator.View, name string) *simulator.Item {
	for _, it := range v.Items {
		if it.Name == name {
			return it
		}
	}
	return nil
}

// TestEndpointFlow drives expense_entry through the API: INIT through the
// simulator, an amount the endpoint refuses (shown on the field and in the
// snackbar), then a saved expense and the completion payload.
func TestEndpointFlow(t *testing.T) {
	srv := newPreview(t)
	code, a := post(t, srv.URL+"/preview/api/flows/expense_entry/start", nil)
	if code != 200 || a.View == nil || a.View.Screen != "EXPENSE" || !a.Step.OK() || a.Step.Kind != "INIT" {
		t.Fatalf("start: %d %+v", code, a)
	}
	if it := item(a.View, "category"); it == nil || len(it.Options) != 5 || it.Options[0].ID != "food" {
		t.Fatalf("the Dropdown's options come from the INIT data: %+v", it)
	}
	a = act(t, srv, "expense_entry", a, "submit", map[string]any{"amount": "12.345", "category": "food"})
	if a.View.Screen != "EXPENSE" || item(a.View, "amount").Error != "At most 2 decimals" || a.View.ErrorMessage == "" {
		t.Fatalf("refused amount: %+v", a.View)
	}
	if got := item(a.View, "amount").Value; got != "12.345" {
		t.Errorf("the refused amount is kept in the field: %v", got)
	}
	a = act(t, srv, "expense_entry", a, "submit", map[string]any{"amount": "12.50", "category": "food", "description": "Lunch"})
	if a.View.Screen != "SAVED" || !a.Step.OK() {
		t.Fatalf("saved: %+v %+v", a.View, a.Step)
	}
	a = act(t, srv, "expense_entry", a, "submit", nil)
	c := a.State.Completion
	if !a.State.Closed || c == nil || c.Via != "complete" || !strings.HasPrefix(c.ResponseJSON["expense_id"].(string), "EX-") || c.ResponseJSON["flow_token"] != a.Token {
		t.Fatalf("completion: %+v", a.State)
	}
}

// TestStaticFlow: the phone's checks block a submission, and an If shows
// its inputs once the OptIn is ticked (a render after the change).
func TestStaticFlow(t *testing.T) {
	srv := newPreview(t)
	_, a := post(t, srv.URL+"/preview/api/flows/feedback_survey/start", nil)
	if a.View == nil || a.View.Screen != "RATING" || a.Step.Kind != "open" {
		t.Fatalf("start: %+v", a)
	}
	a = act(t, srv, "feedback_survey", a, "submit", nil)
	if len(a.Step.Blocked) != 1 || a.Step.Blocked[0].Component != "rating" || a.Step.Blocked[0].Message != "Required" {
		t.Fatalf("blocked: %+v", a.Step.Blocked)
	}
	a = act(t, srv, "feedback_survey", a, "submit", map[string]any{"rating": "5"})
	a = act(t, srv, "feedback_survey", a, "submit", nil)
	if a.View.Screen != "FOLLOW_UP" || !a.View.Reactive || len(a.View.Items) != 2 {
		t.Fatalf("FOLLOW_UP: %+v", a.View)
	}
	a = act(t, srv, "feedback_survey", a, "render", map[string]any{"follow_up": true})
	if item(a.View, "contact_method") == nil || item(a.View, "contact_time") == nil {
		t.Fatalf("the If's inputs are not shown after ticking the OptIn: %+v", a.View.Items)
	}
	// Unticking hides them again, and their values are not kept.
	a = act(t, srv, "feedback_survey", a, "render", map[string]any{"follow_up": false, "contact_method": "email"})
	if item(a.View, "contact_method") != nil || a.State.Form["FOLLOW_UP"]["contact_method"] != nil {
		t.Fatalf("hidden inputs: %+v %v", a.View.Items, a.State.Form["FOLLOW_UP"])
	}
}

// TestBadRequests: every refusal says what was wrong.
func TestBadRequests(t *testing.T) {
	srv := newPreview(t)
	_, started := post(t, srv.URL+"/preview/api/flows/feedback_survey/start", nil)
	// sealed is an act request of the started session.
	sealed := func(m map[string]any) string {
		m["flow_token"], m["token_seal"] = started.Token, started.Seal
		return mustJSON(m)
	}
	tests := []struct {
		name, path, ctype, body string
		status                  int
		msg                     string
	}{
		{"unknown flow", "/preview/api/flows/nope/start", "application/json", "{}", 404, `no flow named "nope" in the preview (flows: expense_entry, feedback_survey)`},
		{"not JSON", "/preview/api/flows/feedback_survey/act", "application/json", "{", 400, "the request is not JSON"},
		{"form post", "/preview/api/flows/feedback_survey/act", "application/x-www-form-urlencoded", "op=submit", 415, "send Content-Type: application/json"},
		{"unknown op", "/preview/api/flows/feedback_survey/act", "application/json", sealed(map[string]any{"op": "jump"}), 400, `op "jump": want render, submit, fire, select, back or ping`},
		{"unknown screen", "/preview/api/flows/feedback_survey/act", "application/json", sealed(map[string]any{"op": "submit", "state": map[string]any{"screen": "NOPE"}}), 400, `state is on screen "NOPE", which is not in the flow`},
		{"not started", "/preview/api/flows/feedback_survey/act", "application/json", sealed(map[string]any{"op": "submit"}), 400, "the flow is not open"},
		{"no such action", "/preview/api/flows/feedback_survey/act", "application/json", sealed(map[string]any{"op": "fire", "index": 9, "state": started.State}), 400, "screen RATING has no action 9"},
		{"too big", "/preview/api/flows/feedback_survey/act", "application/json", `{"op":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "over 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+tt.path, tt.ctype, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct{ Error string }
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tt.status || !strings.Contains(e.Error, tt.msg) {
				t.Errorf("%d %q, want %d with %q", resp.StatusCode, e.Error, tt.status, tt.msg)
			}
		})
	}
}

func mustJSON(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}

// TestPages: the index lists the flows; the page, script and style are
// served from the binary with their types and a strict CSP.
func TestPages(t *testing.T) {
	srv := newPreview(t)
	for _, tt := range []struct{ path, ctype, contains string }{
		{"/preview/", "text/html", `href="/preview/flow/expense_entry"`},
		{"/preview/flow/feedback_survey", "text/html", `data-flow="feedback_survey"`},
		{"/preview/static/app.js", "text/javascript", "function render("},
		{"/preview/static/style.css", "text/css", ".phone"},
		{"/preview/api/flows/expense_entry/source", "application/json", `"data_api_version": "4.0"`},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) || !strings.Contains(string(b), tt.contains) {
			t.Errorf("GET %s: %d %s, want %s containing %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.ctype, tt.contains)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: no CSP", tt.path)
		}
	}
	if resp, _ := http.Get(srv.URL + "/preview/flow/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown flow page: %d", resp.StatusCode)
	}
}

// TestConfig: a flow with an endpoint needs the key, secret and issuer.
func TestConfig(t *testing.T) {
	src, _ := catalog.Source("expense_entry")
	spec, _ := flowjson.ValidateSource(src)
	_, err := preview.New(preview.Config{Flows: []preview.Flow{{Name: "x", Spec: spec, URL: "http://127.0.0.1:1/"}}})
	if err == nil || !strings.Contains(err.Error(), "public key, app secret and token issuer are required") {
		t.Errorf("New without secrets = %v", err)
	}
	_, err = preview.New(preview.Config{Flows: []preview.Flow{{Name: "a/b", Spec: spec}}})
	if err == nil {
		t.Error("New accepted a name with a slash")
	}
}
