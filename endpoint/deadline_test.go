package endpoint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
)

// logText returns what the endpoint logged so far.
func (f *fixture) logText() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logs.String()
}

// sendOrGiveUp is send with a client that gives up after 20 s, far past
// the fixture's deadline: a request the endpoint never answers fails
// the test instead of hanging it.
func (f *fixture) sendOrGiveUp(t *testing.T, msg any) reply {
	t.Helper()
	body, sess := encrypt(t, f.pub, msg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/flows/booking", bytes.NewReader(body))
	req.Header.Set(signature.Header, signature.Sign(appSecret, body))
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: raw}
	if resp.StatusCode == 200 {
		plain, err := sess.DecryptResponse(raw)
		if err != nil {
			t.Fatalf("the answer does not decrypt: %v", err)
		}
		if err := json.Unmarshal(plain, &r.body); err != nil {
			t.Fatalf("answer is not JSON: %s", plain)
		}
	}
	return r
}

// stuck returns a channel that what ignores its context waits on, and
// the function that closes it. Call it with t.Cleanup after the fixture is
// made: cleanups run last first, so the channel is closed before the
// fixture's server waits for its requests.
func stuck() (<-chan struct{}, func()) {
	c := make(chan struct{})
	return c, func() { close(c) }
}

// A notification hook that ignores its context does not hold the request:
// the notification is acknowledged at the deadline and the overrun logged
// (issue 12 item 4; it is what hung FuzzDecryptedRequest).
func TestNotificationHookUnderTheDeadline(t *testing.T) {
	t.Parallel() // waits on its own servers; overlaps the others
	release, unblock := stuck()
	f := newFixtureWithFlow(t, func(fl *endpoint.Flow) {
		fl.OnNotification = func(context.Context, *endpoint.Request, endpoint.Notification) { <-release }
	}, func(c *endpoint.Config) { c.Timeout = 50 * time.Millisecond })
	t.Cleanup(unblock)
	note := map[string]any{"version": "3.0", "action": "data_exchange", "screen": "TIME", "flow_token": f.token,
		"data": map[string]any{"error": "INVALID_SCREEN_TRANSITION"}}
	for range 3 { // the next requests are not queued behind the first
		r := f.sendOrGiveUp(t, note)
		if r.status != 200 || get(r.body, "data", "acknowledged") != true {
			t.Fatalf("notification: %d %v, want the acknowledgement", r.status, r.body)
		}
	}
	if logs := f.logText(); !strings.Contains(logs, "notification hook did not return in time") {
		t.Errorf("the overrun is not logged:\n%s", logs)
	}
}

// A hook that panics is recovered; the notification is acknowledged.
func TestNotificationHookPanics(t *testing.T) {
	f := newFixtureWithFlow(t, func(fl *endpoint.Flow) {
		fl.OnNotification = func(context.Context, *endpoint.Request, endpoint.Notification) { panic("hook bug") }
	})
	note := map[string]any{"version": "3.0", "action": "INIT", "flow_token": f.token, "data": map[string]any{"error_key": "X"}}
	r := f.send(t, note)
	if r.status != 200 || get(r.body, "data", "acknowledged") != true {
		t.Fatalf("notification: %d %v, want the acknowledgement", r.status, r.body)
	}
	if logs := f.logText(); !strings.Contains(logs, "notification hook panicked") {
		t.Errorf("the panic is not logged:\n%s", logs)
	}
}

// stuckTokens is a validator whose store never answers and that ignores
// its context.
type stuckTokens struct{ release <-chan struct{} }

func (s stuckTokens) ValidateToken(context.Context, string, string) (flowtoken.Claims, error) {
	<-s.release
	return flowtoken.Claims{}, nil
}

// The deadline holds for a token validator that ignores its context too.
func TestTokenValidatorIgnoringItsContext(t *testing.T) {
	release, unblock := stuck()
	f := newFixture(t, func(c *endpoint.Config) {
		c.Tokens = stuckTokens{release}
		c.Timeout = 50 * time.Millisecond
	})
	t.Cleanup(unblock)
	r := f.sendOrGiveUp(t, map[string]any{"version": "3.0", "action": "INIT", "flow_token": f.token})
	if r.status != 504 || !strings.Contains(string(r.raw), "could not be checked in time") {
		t.Fatalf("status %d %q, want 504", r.status, r.raw)
	}
}

// A flow handler that ignores its context is answered 504 (it was before;
// it runs under the same helper now).
func TestHandlerIgnoringItsContext(t *testing.T) {
	release, unblock := stuck()
	f := newFixtureWithFlow(t, func(fl *endpoint.Flow) {
		fl.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
			<-release
			return endpoint.Next("DATE", nil), nil
		})
	}, func(c *endpoint.Config) { c.Timeout = 50 * time.Millisecond })
	t.Cleanup(unblock)
	r := f.sendOrGiveUp(t, map[string]any{"version": "3.0", "action": "INIT", "flow_token": f.token})
	if r.status != 504 || !strings.Contains(string(r.raw), "did not answer in time") {
		t.Fatalf("status %d %q, want 504", r.status, r.raw)
	}
}
