package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/api"
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingKeys counts the writes of last use.
type countingKeys struct {
	waflow.APIKeyStore
	touches atomic.Int64
}

func (c *countingKeys) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	c.touches.Add(1)
	return c.APIKeyStore.TouchAPIKey(ctx, id, at)
}

type harness struct {
	t       testing.TB
	db      *sqlite.DB
	keys    *countingKeys
	flows   *registry.Registry
	api     *api.API
	clock   *clock
	router  routers.Router
	doc     *openapi3.T
	notify  atomic.Int64
	keyText map[string]string // key name: its text
}

var epoch = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func newHarness(t testing.TB, configure func(*api.Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{t: epoch}, keyText: map[string]string{}}
	db, err := sqlite.Open(t.Context(), sqlitetest.Path(t), sqlite.Options{Now: h.clock.Now, Synchronous: "NORMAL", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.db = db
	h.keys = &countingKeys{APIKeyStore: db}
	h.flows = registry.New()
	quiet := slog.New(slog.DiscardHandler)
	if err := catalog.Register(h.flows, catalog.Deps{Store: db, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	issuer, err := flowtoken.NewIssuer(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{
		Keys:        h.keys,
		Completions: db,
		Flows:       h.flows,
		Send: &api.SendConfig{
			Tokens: endpoint.StoreTokens{Issuer: issuer, Store: db},
			Outbox: db,
			Notify: func() { h.notify.Add(1) },
		},
		CursorKey: []byte("cursor key of the tests"),
		Rate:      1000,
		Burst:     1000,
		Now:       h.clock.Now,
		Logger:    quiet,
	}
	if configure != nil {
		configure(&cfg)
	}
	h.api, err = api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	h.doc, err = loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("loading the OpenAPI document: %v", err)
	}
	if h.router, err = legacy.NewRouter(h.doc); err != nil {
		t.Fatalf("the OpenAPI document does not validate: %v", err)
	}
	for _, k := range []struct {
		name   string
		scopes []api.Scope
	}{{"reader", []api.Scope{api.ScopeRead}}, {"sender", []api.Scope{api.ScopeSend}}, {"both", []api.Scope{api.ScopeRead, api.ScopeSend}}} {
		text, _, err := api.CreateKey(t.Context(), db, k.name, k.scopes)
		if err != nil {
			t.Fatal(err)
		}
		h.keyText[k.name] = text
	}
	return h
}

// answer is a response, checked against the OpenAPI document.
type answer struct {
	code   int
	header http.Header
	body   []byte
}

func (a answer) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not an error body: %s", a.body)
	}
	return e.Error.Code
}

// do serves one request with key (a key name, or a key's text when it
// starts with wfk_, or none when empty) and checks the answer against
// the OpenAPI document: its status is documented for the operation and
// its body and headers match.
func (h *harness) do(method, target, key string, body any, hdr ...string) answer {
	h.t.Helper()
	var rd io.Reader
	var raw []byte
	if body != nil {
		switch b := body.(type) {
		case string:
			raw = []byte(b)
		default:
			raw, _ = json.Marshal(b)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, "http://waflow.test"+target, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		if text, ok := h.keyText[key]; ok {
			key = text
		}
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	a := answer{rec.Code, rec.Header(), rec.Body.Bytes()}
	h.validate(req, raw, a)
	return a
}

func (h *harness) validate(req *http.Request, body []byte, a answer) {
	h.t.Helper()
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := h.router.FindRoute(vreq)
	if err != nil {
		// No operation for this method and path (405, 404 of an unknown
		// route): the body must still be the documented error.
		if a.code != http.StatusMethodNotAllowed && a.code != http.StatusNotFound && a.code != http.StatusUnauthorized {
			h.t.Fatalf("%s %s: no operation in the OpenAPI document (%v), answered %d", req.Method, req.URL, err, a.code)
		}
		var v any
		if err := json.Unmarshal(a.body, &v); err != nil {
			h.t.Fatalf("%s %s: %d with a body that is not JSON: %s", req.Method, req.URL, a.code, a.body)
		}
		if err := h.doc.Components.Schemas["Error"].Value.VisitJSON(v); err != nil {
			h.t.Fatalf("%s %s: %d body is not an Error: %v\n%s", req.Method, req.URL, a.code, err, a.body)
		}
		return
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableJSONSchema2020()},
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts},
		Status:                 a.code,
		Header:                 a.header,
		Options:                opts,
	}
	in.SetBodyBytes(a.body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		h.t.Fatalf("%s %s: the answer does not match the OpenAPI document: %.600s\n%d %.600s", req.Method, req.URL, err, a.code, a.body)
	}
}

func wantStatus(t *testing.T, what string, a answer, code int, errCode string) {
	t.Helper()
	if a.code != code {
		t.Fatalf("%s: status %d, want %d: %s", what, a.code, code, a.body)
	}
	if errCode != "" {
		if got := a.errorCode(t); got != errCode {
			t.Fatalf("%s: error code %q, want %q: %s", what, got, errCode, a.body)
		}
	}
}

// seed stores n responses of flow: every third rejected (kept without a
// token), the others recorded with a token, received one second apart
// (two per second, so keys tie on the time).
func (h *harness) seed(flow string, n int) []string {
	h.t.Helper()
	ids := make([]string, 0, n)
	for i := range n {
		c := waflow.Completion{
			MessageID:   fmt.Sprintf("wamid.%s.%05d", flow, i),
			Flow:        flow,
			WAID:        "15550001111",
			Response:    []byte(fmt.Sprintf(`{"flow_token":"x","rating":"%d","comment":"=1+1"}`, i%5)),
			CompletedAt: epoch.Add(time.Duration(i/2) * time.Second),
			ReceivedAt:  epoch.Add(time.Duration(i/2) * time.Second),
		}
		var err error
		if i%3 == 0 {
			c.Status, c.Result = waflow.CompletionRejected, "test"
			_, err = h.db.KeepCompletion(h.t.Context(), c)
		} else {
			tok := fmt.Sprintf("tok.%s.%05d", flow, i)
			if err := h.db.CreateToken(h.t.Context(), waflow.FlowToken{ID: tok, Flow: flow, ExpiresAt: epoch.Add(1000 * time.Hour)}); err != nil {
				h.t.Fatal(err)
			}
			c.TokenID = tok
			_, err = h.db.RecordCompletion(h.t.Context(), c)
		}
		if err != nil {
			h.t.Fatal(err)
		}
		ids = append(ids, c.MessageID)
	}
	return ids
}

type page struct {
	Responses []struct {
		MessageID string          `json:"message_id"`
		Flow      string          `json:"flow"`
		Status    string          `json:"status"`
		Response  json.RawMessage `json:"response"`
	} `json:"responses"`
	NextCursor *string `json:"next_cursor"`
}

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("answer is not the JSON expected: %v\n%s", err, a.body)
	}
	return v
}

