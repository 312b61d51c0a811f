package endpoint_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/signature"
)

// The refusals as WhatsApp receives them: status, body and headers, byte
// for byte (protocol.md 3.1: 432 has an empty body, the others a line of
// text; 427 is the sealed error_msg).
func TestRefusalsOnTheWire(t *testing.T) {
	f := newFixture(t, func(c *endpoint.Config) { c.MaxBodyBytes = 1 << 10 })
	_, otherKey := testKeys(t)
	toOther, _ := encrypt(t, &otherKey.PublicKey, map[string]any{"version": "3.0", "action": "ping"})
	noToken, _ := encrypt(t, f.pub, map[string]any{"version": "3.0", "action": "INIT"})
	failing, _ := encrypt(t, f.pub, map[string]any{"version": "3.0", "action": "data_exchange", "screen": "TIME", "flow_token": f.token, "data": map[string]any{"time": "fail"}})
	for _, tt := range []struct {
		name    string
		body    []byte
		signed  bool
		status  int
		want    string // body; "*" for a sealed one
		ctype   string
		nosniff bool
	}{
		{"unsigned", []byte(`{}`), false, 432, "", "", false},
		{"too large", bytes.Repeat([]byte("x"), 2<<10), false, 413, "request body over 1024 bytes\n", "text/plain; charset=utf-8", true},
		{"not an envelope", []byte(`{}`), true, 400, "malformed request envelope: ", "text/plain; charset=utf-8", true},
		{"another key", toOther, true, 421, "cannot decrypt the request: ", "text/plain; charset=utf-8", true},
		{"no token", noToken, true, 427, "*", "text/plain; charset=utf-8", false},
		{"handler failed", failing, true, 500, "the flow handler failed\n", "text/plain; charset=utf-8", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/flows/booking", bytes.NewReader(tt.body))
			if tt.signed {
				req.Header.Set(signature.Header, signature.Sign(appSecret, tt.body))
			}
			resp, err := f.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, raw, tt.status)
			}
			switch {
			case tt.want == "*":
				if len(raw) == 0 || bytes.ContainsAny(raw, " \n") {
					t.Errorf("body %q, want a sealed answer", raw)
				}
			case strings.HasSuffix(tt.want, ": "):
				if !strings.HasPrefix(string(raw), tt.want) || !strings.HasSuffix(string(raw), "\n") {
					t.Errorf("body %q, want text starting %q", raw, tt.want)
				}
			case string(raw) != tt.want:
				t.Errorf("body %q, want %q", raw, tt.want)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := resp.Header.Get("X-Content-Type-Options") == "nosniff"; got != tt.nosniff {
				t.Errorf("nosniff %v, want %v", got, tt.nosniff)
			}
			if resp.ContentLength != int64(len(raw)) {
				t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(raw))
			}
		})
	}
}
