package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/api"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
	"github.com/waflow/waflow/internal/storage"
)

// The server serves the API at /api/v1/ to a key made in its database,
// refuses requests without one, counts requests in /metrics, and leaves
// /api/v1/ unserved when the API is off.
func TestAppServesAPI(t *testing.T) {
	cfg := testConfig(t)
	st, err := storage.Open(t.Context(), cfg.DatabaseURL, storage.Options{Logger: cfg.Logger})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := api.CreateKey(t.Context(), st, "tests", []api.Scope{api.ScopeRead, api.ScopeSend})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.API() == nil {
		t.Fatal("no API")
	}
	h := a.srv.Handler()
	do := func(method, path, key, body string) (int, string) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		b, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(b)
	}
	if code, body := do("GET", "/api/v1/flows", key, ""); code != 200 || !strings.Contains(body, `"name":"feedback_survey"`) {
		t.Fatalf("flows: %d %s", code, body)
	}
	if code, _ := do("GET", "/api/v1/flows", "", ""); code != 401 {
		t.Fatalf("flows without a key: %d", code)
	}
	// No Graph API in this test: sending is refused, not queued unsent.
	if code, body := do("POST", "/api/v1/flows/feedback_survey/send", key, `{"to":"15550001111"}`); code != http.StatusServiceUnavailable {
		t.Fatalf("send without an outbox worker: %d %s", code, body)
	}
	_, metrics := do("GET", "/metrics", "", "")
	for _, want := range []string{`waflow_api_requests_total{route="/api/v1/flows",status="200"} 1`, `waflow_api_requests_total{route="/api/v1/flows",status="401"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	a.Close()

	cfg.API.Off = true
	off, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	req := httptest.NewRequest("GET", "/api/v1/flows", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	off.srv.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusNotFound || off.API() != nil {
		t.Fatalf("API off: %d", w.Code)
	}
}

// A flow message sent through the API goes through the outbox to the Graph
// API, with the flow token the API answered the id of.
func TestAppAPISendsThroughOutbox(t *testing.T) {
	fake := graphtest.New(t)
	client, err := graph.New(fake.Options())
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Outbox = &OutboxConfig{Client: client, PhoneNumberID: graphtest.PhoneNumberID, GraphTimeout: 5 * time.Second}
	st, err := storage.Open(t.Context(), cfg.DatabaseURL, storage.Options{Logger: cfg.Logger})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := api.CreateKey(t.Context(), st, "sender", []api.Scope{api.ScopeSend})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	req := httptest.NewRequest("POST", "/api/v1/flows/feedback_survey/send", strings.NewReader(`{"to":"15550001111","body":"How was it?"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	a.srv.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		t.Fatalf("send: %d %s", w.Code, w.Body)
	}
	var ans struct {
		ID      int64  `json:"outbox_message_id"`
		TokenID string `json:"flow_token_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(fake.Messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the outbox sent nothing; Graph requests: %v", fake.Requests())
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := fake.Messages()[0]
	params := m.Body["interactive"].(map[string]any)["action"].(map[string]any)["parameters"].(map[string]any)
	claims, err := a.tokens.Issuer.Verify(params["flow_token"].(string), "feedback_survey")
	if err != nil || claims.ID != ans.TokenID || claims.Flow != "feedback_survey" || m.Body["to"] != "15550001111" {
		t.Fatalf("sent %v; token %+v, %v; answered token id %s", m.Body, claims, err, ans.TokenID)
	}
	if v := fake.Violations(); len(v) != 0 {
		t.Fatalf("Graph API violations: %v", v)
	}
}