func TestOpenAPIServedWithoutKey(t *testing.T) {
	h := newHarness(t, nil)
	a := h.do("GET", "/api/v1/openapi.json", "", nil)
	wantStatus(t, "openapi.json", a, 200, "")
	if !bytes.Equal(a.body, api.OpenAPI) {
		t.Fatal("served document differs from api.OpenAPI")
	}
	if h.doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", h.doc.OpenAPI)
	}
}

func TestListFlows(t *testing.T) {
	h := newHarness(t, nil)
	a := h.do("GET", "/api/v1/flows", "reader", nil)
	wantStatus(t, "flows", a, 200, "")
	got := decode[struct {
		Flows []struct {
			Name       string
			Source     string
			Categories []string
			Endpoint   bool
		}
	}](t, a)
	if len(got.Flows) != len(h.flows.Flows()) {
		t.Fatalf("%d flows, want %d", len(got.Flows), len(h.flows.Flows()))
	}
	for i, f := range h.flows.Flows() {
		g := got.Flows[i]
		if g.Name != f.Name || g.Source != "catalog" || g.Endpoint != f.UsesEndpoint() || len(g.Categories) == 0 || g.Categories[0] != string(catalog.Categories[f.Name][0]) {
			t.Errorf("flow %d = %+v, want %s (endpoint %v, categories %v)", i, g, f.Name, f.UsesEndpoint(), catalog.Categories[f.Name])
		}
	}
}

