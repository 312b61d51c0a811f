package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waflow/waflow/api"
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
