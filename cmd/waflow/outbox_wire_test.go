package main

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
	"github.com/waflow/waflow/sqlite"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveFor runs serve with cfg until check returns true (or 20 s pass),
// then stops it as SIGTERM would and returns its log.
func serveFor(t *testing.T, cfg *appConfig, check func(addr string) bool) string {
	t.Helper()
	var logs syncBuffer
	env := &Env{Stdout: &logs, Stderr: &logs, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, env, cfg, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	deadline := time.Now().Add(20 * time.Second)
	for !check(addr) {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("condition not reached; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
	return logs.String()
}

// baseServeConfig is serve's configuration with every setting at its
// default, as an empty environment gives it, on a free port of 127.0.0.1
// with the data folder dir and a one-hour token TTL.
func baseServeConfig(dir string) *appConfig {
	var cfg appConfig
	s := newSettings(flag.NewFlagSet("serve", flag.ContinueOnError), &Env{Getenv: func(string) string { return "" }})
	cfg.declare(s)
	cfg.assistant.declare(s)
	if err := s.resolve(); err != nil {
		panic(err)
	}
	cfg.addr, cfg.dataDir, cfg.tokenTTL = "127.0.0.1:0", dir, "1h"
	return &cfg
}

// enqueueBeforeServe stores one outbox message in the data folder's
// database, as a flow's completion handler would have.
func enqueueBeforeServe(t *testing.T, dir string) waflow.OutboxMessage {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "waflow.db"), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body, err := graph.EncodeMessage(&graph.TextMessage{To: "15550001111", Body: "Booked: Tuesday 10:00"})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := s.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "confirm:wamid.c1", To: "15550001111", Payload: body})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func outboxMessage(t *testing.T, dir string, id int64) waflow.OutboxMessage {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "waflow.db"), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := s.OutboxMessage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Without an access token serve runs, and says once why messages wait.
func TestServeOutboxWithoutTokenKeepsMessages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := enqueueBeforeServe(t, dir)
	logs := serveFor(t, baseServeConfig(dir), func(addr string) bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	want := "wait in the outbox and are not sent, because no Graph API access token is configured (WAFLOW_GRAPH_ACCESS_TOKEN_FILE)"
	if n := strings.Count(logs, want); n != 1 {
		t.Fatalf("the log says %d times why messages wait, want once:\n%s", n, logs)
	}
	if got := outboxMessage(t, dir, m.ID); got.State != waflow.OutboxPending || got.Attempts != 0 {
		t.Fatalf("message %s after %d attempts, want pending and untouched", got.State, got.Attempts)
	}
}

// With a token, serve's outbox worker sends what waits, once.
func TestServeOutboxSends(t *testing.T) {
	t.Parallel()
	g := graphtest.NewServer()
	defer g.Close()
	dir := t.TempDir()
	m := enqueueBeforeServe(t, dir)
	cfg := baseServeConfig(dir)
	cfg.graph.baseURL, cfg.graph.accessToken, cfg.graph.phoneNumberID = g.URL(), graphtest.Token, graphtest.PhoneNumberID
	logs := serveFor(t, cfg, func(string) bool {
		return outboxMessage(t, dir, m.ID).State == waflow.OutboxSent
	})
	if strings.Contains(logs, graphtest.Token) {
		t.Fatalf("the log holds the access token:\n%s", logs)
	}
	sent := g.Messages()
	if len(sent) != 1 || sent[0].Body["to"] != "15550001111" {
		t.Fatalf("sent %v, want the one queued message", sent)
	}
	if got := outboxMessage(t, dir, m.ID); got.WAMID != sent[0].WAMID {
		t.Fatalf("recorded wamid %q, want %q", got.WAMID, sent[0].WAMID)
	}
	for _, v := range g.Violations() {
		t.Errorf("request of the wrong shape: %s", v)
	}
}

// A Graph setting that is wrong fails serve rather than dropping messages.
func TestServeOutboxBadGraphSettingFails(t *testing.T) {
	t.Parallel()
	cfg := baseServeConfig(t.TempDir())
	cfg.graph.accessToken, cfg.graph.phoneNumberID, cfg.graph.version = graphtest.Token, graphtest.PhoneNumberID, "25"
	env := &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	err := runServe(context.Background(), env, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), `API version "25"`) {
		t.Fatalf("serve with a bad Graph API version: %v", err)
	}
}
