package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestRoutes(t *testing.T) {
	ready := errors.New("database unreachable")
	s := New(Config{
		Flows:  map[string]http.Handler{"booking": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "booking") })},
		Extra:  map[string]http.Handler{"GET /boom": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })},
		Ready:  func(context.Context) error { return ready },
		Logger: quiet(),
	})
	do := func(method, path string) (int, string) {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w.Code, w.Body.String()
	}
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/flows/booking", 200, "booking"},
		{"GET", "/flows/booking", 405, ""},
		{"POST", "/flows/nope", 404, `no flow named "nope" here; flows: [booking]`},
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/readyz", 503, "not ready: database unreachable"},
		{"GET", "/boom", 500, "internal error"},
		{"GET", "/webhook", 404, ""},
	}
	for _, tt := range tests {
		code, body := do(tt.method, tt.path)
		if code != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, code, body, tt.status, tt.body)
		}
	}
	ready = nil
	if code, _ := do("GET", "/readyz"); code != 200 {
		t.Errorf("/readyz once ready = %d", code)
	}
	// Still serving after the panic.
	if code, _ := do("GET", "/healthz"); code != 200 {
		t.Errorf("/healthz after a panic = %d", code)
	}
}

func TestTimeoutsAreSet(t *testing.T) {
	hs := New(Config{Addr: ":0", Logger: quiet()}).HTTPServer()
	if hs.ReadHeaderTimeout == 0 || hs.ReadTimeout == 0 || hs.WriteTimeout == 0 || hs.IdleTimeout == 0 {
		t.Fatalf("a timeout is zero: %+v", hs)
	}
	if hs.WriteTimeout >= 10*time.Second+5*time.Second {
		t.Fatalf("write timeout %v", hs.WriteTimeout)
	}
}

// TestGracefulShutdown cancels the server while a request is in flight: the
// request completes, /readyz turns 503 meanwhile, and new connections are
// refused after.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	s := New(Config{
		Extra: map[string]http.Handler{"GET /slow": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-release
			io.WriteString(w, "finished")
		})},
		Logger: quiet(),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{body: string(b)}
	}()
	<-started
	cancel()
	// Draining: readiness fails while the in-flight request finishes.
	deadline := time.Now().Add(5 * time.Second)
	for !s.draining.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 503 {
		t.Fatalf("/readyz while draining = %d", w.Code)
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}
