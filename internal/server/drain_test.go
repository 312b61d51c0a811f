package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestDrainBeforeShutdown: asked to stop, the server first fails its
// readiness check while still serving, for DrainDelay, with responses that
// close their connection; a request in flight across the drain and the
// shutdown completes; then new connections are refused.
func TestDrainBeforeShutdown(t *testing.T) {
	t.Parallel() // a server of its own; waits out its drain
	const drain = 600 * time.Millisecond
	started := make(chan struct{})
	release := make(chan struct{})
	s := New(Config{
		Extra: map[string]http.Handler{"GET /slow": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-release
			io.WriteString(w, "finished")
		})},
		DrainDelay: drain,
		Logger:     quiet(),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	// A client that keeps its connection, as a load balancer does.
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if resp, _ := get("/readyz"); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("/readyz before: %d, close %v", resp.StatusCode, resp.Close)
	}

	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	<-started
	stop := time.Now()
	cancel()

	// Draining: not ready, still serving, connections closed after each
	// answer.
	deadline := time.Now().Add(drain / 2)
	for {
		resp, body := get("/readyz")
		if resp.StatusCode == 503 {
			if !strings.Contains(body, "shutting down") || !resp.Close {
				t.Fatalf("/readyz while draining: %q, close %v", body, resp.Close)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after %v", resp.StatusCode, drain/2)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if resp, body := get("/healthz"); resp.StatusCode != 200 || body != "ok\n" || !resp.Close {
		t.Fatalf("/healthz while draining: %d %q close %v", resp.StatusCode, body, resp.Close)
	}

	// The request in flight outlives the drain delay and completes.
	time.Sleep(drain + 100*time.Millisecond)
	close(release)
	if got := <-slow; got != "finished" {
		t.Fatalf("the request in flight got %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if d := time.Since(stop); d < drain {
		t.Fatalf("Serve returned %v after the stop, before the drain delay %v", d, drain)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("new connections accepted after shutdown")
	}
}

// With a TLS configuration Serve speaks HTTPS, and ServeWithHTTP serves
// the plain-HTTP handler beside it; both stop together.
func TestServeTLSWithHTTP(t *testing.T) {
	// A server of its own; waits for its shutdown.
	t.Parallel()
	ts := httptest.NewTLSServer(nil) // only for its certificate
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	certs := ts.TLS.Certificates
	ts.Close()
	s := New(Config{
		TLS:    &tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs},
		HTTP:   http.RedirectHandler("https://example.com/", http.StatusPermanentRedirect),
		Logger: quiet(),
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	httpLn, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.ServeWithHTTP(ctx, ln, httpLn) }()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("HTTPS /healthz: %d over %s", resp.StatusCode, resp.Proto)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get("http://" + httpLn.Addr().String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 308 {
		t.Fatalf("plain HTTP: %d", resp.StatusCode)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if _, err := noFollow.Get("http://" + httpLn.Addr().String() + "/x"); err == nil {
		t.Fatal("the HTTP listener still serves after shutdown")
	}
}
