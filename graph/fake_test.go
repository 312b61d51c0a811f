package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/graph"
)

// testToken is the access token of every test client. Tests check it never
// leaks into an error or a log line.
const testToken = "EAAG-test-token-must-not-leak"

// request is what the fake Graph API recorded of one request.
type request struct {
	Method string
	Path   string // without the version prefix, e.g. "/123/messages"
	Query  url.Values
	Header http.Header
	Body   []byte
}

// reply is one scripted answer of the fake Graph API.
type reply struct {
	status int
	header map[string]string
	body   string
	// hang waits until the client gives up instead of answering.
	hang bool
	// drop closes the connection after reading the whole request,
	// without answering: the server may have acted on it.
	drop bool
}

func ok(body string) reply { return reply{status: 200, body: body} }

func graphError(status, code int, msg string, extra ...string) reply {
	e := map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf123"}
	for i := 0; i+1 < len(extra); i += 2 {
		e[extra[i]] = extra[i+1]
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return reply{status: status, body: string(b)}
}

// fakeGraph is a Graph API on httptest that records every request and
// answers with scripted replies, in order. A request beyond the script fails
// the test.
type fakeGraph struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []request
	replies []reply
}

func newFakeGraph(t *testing.T, replies ...reply) *fakeGraph {
	t.Helper()
	f := &fakeGraph{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("fake graph: reading body: %v", err)
	}
	const prefix = "/v25.0"
	path := r.URL.Path
	if len(path) < len(prefix) || path[:len(prefix)] != prefix {
		f.t.Errorf("fake graph: path %q lacks the version prefix %s", path, prefix)
	} else {
		path = path[len(prefix):]
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, request{Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	var rep reply
	if len(f.replies) == 0 {
		f.mu.Unlock()
		f.t.Errorf("fake graph: unexpected request %s %s", r.Method, r.URL)
		http.Error(w, `{"error":{"message":"unexpected request","code":1}}`, 500)
		return
	}
	rep, f.replies = f.replies[0], f.replies[1:]
	f.mu.Unlock()
	switch {
	case rep.hang:
		<-r.Context().Done()
		return
	case rep.drop:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			f.t.Errorf("fake graph: hijack: %v", err)
			return
		}
		conn.Close()
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fakeGraph) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// only returns the single recorded request, failing the test if there were
// more or fewer.
func (f *fakeGraph) only(t *testing.T) request {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("fake graph got %d requests, want 1: %v", len(reqs), summarize(reqs))
	}
	return reqs[0]
}

func summarize(reqs []request) []string {
	var s []string
	for _, r := range reqs {
		s = append(s, r.Method+" "+r.Path)
	}
	return s
}

// sleeps records the waits of a RetryPolicy instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// setup is what most tests need: a fake Graph API, a client pointed at it
// with a fast, jitter-free retry policy, the recorded sleeps and the log.
type setup struct {
	fake   *fakeGraph
	client *graph.Client
	sleeps *sleeps
	log    *bytes.Buffer
}

func newSetup(t *testing.T, replies ...reply) *setup {
	t.Helper()
	return newSetupWith(t, func(*graph.Options) {}, replies...)
}

func newSetupWith(t *testing.T, modify func(*graph.Options), replies ...reply) *setup {
	t.Helper()
	s := &setup{fake: newFakeGraph(t, replies...), sleeps: &sleeps{}, log: &bytes.Buffer{}}
	opts := graph.Options{
		BaseURL:     s.fake.srv.URL,
		AccessToken: testToken,
		Timeout:     5 * time.Second,
		Retry: &graph.RetryPolicy{
			MaxAttempts: 3,
			BaseDelay:   100 * time.Millisecond,
			MaxDelay:    10 * time.Second,
			Sleep:       s.sleeps.sleep,
		},
		Logger: slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	modify(&opts)
	c, err := graph.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.client = c
	return s
}

// jsonEqual fails t unless got and want hold the same JSON value.
func jsonEqual(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation: %v", what, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}
