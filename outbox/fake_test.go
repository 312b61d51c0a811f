package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/graph"
)

const (
	testToken   = "EAAG-outbox-test-token"
	testPhoneID = "106540352242922"
	testVersion = "v25.0"
)

// sent is one request the fake Graph API received.
type sent struct {
	Method, Path, Auth, ContentType string
	Body                            []byte
}

// reply is a scripted answer; the zero reply accepts the message.
type reply struct {
	status int
	header map[string]string
	body   string
	hang   bool // answer nothing until the client gives up
}

func graphErr(status, code int, msg string) reply {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbC123trace",
	}})
	return reply{status: status, body: string(b)}
}

// fakeGraph is the messages edge of the Graph API (protocol.md 5.1) on
// httptest: it records every request and answers with the scripted replies
// in order, then accepts everything with wamid.1, wamid.2, ...
type fakeGraph struct {
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []sent
	replies []reply
	// arrived, when set, receives each request as it arrives.
	arrived chan sent
	hangs   chan struct{} // closed at cleanup to free hanging handlers
}

func newFakeGraph(t *testing.T, replies ...reply) *fakeGraph {
	t.Helper()
	f := &fakeGraph{replies: replies, hangs: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.hangs)
		f.srv.Close()
	})
	return f
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s := sent{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: body}
	f.mu.Lock()
	f.reqs = append(f.reqs, s)
	n := len(f.reqs)
	var rp reply
	if len(f.replies) > 0 {
		rp, f.replies = f.replies[0], f.replies[1:]
	}
	f.mu.Unlock()
	if f.arrived != nil {
		f.arrived <- s
	}
	if rp.hang {
		select {
		case <-r.Context().Done():
		case <-f.hangs:
		}
		return
	}
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if rp.status == 0 {
		var m struct {
			To string `json:"to"`
		}
		_ = json.Unmarshal(body, &m)
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.%d","message_status":"accepted"}]}`, m.To, m.To, n)
		return
	}
	w.WriteHeader(rp.status)
	io.WriteString(w, rp.body)
}

func (f *fakeGraph) requests() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.reqs...)
}

// client returns a graph client for the fake that never sleeps between
// retries and gives each attempt timeout.
func (f *fakeGraph) client(t *testing.T, timeout time.Duration) *graph.Client {
	t.Helper()
	c, err := graph.New(graph.Options{
		BaseURL: f.srv.URL, Version: testVersion, AccessToken: testToken, Timeout: timeout, Logger: quiet,
		Retry: &graph.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Second,
			Sleep: func(context.Context, time.Duration) error { return nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