// Walking the pages with the cursor yields every response once, in order;
// filters and limits hold across pages.
func TestListResponsesPages(t *testing.T) {
	h := newHarness(t, nil)
	ids := h.seed("feedback_survey", 250)
	h.seed("expense_entry", 5)

	walk := func(query url.Values) []string {
		var got []string
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("no end of pages")
			}
			a := h.do("GET", "/api/v1/flows/feedback_survey/responses?"+query.Encode(), "reader", nil)
			wantStatus(t, "page", a, 200, "")
			p := decode[page](t, a)
			for _, r := range p.Responses {
				if r.Flow != "feedback_survey" {
					t.Fatalf("response of flow %q", r.Flow)
				}
				if bytes.Contains(r.Response, []byte("flow_token")) {
					t.Fatalf("a response holds its flow_token: %s", r.Response)
				}
				got = append(got, r.MessageID)
			}
			if p.NextCursor == nil {
				return got
			}
			if len(p.Responses) == 0 {
				t.Fatal("an empty page with a next cursor")
			}
			query.Set("cursor", *p.NextCursor)
		}
	}
	if got := walk(url.Values{}); strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("default pages: %d responses, want all %d in order", len(got), len(ids))
	}
	if got := walk(url.Values{"limit": {"7"}}); strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("pages of 7: %d responses, want all %d in order", len(got), len(ids))
	}
	// Since and until: received in [10 s, 20 s) = responses 20 to 39;
	// rejected ones among them.
	var want []string
	for i := 20; i < 40; i++ {
		if i%3 == 0 {
			want = append(want, ids[i])
		}
	}
	q := url.Values{"since": {epoch.Add(10 * time.Second).Format(time.RFC3339)}, "until": {epoch.Add(20 * time.Second).Format(time.RFC3339)}, "status": {"rejected"}, "limit": {"2"}}
	if got := walk(q); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rejected in [10 s, 20 s) by 2: %v, want %v", got, want)
	}
	// A date since: midnight UTC.
	a := h.do("GET", "/api/v1/flows/feedback_survey/responses?since=2026-12-04", "reader", nil)
	wantStatus(t, "since tomorrow", a, 200, "")
	if p := decode[page](t, a); len(p.Responses) != 0 || p.NextCursor != nil {
		t.Fatalf("since tomorrow: %s", a.body)
	}
}

func TestGetResponse(t *testing.T) {
	h := newHarness(t, nil)
	ids := h.seed("feedback_survey", 3)
	a := h.do("GET", "/api/v1/responses/"+ids[1], "reader", nil)
	wantStatus(t, "get", a, 200, "")
	got := decode[struct {
		MessageID string `json:"message_id"`
		TokenID   string `json:"token_id"`
		Status    string
		Response  map[string]any
	}](t, a)
	if got.MessageID != ids[1] || got.Status != "recorded" || got.TokenID == "" || got.Response["rating"] != "1" || got.Response["flow_token"] != nil {
		t.Fatalf("response = %+v", got)
	}
	wantStatus(t, "unknown id", h.do("GET", "/api/v1/responses/wamid.nope", "reader", nil), 404, "no_such_response")
}

