package endpoint_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/signature"
)

var (
	keyOnce    sync.Once
	key, other *rsa.PrivateKey
)

func testKeys(tb testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keyOnce.Do(func() {
		key, other = testkeys.Key(0), testkeys.Key(1)
	})
	return key, other
}

var (
	appSecret   = []byte("test-app-secret")
	tokenSecret = []byte("test-token-secret")
	now         = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
)

// fixture is an endpoint for a two-screen test flow plus a client that
// encrypts and signs as WhatsApp does.
type fixture struct {
	srv    *httptest.Server
	issuer *flowtoken.Issuer
	pub    *rsa.PublicKey
	token  string
	notes  chan endpoint.Notification
	logs   *bytes.Buffer
	logMu  *sync.Mutex
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newFixture(t testing.TB, mutate ...func(*endpoint.Config)) *fixture {
	t.Helper()
	return newFixtureWithFlow(t, nil, mutate...)
}

// newFixtureWithFlow is newFixture with flowMutate, when not nil, called on
// the test flow after its handlers and hook are registered.
func newFixtureWithFlow(t testing.TB, flowMutate func(*endpoint.Flow), mutate ...func(*endpoint.Config)) *fixture {
	t.Helper()
	k, _ := testKeys(t)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	iss.Now = func() time.Time { return now }
	f := &fixture{issuer: iss, pub: &k.PublicKey, notes: make(chan endpoint.Notification, 4), logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	f.token, _, _ = iss.Issue("booking", "4915112345678")

	flow := endpoint.NewFlow("booking")
	flow.HandleInit(func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("DATE", map[string]any{"min_date": "2026-11-27", "wa_id": r.Token.WAID}), nil
	})
	flow.HandleDataExchange("DATE", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		var in struct {
			Date string `json:"date"`
		}
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		if in.Date == "" {
			return endpoint.ErrorOn("DATE", map[string]any{"min_date": "2026-11-27"}, "Please pick a date"), nil
		}
		return endpoint.Next("TIME", map[string]any{"date": in.Date, "slots": []any{map[string]any{"id": "09:00", "title": "9:00"}}}), nil
	})
	flow.HandleBack("TIME", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("DATE", map[string]any{"min_date": "2026-11-28"}), nil
	})
	flow.HandleDataExchange("TIME", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		v, _ := r.Values()
		switch v["time"] {
		case "panic":
			panic("boom")
		case "slow":
			<-ctx.Done()
			time.Sleep(10 * time.Millisecond)
			return endpoint.Next("TIME", nil), nil
		case "fail":
			return nil, errors.New("database is down")
		case "taken":
			return nil, &endpoint.TokenError{Msg: "The order has already been placed"}
		case "nil":
			return nil, nil
		}
		return endpoint.Complete(r.FlowToken, map[string]any{"booking_ref": "BK-1"}), nil
	})
	// The hook never waits: a test reads the notifications it expects, and
	// the others (FuzzDecryptedRequest sends thousands) are dropped.
	flow.OnNotification = func(ctx context.Context, r *endpoint.Request, n endpoint.Notification) {
		select {
		case f.notes <- n:
		default:
		}
	}

	if flowMutate != nil {
		flowMutate(flow)
	}
	cfg := endpoint.Config{
		Keys:       pk,
		Signatures: sig,
		Tokens:     endpoint.IssuerTokens{Issuer: iss},
		Timeout:    200 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(lockedWriter{f.logMu, f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:        func() time.Time { return now },
	}
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := endpoint.New(cfg, flow)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /flows/booking", h)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// reply is one answer as the client sees it.
type reply struct {
	status int
	raw    []byte         // the body as received
	body   map[string]any // the decrypted JSON answer, when there is one
}

// post sends body signed with secret (nil: no header) and decrypts the
// answer with sess when there is one.
func (f *fixture) post(t *testing.T, body []byte, header string, sess *envelope.ClientSession) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/flows/booking", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(signature.Header, header)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: raw}
	if sess != nil && len(raw) > 0 && (resp.StatusCode == 200 || resp.StatusCode == 427) {
		plain, err := sess.DecryptResponse(raw)
		if err != nil {
			t.Fatalf("status %d: cannot decrypt the answer %q: %v", resp.StatusCode, raw, err)
		}
		if err := json.Unmarshal(plain, &r.body); err != nil {
			t.Fatalf("answer is not JSON: %s", plain)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("Content-Type = %q, want text/plain", ct)
		}
	}
	return r
}

// encrypt returns a request body for msg, encrypted to pub as the client does.
func encrypt(t *testing.T, pub *rsa.PublicKey, msg any) ([]byte, *envelope.ClientSession) {
	t.Helper()
	plain, ok := msg.([]byte)
	if !ok {
		var err error
		if plain, err = json.Marshal(msg); err != nil {
			t.Fatal(err)
		}
	}
	body, sess, err := envelope.EncryptRequest(pub, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return body, sess
}

// send encrypts and signs msg as WhatsApp does and posts it.
func (f *fixture) send(t *testing.T, msg any) reply {
	t.Helper()
	body, sess := encrypt(t, f.pub, msg)
	return f.post(t, body, signature.Sign(appSecret, body), sess)
}

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// TestEndToEnd plays one whole session as the WhatsApp client would.
func TestEndToEnd(t *testing.T) {
	f := newFixture(t)
	msg := func(action, screen string, data any) map[string]any {
		m := map[string]any{"version": "3.0", "action": action, "flow_token": f.token}
		if screen != "" {
			m["screen"] = screen
		}
		if data != nil {
			m["data"] = data
		}
		return m
	}

	r := f.send(t, map[string]any{"version": "3.0", "action": "ping"})
	if r.status != 200 || get(r.body, "data", "status") != "active" {
		t.Fatalf("ping: %d %v", r.status, r.body)
	}
	// INIT as WhatsApp really sends it: "screen": "" and "data": {}.
	r = f.send(t, map[string]any{"version": "3.0", "action": "INIT", "screen": "", "data": map[string]any{}, "flow_token": f.token})
	if r.status != 200 || r.body["screen"] != "DATE" || get(r.body, "data", "wa_id") != "4915112345678" || r.body["version"] != "3.0" {
		t.Fatalf("INIT: %d %v", r.status, r.body)
	}
	r = f.send(t, msg("data_exchange", "DATE", map[string]any{"date": ""}))
	if r.status != 200 || r.body["screen"] != "DATE" || get(r.body, "data", "error_message") != "Please pick a date" {
		t.Fatalf("data_exchange with an error: %d %v", r.status, r.body)
	}
	r = f.send(t, msg("data_exchange", "DATE", map[string]any{"date": "2026-12-01"}))
	if r.status != 200 || r.body["screen"] != "TIME" || get(r.body, "data", "date") != "2026-12-01" {
		t.Fatalf("data_exchange: %d %v", r.status, r.body)
	}
	r = f.send(t, msg("BACK", "TIME", nil))
	if r.status != 200 || r.body["screen"] != "DATE" || get(r.body, "data", "min_date") != "2026-11-28" {
		t.Fatalf("BACK: %d %v", r.status, r.body)
	}
	r = f.send(t, msg("data_exchange", "TIME", map[string]any{"error": "INVALID_SCREEN_TRANSITION", "error_message": "screen not in routing model"}))
	if r.status != 200 || get(r.body, "data", "acknowledged") != true {
		t.Fatalf("error notification: %d %v", r.status, r.body)
	}
	if n := <-f.notes; n.Key != "INVALID_SCREEN_TRANSITION" || n.Message != "screen not in routing model" {
		t.Fatalf("notification = %+v", n)
	}
	r = f.send(t, msg("data_exchange", "TIME", map[string]any{"time": "09:00"}))
	if r.status != 200 || r.body["screen"] != "SUCCESS" ||
		get(r.body, "data", "extension_message_response", "params", "flow_token") != f.token ||
		get(r.body, "data", "extension_message_response", "params", "booking_ref") != "BK-1" {
		t.Fatalf("completion: %d %v", r.status, r.body)
	}
	// Nothing secret in the log: no token, no submitted value.
	f.logMu.Lock()
	logs := f.logs.String()
	f.logMu.Unlock()
	for _, secret := range []string{f.token, "2026-12-01", "4915112345678", string(appSecret)} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "action=data_exchange screen=TIME status=200") {
		t.Errorf("the log lacks the request line:\n%s", logs)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel() // waits on its own servers; overlaps the others
	// RequireTokenSignature: the flow_token_signature cases expect a 427.
	f := newFixture(t, func(c *endpoint.Config) { c.MaxBodyBytes = 64 << 10; c.RequireTokenSignature = true })
	_, otherKey := testKeys(t)
	good := func(action, screen string, data map[string]any) map[string]any {
		return map[string]any{"version": "3.0", "action": action, "screen": screen, "data": data, "flow_token": f.token}
	}
	expired := func() string {
		iss, _ := flowtoken.NewIssuer(tokenSecret)
		iss.TTL = time.Minute
		iss.Now = func() time.Time { return now.Add(-time.Hour) }
		tok, _, _ := iss.Issue("booking", "1")
		return tok
	}()
	forged := func() string {
		iss, _ := flowtoken.NewIssuer([]byte("not our secret"))
		iss.Now = func() time.Time { return now }
		tok, _, _ := iss.Issue("booking", "1")
		return tok
	}()
	otherFlow, _, _ := f.issuer.Issue("expense_entry", "1")
	withToken := func(tok string) map[string]any {
		m := good("data_exchange", "DATE", map[string]any{"date": "2026-12-01"})
		m["flow_token"] = tok
		return m
	}
	// field rewrites one base64 field of an envelope.
	field := func(body []byte, name string, fn func([]byte) []byte) []byte {
		var m map[string]string
		json.Unmarshal(body, &m)
		b, _ := base64.StdEncoding.DecodeString(m[name])
		m[name] = base64.StdEncoding.EncodeToString(fn(b))
		out, _ := json.Marshal(m)
		return out
	}
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte {
			if i < 0 {
				i += len(b)
			}
			b[i] ^= 1
			return b
		}
	}
	jwtFor := func(tok string, secret []byte) map[string]any {
		m := good("data_exchange", "DATE", map[string]any{"date": "2026-12-01"})
		m["version"] = "4.0"
		m["flow_token_signature"] = flowtoken.SignJWT(tok, secret, now.Add(time.Minute))
		return m
	}

	type tc struct {
		name string
		// build returns the body, the signature header and the session
		// that can decrypt the answer.
		build  func() ([]byte, string, *envelope.ClientSession)
		status int
		say    string // in the plain-text body, or the decrypted error_msg
	}
	signed := func(msg any) func() ([]byte, string, *envelope.ClientSession) {
		return func() ([]byte, string, *envelope.ClientSession) {
			body, sess := encrypt(t, f.pub, msg)
			return body, signature.Sign(appSecret, body), sess
		}
	}
	rawSigned := func(body []byte) func() ([]byte, string, *envelope.ClientSession) {
		return func() ([]byte, string, *envelope.ClientSession) { return body, signature.Sign(appSecret, body), nil }
	}
	mutated := func(msg any, fn func([]byte) []byte) func() ([]byte, string, *envelope.ClientSession) {
		return func() ([]byte, string, *envelope.ClientSession) {
			body, _ := encrypt(t, f.pub, msg)
			body = fn(body)
			return body, signature.Sign(appSecret, body), nil
		}
	}
	ping := map[string]any{"version": "3.0", "action": "ping"}
	tests := []tc{
		{"encrypted to another key", func() ([]byte, string, *envelope.ClientSession) {
			body, _ := encrypt(t, &otherKey.PublicKey, ping)
			return body, signature.Sign(appSecret, body), nil
		}, 421, "does not decrypt with the configured private key"},
		{"tampered tag", mutated(ping, func(b []byte) []byte { return field(b, "encrypted_flow_data", flip(-1)) }), 421, "authentication failed"},
		{"tampered ciphertext", mutated(ping, func(b []byte) []byte { return field(b, "encrypted_flow_data", flip(0)) }), 421, "authentication failed"},
		{"tampered wrapped key", mutated(ping, func(b []byte) []byte { return field(b, "encrypted_aes_key", flip(5)) }), 421, "does not decrypt"},
		{"truncated IV", mutated(ping, func(b []byte) []byte { return field(b, "initial_vector", func(b []byte) []byte { return b[:10] }) }), 400, "initial_vector is 10 bytes, want 16"},
		{"12-byte IV", mutated(ping, func(b []byte) []byte { return field(b, "initial_vector", func(b []byte) []byte { return b[:12] }) }), 400, "initial_vector is 12 bytes, want 16"},
		{"bad base64", mutated(ping, func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"initial_vector":"`), []byte(`"initial_vector":"*`), 1)
		}), 400, "initial_vector is not standard base64"},
		{"missing field", rawSigned([]byte(`{"encrypted_flow_data":"AAAAAAAAAAAAAAAAAAAAAA==","initial_vector":"AAAAAAAAAAAAAAAAAAAAAA=="}`)), 400, "missing encrypted_aes_key"},
		{"envelope not JSON", rawSigned([]byte(`encrypted_flow_data=1&encrypted_aes_key=2`)), 400, "not a JSON object"},
		{"wrapped key of the wrong length", mutated(ping, func(b []byte) []byte { return field(b, "encrypted_aes_key", func(b []byte) []byte { return b[:100] }) }), 400, "encrypted_aes_key is 100 bytes"},
		{"decrypted payload not JSON", signed([]byte(`action=ping`)), 400, "decrypted request is not a JSON object"},
		{"decrypted payload without action", signed(map[string]any{"version": "3.0", "flow_token": "x"}), 400, "has no action"},
		{"oversize body", func() ([]byte, string, *envelope.ClientSession) {
			body := []byte(`{"encrypted_flow_data":"` + strings.Repeat("A", 70<<10) + `"}`)
			return body, signature.Sign(appSecret, body), nil
		}, 413, "request body over 65536 bytes"},
		{"missing signature", func() ([]byte, string, *envelope.ClientSession) {
			body, _ := encrypt(t, f.pub, ping)
			return body, "", nil
		}, 432, ""},
		{"malformed signature", func() ([]byte, string, *envelope.ClientSession) {
			body, _ := encrypt(t, f.pub, ping)
			return body, "sha1=" + strings.Repeat("a", 40), nil
		}, 432, ""},
		{"signature with another secret", func() ([]byte, string, *envelope.ClientSession) {
			body, _ := encrypt(t, f.pub, ping)
			return body, signature.Sign([]byte("wrong secret"), body), nil
		}, 432, ""},
		{"signature of another body", func() ([]byte, string, *envelope.ClientSession) {
			body, _ := encrypt(t, f.pub, ping)
			otherBody, _ := encrypt(t, f.pub, ping)
			return body, signature.Sign(appSecret, otherBody), nil
		}, 432, ""},
		{"expired token", signed(withToken(expired)), 427, "This form has expired"},
		{"forged token", signed(withToken(forged)), 427, "This form link is not valid"},
		{"token of another flow", signed(withToken(otherFlow)), 427, "This form link is not valid"},
		{"garbage token", signed(withToken("unused")), 427, "This form link is not valid"},
		{"missing token", signed(withToken("")), 427, "This form cannot be opened"},
		{"flow_token_signature for another token", signed(jwtFor(otherFlow, appSecret)), 427, "not valid"},
		{"flow_token_signature with another secret", signed(jwtFor(f.token, []byte("x"))), 427, "not valid"},
		{"unknown screen", signed(good("data_exchange", "NOWHERE", map[string]any{"a": 1})), 400, `no handler for data_exchange on screen "NOWHERE"`},
		{"unknown action", signed(good("navigate", "DATE", map[string]any{"a": 1})), 400, `unknown action "navigate"`},
		{"BACK from a screen without refresh_on_back handler", signed(good("BACK", "DATE", nil)), 400, `no handler for BACK on screen "DATE"`},
		{"handler panics", signed(good("data_exchange", "TIME", map[string]any{"time": "panic"})), 500, "the flow handler failed"},
		{"handler overruns the deadline", signed(good("data_exchange", "TIME", map[string]any{"time": "slow"})), 504, "did not answer in time"},
		{"handler fails", signed(good("data_exchange", "TIME", map[string]any{"time": "fail"})), 500, "the flow handler failed"},
		{"handler returns no screen", signed(good("data_exchange", "TIME", map[string]any{"time": "nil"})), 500, "returned no screen"},
		{"handler closes the session", signed(good("data_exchange", "TIME", map[string]any{"time": "taken"})), 427, "The order has already been placed"},
	}
	if len(tests) < 25 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, header, sess := tt.build()
			r := f.post(t, body, header, sess)
			if r.status != tt.status {
				t.Fatalf("status = %d (%s), want %d", r.status, r.raw, tt.status)
			}
			switch {
			case tt.status == 432:
				if len(r.raw) != 0 {
					t.Fatalf("432 body = %q, want empty", r.raw)
				}
			case tt.status == 427:
				if got, _ := r.body["error_msg"].(string); !strings.Contains(got, tt.say) {
					t.Fatalf("error_msg = %q, want %q", got, tt.say)
				}
			default:
				if !strings.Contains(string(r.raw), tt.say) {
					t.Fatalf("body = %q, want it to say %q", r.raw, tt.say)
				}
			}
			// The server keeps serving.
			if r := f.send(t, ping); r.status != 200 || get(r.body, "data", "status") != "active" {
				t.Fatalf("ping after the bad request: %d %v", r.status, r.body)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		resp, err := http.Get(f.srv.URL + "/flows/booking")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET status = %d", resp.StatusCode)
		}
	})
}

func TestTokenSignatureRequired(t *testing.T) {
	f := newFixture(t, func(c *endpoint.Config) { c.RequireTokenSignature = true })
	m := map[string]any{"version": "4.0", "action": "INIT", "flow_token": f.token}
	if r := f.send(t, m); r.status != 427 {
		t.Fatalf("4.0 without flow_token_signature: %d, want 427", r.status)
	}
	m["flow_token_signature"] = flowtoken.SignJWT(f.token, appSecret, time.Time{})
	if r := f.send(t, m); r.status != 200 || r.body["screen"] != "DATE" {
		t.Fatalf("4.0 with a valid flow_token_signature: %d %v", r.status, r.body)
	}
	// Data API 3.0 never carries one (protocol.md 2).
	if r := f.send(t, map[string]any{"version": "3.0", "action": "INIT", "flow_token": f.token}); r.status != 200 {
		t.Fatalf("3.0 request: %d, want 200", r.status)
	}
}

// Issue 12 item 8: with the app secrets given only as Signatures (as a
// library user would: it is the one required field), every Data API 4.0
// request carrying a flow_token_signature was answered 427. The JWT is
// keyed with the same app secret (protocol.md §7), so Signatures verifies
// it, during a rotation under the old secret as well as the new one.
func TestTokenSignatureWithSignaturesOnly(t *testing.T) {
	old := []byte("app-secret-being-rotated-out")
	f := newFixture(t, func(c *endpoint.Config) {
		c.Signatures, _ = signature.New(appSecret, old)
		c.RequireTokenSignature = true
	})
	for name, secret := range map[string][]byte{"current secret": appSecret, "old secret": old} {
		m := map[string]any{"version": "4.0", "action": "INIT", "flow_token": f.token,
			"flow_token_signature": flowtoken.SignJWT(f.token, secret, now.Add(time.Minute))}
		if r := f.send(t, m); r.status != 200 || r.body["screen"] != "DATE" {
			t.Errorf("%s: %d %v, want 200 and the first screen", name, r.status, r.body)
		}
	}
	m := map[string]any{"version": "4.0", "action": "INIT", "flow_token": f.token,
		"flow_token_signature": flowtoken.SignJWT(f.token, []byte("not an app secret"), now.Add(time.Minute))}
	if r := f.send(t, m); r.status != 427 {
		t.Errorf("a JWT under another secret: %d, want 427", r.status)
	}
}

func TestNewFailsClosed(t *testing.T) {
	k, _ := testKeys(t)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	flow := endpoint.NewFlow("f")
	tokens := endpoint.IssuerTokens{Issuer: iss}
	for name, cfg := range map[string]endpoint.Config{
		"no key":        {Signatures: sig, Tokens: tokens},
		"no app secret": {Keys: pk, Tokens: tokens},
		"no tokens":     {Keys: pk, Signatures: sig},
	} {
		if _, err := endpoint.New(cfg, flow); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// FuzzDecryptedRequest sends arbitrary decrypted payloads through the whole
// handler: whatever they hold, the answer has a status from the protocol
// and the server does not crash.
func FuzzDecryptedRequest(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{
		`{"version":"3.0","action":"ping"}`,
		`{"version":"3.0","action":"INIT","screen":"","data":{},"flow_token":"x"}`,
		`{"action":"data_exchange","screen":"DATE","data":{"error":1}}`,
		`{"action":"data_exchange","screen":"DATE","data":{"error_message":"x"}}`,
		`{"action":"BACK","data":[]}`, `[]`, `null`, `{"data":"x"}`,
	} {
		f.Add([]byte(s))
	}
	tok := fx.token
	f.Add([]byte(`{"version":"4.0","action":"data_exchange","screen":"DATE","data":{"date":"2026-12-01"},"flow_token":"` + tok + `"}`))
	f.Fuzz(func(t *testing.T, plain []byte) {
		body, sess, err := envelope.EncryptRequest(fx.pub, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, fx.srv.URL+"/flows/booking", bytes.NewReader(body))
		req.Header.Set(signature.Header, signature.Sign(appSecret, body))
		resp, err := fx.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200:
			if _, err := sess.DecryptResponse(raw); err != nil {
				t.Fatalf("200 answer does not decrypt: %v", err)
			}
		case 400, 427, 500, 504:
		default:
			t.Fatalf("status %d for %q", resp.StatusCode, plain)
		}
	})
}

// failingTokens is a validator whose store is down.
type failingTokens struct{}

func (failingTokens) ValidateToken(context.Context, string, string) (flowtoken.Claims, error) {
	return flowtoken.Claims{}, errors.New("database is down")
}

func TestTokenValidatorFailureIs500(t *testing.T) {
	f := newFixture(t, func(c *endpoint.Config) { c.Tokens = failingTokens{} })
	r := f.send(t, map[string]any{"version": "3.0", "action": "INIT", "flow_token": f.token})
	if r.status != 500 || !strings.Contains(string(r.raw), "cannot check the flow token") {
		t.Fatalf("status %d %q, want 500: a 427 would disable the user's button", r.status, r.raw)
	}
}

// hangingTokens is a validator whose store answers only when told to give up.
type hangingTokens struct{}

func (hangingTokens) ValidateToken(ctx context.Context, _, _ string) (flowtoken.Claims, error) {
	<-ctx.Done()
	return flowtoken.Claims{}, ctx.Err()
}

// The deadline covers the token check too: a hanging token store gets
// WhatsApp a 504 at the deadline, not an answer after the server's write
// timeout or none at all.
func TestTokenCheckUnderTheDeadline(t *testing.T) {
	f := newFixture(t, func(c *endpoint.Config) {
		c.Tokens = hangingTokens{}
		c.Timeout = 100 * time.Millisecond
	})
	start := time.Now()
	r := f.send(t, map[string]any{"version": "3.0", "action": "INIT", "flow_token": f.token})
	if r.status != 504 || !strings.Contains(string(r.raw), "could not be checked in time") {
		t.Fatalf("status %d %q, want 504", r.status, r.raw)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("answered after %v", took)
	}
}
