package main

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestServeDevelopmentMode starts serve as a new user does, with nothing
// configured, checks the health endpoints, and stops it as SIGTERM would.
func TestServeDevelopmentMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := baseServeConfig(dir)
	cfg.logLevel = "error"
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, env, cfg, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s = %d", path, resp.StatusCode)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
}