func TestSend(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	a := h.do("POST", "/api/v1/flows/feedback_survey/send", "sender", map[string]any{"to": "15550001111", "body": "How was it?", "screen": "RATE"})
	if a.code == 400 && strings.Contains(string(a.body), "not a screen") {
		// Use the flow's real first screen.
		f := h.flows.Flow("feedback_survey")
		a = h.do("POST", "/api/v1/flows/feedback_survey/send", "sender", map[string]any{"to": "15550001111", "body": "How was it?", "screen": f.Spec.Screens[0].ID})
	}
	wantStatus(t, "send", a, 202, "")
	got := decode[struct {
		OutboxMessageID int64  `json:"outbox_message_id"`
		FlowTokenID     string `json:"flow_token_id"`
		State           string
	}](t, a)
	m, err := h.db.OutboxMessage(ctx, got.OutboxMessageID)
	if err != nil {
		t.Fatal(err)
	}
	if m.To != "15550001111" || m.TokenID != got.FlowTokenID || got.State != "pending" || h.notify.Load() != 1 {
		t.Fatalf("outbox message %+v, answer %+v, notified %d", m, got, h.notify.Load())
	}
	tok, err := h.db.Token(ctx, got.FlowTokenID)
	if err != nil || tok.Flow != "feedback_survey" || tok.WAID != "15550001111" {
		t.Fatalf("token %+v, %v", tok, err)
	}
	var payload struct {
		To          string
		Interactive struct {
			Body   struct{ Text string }
			Action struct {
				Parameters struct {
					FlowName   string `json:"flow_name"`
					FlowToken  string `json:"flow_token"`
					FlowAction string `json:"flow_action"`
				}
			}
		}
	}
	if err := json.Unmarshal(m.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	p := payload.Interactive.Action.Parameters
	if payload.To != "15550001111" || payload.Interactive.Body.Text != "How was it?" || p.FlowName != "feedback_survey" || p.FlowAction != "navigate" || p.FlowToken == "" {
		t.Fatalf("payload %s", m.Payload)
	}

	// A flow with a data endpoint is opened with data_exchange; screen
	// is refused for it.
	var ep string
	for _, f := range h.flows.Flows() {
		if f.UsesEndpoint() {
			ep = f.Name
			break
		}
	}
	a = h.do("POST", "/api/v1/flows/"+ep+"/send", "sender", map[string]any{"to": "15550001111"})
	wantStatus(t, "send endpoint flow", a, 202, "")
	m, _ = h.db.OutboxMessage(ctx, decode[struct {
		ID int64 `json:"outbox_message_id"`
	}](t, a).ID)
	if !bytes.Contains(m.Payload, []byte(`"flow_action":"data_exchange"`)) {
		t.Fatalf("endpoint flow payload %s", m.Payload)
	}
	wantStatus(t, "screen for an endpoint flow", h.do("POST", "/api/v1/flows/"+ep+"/send", "sender", map[string]any{"to": "15550001111", "screen": "X"}), 400, "bad_request")

	// The same Idempotency-Key queues one message.
	first := h.do("POST", "/api/v1/flows/feedback_survey/send", "both", map[string]any{"to": "15550002222"}, "Idempotency-Key", "order-17")
	again := h.do("POST", "/api/v1/flows/feedback_survey/send", "both", map[string]any{"to": "15550002222"}, "Idempotency-Key", "order-17")
	wantStatus(t, "first", first, 202, "")
	wantStatus(t, "again", again, 202, "")
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed send: %s then %s (%v)", first.body, again.body, again.header)
	}
	// Another key's Idempotency-Key is its own.
	other := h.do("POST", "/api/v1/flows/feedback_survey/send", "sender", map[string]any{"to": "15550002222"}, "Idempotency-Key", "order-17")
	if bytes.Equal(other.body, first.body) {
		t.Fatal("two API keys share an Idempotency-Key")
	}

	// A user known by a business-scoped user id alone: the message names
	// it as recipient, and the token records no phone number.
	a = h.do("POST", "/api/v1/flows/feedback_survey/send", "sender", map[string]any{"recipient": "US.13491208655302741918"})
	wantStatus(t, "send to a BSUID", a, 202, "")
	bs := decode[struct {
		ID      int64  `json:"outbox_message_id"`
		TokenID string `json:"flow_token_id"`
	}](t, a)
	m, _ = h.db.OutboxMessage(ctx, bs.ID)
	if tok, _ := h.db.Token(ctx, bs.TokenID); m.To != "US.13491208655302741918" || tok.WAID != "" ||
		!bytes.Contains(m.Payload, []byte(`"recipient":"US.13491208655302741918"`)) || bytes.Contains(m.Payload, []byte(`"to":`)) {
		t.Fatalf("BSUID send: outbox to %q, token WAID %q, payload %s", m.To, tok.WAID, m.Payload)
	}

	for _, tc := range []struct {
		name string
		body any
		code int
		kind string
	}{
		{"no to", map[string]any{"body": "x"}, 400, "bad_request"},
		{"bad recipient", map[string]any{"recipient": "13491208655302741918"}, 400, "bad_request"},
		{"recipient with a space", map[string]any{"to": "15550001111", "recipient": "US. 1"}, 400, "bad_request"},
		{"to with letters", map[string]any{"to": "+1 555 000"}, 400, "bad_request"},
		{"unknown field", map[string]any{"to": "15550001111", "recipient_type": "group"}, 400, "bad_request"},
		{"not JSON", "{to:", 400, "bad_request"},
		{"two values", `{"to":"15550001111"} {}`, 400, "bad_request"},
		{"data not an object", map[string]any{"to": "15550001111", "screen": "A", "data": "x"}, 400, "bad_request"},
		{"data without screen", map[string]any{"to": "15550001111", "data": map[string]any{"a": 1}}, 400, "bad_request"},
		{"unknown screen", map[string]any{"to": "15550001111", "screen": "NOPE"}, 400, "bad_request"},
		{"cta too long", map[string]any{"to": "15550001111", "cta": strings.Repeat("x", 31)}, 400, "bad_request"},
		{"too large", map[string]any{"to": "15550001111", "body": strings.Repeat("x", api.MaxSendBody)}, 413, "too_large"},
	} {
		before := h.notify.Load()
		wantStatus(t, tc.name, h.do("POST", "/api/v1/flows/feedback_survey/send", "sender", tc.body), tc.code, tc.kind)
		if h.notify.Load() != before {
			t.Fatalf("%s: a refused send queued a message", tc.name)
		}
	}
	wantStatus(t, "unknown flow", h.do("POST", "/api/v1/flows/nope/send", "sender", map[string]any{"to": "15550001111"}), 404, "no_such_flow")
	wantStatus(t, "text body", h.do("POST", "/api/v1/flows/feedback_survey/send", "sender", nil, "Content-Type", "text/plain"), 415, "")
}

