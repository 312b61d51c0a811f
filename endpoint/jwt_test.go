package endpoint_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
)

// jwtWith signs claims with HS256 under secret, as Meta would if it named
// its claims differently from what waflow first guessed.
func jwtWith(claims map[string]any, secret []byte) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	pb, _ := json.Marshal(claims)
	head := h + "." + base64.RawURLEncoding.EncodeToString(pb)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(head))
	return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// observed collects Observation.TokenSignature per request.
type observed struct {
	mu  sync.Mutex
	got []string
}

func (o *observed) observe(ob endpoint.Observation) {
	o.mu.Lock()
	o.got = append(o.got, ob.TokenSignature)
	o.mu.Unlock()
}

func (o *observed) last(t *testing.T) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.got) == 0 {
		t.Fatal("no observation")
	}
	return o.got[len(o.got)-1]
}

// Issue 19 item 4: Meta does not document the JWT's claim names
// (protocol.md §7). Guessing wrong must not close every 4.0 flow with 427:
// any string claim holding the flow token is accepted, a signature that
// does not verify or is missing is observed and logged, and rejected only
// with RequireTokenSignature.
func TestTokenSignatureNotRequired(t *testing.T) {
	for _, required := range []bool{false, true} {
		name := "default"
		if required {
			name = "required"
		}
		t.Run(name, func(t *testing.T) {
			obs := &observed{}
			f := newFixture(t, func(c *endpoint.Config) {
				c.RequireTokenSignature = required
				c.Observe = obs.observe
			})
			init := func(sig string) map[string]any {
				m := map[string]any{"version": "4.0", "action": "INIT", "flow_token": f.token}
				if sig != "" {
					m["flow_token_signature"] = sig
				}
				return m
			}
			exp := now.Add(time.Minute).Unix()

			// Another claim name: accepted, its shape logged once as a
			// warning, with names and never values.
			other := jwtWith(map[string]any{"token": f.token, "iat": now.Unix(), "exp": exp}, appSecret)
			for i := 0; i < 2; i++ {
				if r := f.send(t, init(other)); r.status != 200 || r.body["screen"] != "DATE" {
					t.Fatalf("a JWT with the token under claim %q: %d %v, want 200", "token", r.status, r.body)
				}
				if got := obs.last(t); got != endpoint.TokenSignatureValid {
					t.Errorf("observed %q, want %q", got, endpoint.TokenSignatureValid)
				}
			}
			logs := f.logText()
			if n := strings.Count(logs, "first request with these claims"); n != 1 {
				t.Errorf("the shape was logged %d times, want once:\n%s", n, logs)
			}
			if l := logLine(logs, `claims="[exp iat token]" token_claim=token`); !strings.Contains(l, "level=WARN") {
				t.Errorf("the log lacks the shape warning:\n%s", logs)
			}
			if strings.Contains(logs, f.token) || strings.Contains(logs, other) {
				t.Errorf("the log holds the token or the JWT:\n%s", logs)
			}

			// The expected name: a new shape, logged at info.
			if r := f.send(t, init(flowtoken.SignJWT(f.token, appSecret, now.Add(time.Minute)))); r.status != 200 {
				t.Fatalf("a JWT with flow_token: %d", r.status)
			}
			if l := logLine(f.logText(), `claims="[exp flow_token]" token_claim=flow_token`); !strings.Contains(l, "level=INFO") {
				t.Errorf("the log lacks the second shape:\n%s", f.logText())
			}

			// A bad HMAC, a JWT for another token, a missing signature:
			// observed; 427 only when required.
			badMAC := jwtWith(map[string]any{"flow_token": f.token, "exp": exp}, []byte("not the app secret"))
			otherToken := jwtWith(map[string]any{"flow_token": "someone-else", "exp": exp}, appSecret)
			for _, c := range []struct {
				name, sig, want string
			}{
				{"bad HMAC", badMAC, endpoint.TokenSignatureBadMAC},
				{"another token", otherToken, endpoint.TokenSignatureMismatch},
				{"missing", "", endpoint.TokenSignatureMissing},
			} {
				r := f.send(t, init(c.sig))
				if got := obs.last(t); got != c.want {
					t.Errorf("%s: observed %q, want %q", c.name, got, c.want)
				}
				switch {
				case required && (r.status != 427 || r.body["error_msg"] == nil):
					t.Errorf("%s, required: %d %v, want 427 with error_msg", c.name, r.status, r.body)
				case !required && (r.status != 200 || r.body["screen"] != "DATE"):
					t.Errorf("%s, not required: %d %v, want 200 and the first screen", c.name, r.status, r.body)
				}
			}
			if !required && strings.Count(f.logText(), "flow_token_signature not verified") != 3 {
				t.Errorf("want one warning per unverified signature:\n%s", f.logText())
			}

			// Data API 3.0 carries none: nothing to observe.
			if r := f.send(t, map[string]any{"version": "3.0", "action": "INIT", "flow_token": f.token}); r.status != 200 {
				t.Fatalf("3.0: %d", r.status)
			}
			if got := obs.last(t); got != "" {
				t.Errorf("3.0 observed %q, want none", got)
			}
		})
	}
}

// logLine returns the first line of logs containing s, "" if none.
func logLine(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
