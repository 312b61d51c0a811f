package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/waflow/waflow/admission"
)

// bodyReader stands for the webhook receiver and the data endpoints: it
// reads the whole body and answers 503 with the refusal's headers when the
// budget is exhausted.
var bodyReader = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := admission.ReadAll(r.Body)
	var busy *admission.BusyError
	switch {
	case errors.As(err, &busy):
		busy.SetHeaders(w.Header())
		http.Error(w, busy.Error(), http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		fmt.Fprint(w, len(body))
	}
})

// serveTest runs a server with cfg on 127.0.0.1 until the test ends.
func serveTest(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	cfg.Logger = quiet()
	s := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	return s, ln.Addr().String()
}

// startBody opens a connection and sends a request's header, announcing
// size bytes of body, and sent bytes of it.
func startBody(t *testing.T, addr, path string, size, sent int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", path, size)
	if _, err := c.Write(make([]byte, sent)); err != nil {
		t.Fatal(err)
	}
	return c
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting, after 10 s, for %s", what)
		}
	}
}

// The webhook and the data endpoints share one budget: large unsigned
// bodies on /webhook make a large body on /flows/* wait (503), while small
// requests still get through, and the budget is whole again once the
// senders go away.
func TestBodyBudgetSharedByWebhookAndFlows(t *testing.T) {
	t.Parallel() // a server of its own
	s, addr := serveTest(t, Config{
		Flows:             map[string]http.Handler{"booking": bodyReader},
		Webhook:           bodyReader,
		BodyBytesInFlight: 1 << 20,
	})
	url := "http://" + addr
	// Three senders of 3 MiB bodies stop after 280 KiB each: 840 KiB held,
	// and large bodies may use 7/8 of the MiB.
	var senders []net.Conn
	for range 3 {
		senders = append(senders, startBody(t, addr, "/webhook", 3<<20, 280<<10))
	}
	waitUntil(t, "840 KiB held", func() bool { return s.bodies.InUse() == 840<<10 })

	resp, err := http.Post(url+"/flows/booking", "application/json", bytes.NewReader(make([]byte, 200<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a large body while the budget is taken: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, path := range []string{"/flows/booking", "/webhook"} {
		resp, err := http.Post(url+path, "application/json", bytes.NewReader(make([]byte, 2<<10)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("a small body to %s while the budget is taken: %d, want 200", path, resp.StatusCode)
		}
	}

	for _, c := range senders {
		c.Close()
	}
	waitUntil(t, "the budget given back", func() bool { return s.bodies.InUse() == 0 })
	resp, err = http.Post(url+"/flows/booking", "application/json", bytes.NewReader(make([]byte, 200<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a large body once the senders are gone: %d", resp.StatusCode)
	}
}

// Past MaxConns, a connection is answered 503 with Retry-After.
func TestMaxConns(t *testing.T) {
	_, addr := serveTest(t, Config{MaxConns: 2})
	get := func() (*http.Response, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		return http.ReadResponse(bufio.NewReader(c), nil)
	}
	// Two connections held open by senders that never finish their body.
	startBody(t, addr, "/healthz", 10, 1)
	held := startBody(t, addr, "/healthz", 10, 1)
	resp, err := get()
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third connection: %v, %v; want 503 with Retry-After", resp, err)
	}
	held.Close()
	waitUntil(t, "a connection served after one closed", func() bool {
		resp, err := get()
		return err == nil && resp.StatusCode == http.StatusOK
	})
}