func TestSendNotConfigured(t *testing.T) {
	h := newHarness(t, func(c *api.Config) { c.Send = nil })
	wantStatus(t, "send", h.do("POST", "/api/v1/flows/feedback_survey/send", "sender", map[string]any{"to": "15550001111"}), 503, "send_unavailable")
}

// Every failure of authentication is a 401, before anything else is
// looked at; a key without the scope is a 403.
func TestAuthErrors(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	reader := h.keyText["reader"]
	id, _, _ := api.ParseKey(reader)
	wrongSecret := api.KeyPrefix + id + "_" + strings.Repeat("A", 43)
	unknown := api.KeyPrefix + "0123456789abcdef_" + strings.Repeat("A", 43)
	for _, tc := range []struct {
		name, auth string
	}{
		{"no key", ""},
		{"not bearer", "Basic " + reader},
		{"garbage", "Bearer hello"},
		{"unknown id", "Bearer " + unknown},
		{"wrong secret", "Bearer " + wrongSecret},
		{"truncated", "Bearer " + reader[:len(reader)-1]},
	} {
		for _, target := range []string{"/api/v1/flows", "/api/v1/flows/feedback_survey/responses?cursor=bad", "/api/v1/nope"} {
			req := httptest.NewRequest("GET", "http://waflow.test"+target, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.api.ServeHTTP(rec, req)
			a := answer{rec.Code, rec.Header(), rec.Body.Bytes()}
			h.validate(req, nil, a)
			wantStatus(t, tc.name+" "+target, a, 401, "unauthorized")
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatalf("%s: 401 without WWW-Authenticate", tc.name)
			}
		}
	}
	// Scopes.
	wantStatus(t, "read key sends", h.do("POST", "/api/v1/flows/feedback_survey/send", "reader", map[string]any{"to": "15550001111"}), 403, "forbidden")
	wantStatus(t, "send key lists", h.do("GET", "/api/v1/flows", "sender", nil), 403, "forbidden")
	wantStatus(t, "send key reads", h.do("GET", "/api/v1/responses/x", "sender", nil), 403, "forbidden")

	// Revoked: refused at once, by id or by name.
	wantStatus(t, "before revoke", h.do("GET", "/api/v1/flows", "reader", nil), 200, "")
	if _, err := api.RevokeKey(ctx, h.db, "reader", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "revoked", h.do("GET", "/api/v1/flows", "reader", nil), 401, "unauthorized")
	if _, err := api.RevokeKey(ctx, h.db, "reader", h.clock.Now()); err == nil {
		t.Fatal("revoking a revoked key by name again succeeded")
	}

	// Method and route.
	a := h.do("DELETE", "/api/v1/flows", "both", nil)
	wantStatus(t, "DELETE flows", a, 405, "method_not_allowed")
	if a.header.Get("Allow") != "GET" {
		t.Fatalf("Allow = %q", a.header.Get("Allow"))
	}
	wantStatus(t, "unknown route", h.do("GET", "/api/v1/nope", "both", nil), 404, "not_found")
	wantStatus(t, "unknown flow", h.do("GET", "/api/v1/flows/nope/responses", "both", nil), 404, "no_such_flow")
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *api.Config) { c.Rate, c.Burst = 2, 3 })
	for i := range 3 {
		wantStatus(t, fmt.Sprintf("request %d", i), h.do("GET", "/api/v1/flows", "reader", nil), 200, "")
	}
	a := h.do("GET", "/api/v1/flows", "reader", nil)
	wantStatus(t, "past the burst", a, 429, "rate_limited")
	if a.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After = %q, want 1", a.header.Get("Retry-After"))
	}
	// Another key has its own bucket.
	wantStatus(t, "other key", h.do("GET", "/api/v1/flows", "both", nil), 200, "")
	// Half a second later one token is back (2 a second).
	h.clock.Advance(500 * time.Millisecond)
	wantStatus(t, "after 0.5 s", h.do("GET", "/api/v1/flows", "reader", nil), 200, "")
	wantStatus(t, "and again", h.do("GET", "/api/v1/flows", "reader", nil), 429, "rate_limited")
	// Unauthenticated requests use no bucket: still 401.
	wantStatus(t, "no key", h.do("GET", "/api/v1/flows", "", nil), 401, "unauthorized")
}

