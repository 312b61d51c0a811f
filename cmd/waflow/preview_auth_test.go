package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveProduction runs serve with real (not development) keys, the
// preview on with secret, listening on addr; it returns the address and
// the log.
func serveProduction(t *testing.T, addr, secret string) (string, *syncBuffer) {
	t.Helper()
	dev, lerr := seededDevelopment(t, t.TempDir())
	if lerr != nil {
		t.Fatal(lerr)
	}
	cfg := baseServeConfig(t.TempDir())
	cfg.addr, cfg.logLevel = addr, "warn"
	cfg.privateKey, cfg.appSecrets, cfg.tokenSecret, cfg.verifyToken = dev.PrivateKeyPEM, "an-app-secret", strings.Repeat("t", 32), "a-verify-token"
	cfg.preview, cfg.previewSecret = "true", secret
	logs := &syncBuffer{}
	env := &Env{Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan struct{})
	var err error
	go func() { err = runServe(ctx, env, cfg, ready); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case a := <-ready:
		_, port, _ := net.SplitHostPort(a)
		return "http://127.0.0.1:" + port, logs
	case <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", nil
}

// TestServePreviewSecret: a production server with the preview on serves
// it only with its secret, its /act sends only the tokens it issued, and
// it warns once that it listens beyond loopback.
func TestServePreviewSecret(t *testing.T) {
	t.Parallel()
	const secret = "the-preview-secret-0123456789abc"
	base, logs := serveProduction(t, "0.0.0.0:0", secret)
	do := func(method, path, body, auth string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			json.NewDecoder(resp.Body).Decode(&m)
		}
		return resp.StatusCode, m
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/preview/", ""},
		{"GET", "/preview/flow/appointment_booking", ""},
		{"GET", "/preview/api/flows/appointment_booking/source", ""},
		{"GET", "/preview/static/app.js", ""},
		{"POST", "/preview/api/flows/appointment_booking/start", "{}"},
		{"POST", "/preview/api/flows/appointment_booking/act", `{"op":"ping"}`},
	} {
		for _, auth := range []string{"", "the-preview-secret-0123456789abX"} {
			if code, _ := do(r.method, r.path, r.body, auth); code != 401 {
				t.Errorf("%s %s with %q: %d, want 401", r.method, r.path, auth, code)
			}
		}
		want := 200
		if strings.HasSuffix(r.path, "/act") {
			want = 403 // no token of this preview
		}
		if code, m := do(r.method, r.path, r.body, secret); code != want {
			t.Errorf("%s %s with the secret: %d %v, want %d", r.method, r.path, code, m, want)
		}
	}
	// A session started in the preview goes through to the endpoint; the
	// same request with a token the preview did not issue does not.
	code, started := do("POST", "/preview/api/flows/appointment_booking/start", "{}", secret)
	if code != 200 || started["token_seal"] == "" {
		t.Fatalf("start: %d %v", code, started)
	}
	ping := func(token, seal any) int {
		b, _ := json.Marshal(map[string]any{"state": started["state"], "flow_token": token, "token_seal": seal, "op": "ping"})
		code, _ := do("POST", "/preview/api/flows/appointment_booking/act", string(b), secret)
		return code
	}
	if code := ping(started["flow_token"], started["token_seal"]); code != 200 {
		t.Errorf("ping with the preview's token: %d", code)
	}
	if code := ping("a-token-from-elsewhere", started["token_seal"]); code != 403 {
		t.Errorf("ping with another token: %d, want 403", code)
	}
	if n := strings.Count(logs.String(), "the preview at /preview/ is reachable beyond loopback"); n != 1 {
		t.Errorf("%d warnings about the preview's reach, want 1; log:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("the log holds the preview secret")
	}
}

// TestWarnPreviewReach: the warning names an address beyond loopback, and
// loopback addresses get none.
func TestWarnPreviewReach(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr   string
		warned bool
	}{
		{"127.0.0.1:8080", false},
		{"127.0.0.2:8080", false},
		{"[::1]:8080", false},
		{"0.0.0.0:8080", true},
		{"[::]:8080", true},
		{"10.1.2.3:8080", true},
		{"[2001:db8::1]:8080", true},
	} {
		for _, secret := range []bool{false, true} {
			var buf bytes.Buffer
			a, err := net.ResolveTCPAddr("tcp", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			warnPreviewReach(slog.New(slog.NewTextHandler(&buf, nil)), a, secret)
			got := buf.String()
			if warned := strings.Contains(got, "level=WARN") && strings.Contains(got, "beyond loopback"); warned != tt.warned {
				t.Errorf("%s (secret %v): logged %q, want a warning: %v", tt.addr, secret, got, tt.warned)
			}
			if tt.warned && secret == strings.Contains(got, "needs no secret") {
				t.Errorf("%s (secret %v): %q does not say whether a secret guards it", tt.addr, secret, got)
			}
		}
	}
}

// TestCheckPreviewSecret: the preview is refused with real keys and no
// secret, whatever turned it on; development needs none.
func TestCheckPreviewSecret(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		setting, secret string
		dev             bool
		want            string
	}{
		{"true", "", false, "the preview is on with real keys"},
		{"1", "", false, "the preview is on with real keys"},
		{"true", "short", false, "the preview secret is 5 bytes"},
		{"true", "short", true, "the preview secret is 5 bytes"},
		{"yes", "", false, `preview "yes": want true, false or auto`},
		{"true", strings.Repeat("s", 16), false, ""},
		{"false", "", false, ""},
		{"auto", "", false, ""},
		{"auto", "", true, ""},
		{"true", "", true, ""},
	} {
		err := checkPreviewSecret(tt.setting, tt.secret, tt.dev)
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("checkPreviewSecret(%q, %q, dev %v) = %v, want %q", tt.setting, tt.secret, tt.dev, err, tt.want)
		}
	}
}