func TestBadQueries(t *testing.T) {
	h := newHarness(t, nil)
	h.seed("feedback_survey", 5)
	a := h.do("GET", "/api/v1/flows/feedback_survey/responses?limit=2&status=recorded", "reader", nil)
	wantStatus(t, "first page", a, 200, "")
	cursor := *decode[page](t, a).NextCursor
	tampered := []byte(cursor)
	tampered[3] ^= 1
	if tampered[3] == '-' || tampered[3] == '_' {
		tampered[3] = 'A'
	}
	base := "/api/v1/flows/feedback_survey/responses?"
	for _, tc := range []struct {
		query, kind string
	}{
		{"cursor=" + string(tampered) + "&status=recorded", "bad_cursor"},
		{"cursor=" + cursor, "bad_cursor"}, // issued with status=recorded
		{"cursor=" + cursor + "&status=rejected", "bad_cursor"},
		{"cursor=%00%01", "bad_cursor"},
		{"cursor=" + strings.Repeat("A", 600), "bad_cursor"},
		{"status=done", "bad_filter"},
		{"limit=0", "bad_filter"},
		{"limit=1001", "bad_filter"},
		{"limit=ten", "bad_filter"},
		{"since=yesterday", "bad_filter"},
		{"since=2026-12-03&until=2026-12-02", "bad_filter"},
		{"sort=desc", "bad_filter"},
		{"limit=1&limit=2", "bad_filter"},
	} {
		wantStatus(t, tc.query, h.do("GET", base+tc.query, "reader", nil), 400, tc.kind)
	}
	// The cursor is valid on another flow's listing? No.
	wantStatus(t, "other flow", h.do("GET", "/api/v1/flows/expense_entry/responses?status=recorded&cursor="+cursor, "reader", nil), 400, "bad_cursor")
	// And good with its own query, whatever the limit.
	wantStatus(t, "own query", h.do("GET", base+"status=recorded&limit=50&cursor="+cursor, "reader", nil), 200, "")
}

// A key's last use is written at most once a minute.
func TestLastUsed(t *testing.T) {
	h := newHarness(t, nil)
	for range 10 {
		h.do("GET", "/api/v1/flows", "reader", nil)
	}
	if n := h.keys.touches.Load(); n != 1 {
		t.Fatalf("10 requests wrote last use %d times, want 1", n)
	}
	id, _, _ := api.ParseKey(h.keyText["reader"])
	k, _ := h.db.APIKey(t.Context(), id)
	if !k.LastUsedAt.Equal(epoch) {
		t.Fatalf("LastUsedAt = %v, want %v", k.LastUsedAt, epoch)
	}
	h.clock.Advance(api.TouchInterval)
	h.do("GET", "/api/v1/flows", "reader", nil)
	h.do("GET", "/api/v1/flows", "reader", nil)
	k, _ = h.db.APIKey(t.Context(), id)
	if n := h.keys.touches.Load(); n != 2 || !k.LastUsedAt.Equal(epoch.Add(api.TouchInterval)) {
		t.Fatalf("a minute later: %d writes, LastUsedAt %v", n, k.LastUsedAt)
	}
}

// Mounted routes sit behind the same keys, scopes and limits.
func TestMount(t *testing.T) {
	h := newHarness(t, nil)
	var ran atomic.Int64
	h.api.Mount("GET /api/v1/events/subscriptions", api.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		w.Write([]byte(`{"subscriptions":[]}`))
	}))
	for _, tc := range []struct {
		key  string
		code int
	}{{"", 401}, {"sender", 403}, {"reader", 200}} {
		req := httptest.NewRequest("GET", "/api/v1/events/subscriptions", nil)
		if tc.key != "" {
			req.Header.Set("Authorization", "Bearer "+h.keyText[tc.key])
		}
		rec := httptest.NewRecorder()
		h.api.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Fatalf("key %q: %d, want %d: %s", tc.key, rec.Code, tc.code, rec.Body)
		}
	}
	if ran.Load() != 1 {
		t.Fatalf("the mounted handler ran %d times, want once", ran.Load())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Mount outside /api/v1/ did not panic")
		}
	}()
	h.api.Mount("GET /admin", api.ScopeRead, http.NotFoundHandler())
}

func TestNewFailsClosed(t *testing.T) {
	if _, err := api.New(api.Config{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

func TestObserve(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	h := newHarness(t, func(c *api.Config) {
		c.Observe = func(route string, status int, _ time.Duration) {
			mu.Lock()
			seen[fmt.Sprintf("%s %d", route, status)]++
			mu.Unlock()
		}
	})
	h.do("GET", "/api/v1/flows", "reader", nil)
	h.do("GET", "/api/v1/flows", "", nil)
	h.do("GET", "/api/v1/responses/x", "reader", nil)
	h.do("GET", "/api/v1/zzz", "reader", nil)
	want := map[string]int{"/api/v1/flows 200": 1, "/api/v1/flows 401": 1, "/api/v1/responses/{id} 404": 1, "/api/v1/ 404": 1}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("observed %v, want %v", seen, want)
	}
}

// FuzzSendBody: whatever the body, a send is answered 202, 400 or 413,
// as the OpenAPI document says, and a refused one queues nothing.
func FuzzSendBody(f *testing.F) {
	for _, s := range []string{
		`{"to":"15550001111"}`, `{"to":"15550001111","body":"Hi","cta":"Go","header":"H","footer":"F","draft":true}`,
		`{"to":"15550001111","screen":"X","data":{"a":[1,2]}}`, `{"recipient":"US.ENT.11815799212886844830"}`, `{"recipient":"US."}`, `{}`, `[]`, `null`, `{"to":1}`, `{"to":"1555"}`,
		`{"to":"15550001111"}{"to":"15550001111"}`, `{"to":"15550001111","body":"` + strings.Repeat("é", 1025) + `"}`, "\x00",
	} {
		f.Add(s)
	}
	h := newHarness(f, func(c *api.Config) { c.Rate, c.Burst = 1e9, 1e9 })
	f.Fuzz(func(t *testing.T, body string) {
		h.t = t
		n := h.notify.Load()
		a := h.do("POST", "/api/v1/flows/feedback_survey/send", "sender", body)
		switch a.code {
		case 202:
			if h.notify.Load() != n+1 {
				t.Fatalf("202 without a queued message: %s", body)
			}
		case 400, 413:
			if h.notify.Load() != n {
				t.Fatalf("%d but a message was queued: %s", a.code, body)
			}
		default:
			t.Fatalf("%q answered %d %s", body, a.code, a.body)
		}
	})
}

// The event subscriptions, mounted as waflow serve mounts them, answer as
// the OpenAPI document says, and only to a key with the admin scope.
func TestSubscriptionsMounted(t *testing.T) {
	h := newHarness(t, nil)
	h.api.MountPrefix(api.Prefix+"subscriptions", api.ScopeAdmin, events.NewHandler(h.db, slog.New(slog.DiscardHandler)))
	admin, _, err := api.CreateKey(t.Context(), h.db, "admin", []api.Scope{api.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	h.keyText["admin"] = admin
	wantStatus(t, "list without a key", h.do("GET", "/api/v1/subscriptions", "", nil), 401, "unauthorized")
	wantStatus(t, "create with a read key", h.do("POST", "/api/v1/subscriptions", "both", map[string]any{"url": "https://crm.example.com/h"}), 403, "forbidden")
	created := h.do("POST", "/api/v1/subscriptions", "admin", map[string]any{"id": "crm", "url": "https://crm.example.com/h", "types": []string{"flow.completed"}})
	wantStatus(t, "create", created, 201, "")
	if s := decode[map[string]any](t, created); !strings.HasPrefix(fmt.Sprint(s["secret"]), "whsec_") {
		t.Fatalf("created = %s, want a whsec_ secret", created.body)
	}
	// The answer holds the signing secret: no cache may keep it.
	if cc := created.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("create answered Cache-Control %q, want no-store: the body holds the secret", cc)
	}
	wantStatus(t, "create a bad one", h.do("POST", "/api/v1/subscriptions", "admin", map[string]any{"url": "nope"}), 400, "bad_request")
	list := h.do("GET", "/api/v1/subscriptions", "admin", nil)
	wantStatus(t, "list", list, 200, "")
	if strings.Contains(string(list.body), "whsec_") || !strings.Contains(string(list.body), `"crm"`) {
		t.Fatalf("list = %s: want crm, never a secret", list.body)
	}
	wantStatus(t, "get", h.do("GET", "/api/v1/subscriptions/crm", "admin", nil), 200, "")
	wantStatus(t, "delete", h.do("DELETE", "/api/v1/subscriptions/crm", "admin", nil), 204, "")
	wantStatus(t, "get a deleted one", h.do("GET", "/api/v1/subscriptions/crm", "admin", nil), 404, "not_found")
}
