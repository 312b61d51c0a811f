package app

import (
	"context"
	"crypto/rsa"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/internal/testkeys"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	k := testkeys.Key(0)
	return Config{
		Addr:                  "127.0.0.1:0",
		DatabaseURL:           filepath.Join(t.TempDir(), "waflow.db"),
		PrivateKeys:           []*rsa.PrivateKey{k},
		AppSecrets:            [][]byte{[]byte("an-app-secret")},
		TokenSecret:           []byte(strings.Repeat("t", 32)),
		TokenTTL:              time.Hour,
		VerifyToken:           "a-verify-token",
		RequestTimeout:        3 * time.Second,
		WebhookLease:          time.Minute,
		WebhookHandlerTimeout: 30 * time.Second,
		OutboxOff:             "no Graph API access token in this test",
		Preview:               true,
		Logger:                slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// TestAppServes builds the server from a Config, serves it until the
// context ends, and closes it: the health checks answer, every catalog
// flow with a data endpoint is routed, and the preview lists the flows in
// the registry's order.
func TestAppServes(t *testing.T) {
	a, err := New(t.Context(), testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got, want := a.Flows().Names(), catalog.Names; !slices.Equal(got, want) {
		t.Errorf("flows %v, want the catalog's %v", got, want)
	}
	var want []string
	for _, f := range a.Flows().Flows() {
		if f.UsesEndpoint() {
			want = append(want, "/flows/"+f.Name)
		}
	}
	slices.Sort(want)
	if got := a.EndpointPaths(); len(got) == 0 || !slices.Equal(got, want) {
		t.Errorf("endpoint paths %v, want %v", got, want)
	}
	if !a.HasWebhook() || !a.HasPreview() {
		t.Errorf("webhook %v, preview %v; want both", a.HasWebhook(), a.HasPreview())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := get(p); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	code, index := get("/preview/")
	if code != 200 {
		t.Fatalf("/preview/: %d", code)
	}
	last := -1
	for _, n := range a.Flows().Names() {
		i := strings.Index(index, "/preview/flow/"+n)
		if i < 0 || i < last {
			t.Errorf("the preview lists %s at %d, after %d: want the registry's order", n, i, last)
		}
		last = i
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after the context ended: %v", err)
	}
}

// TestAppNeedsVerifyToken: the webhook receiver cannot answer Meta's
// handshake without its token, so New refuses to build without one.
func TestAppNeedsVerifyToken(t *testing.T) {
	cfg := testConfig(t)
	cfg.VerifyToken = ""
	if _, err := New(t.Context(), cfg); err == nil {
		t.Fatal("New without a verify token succeeded")
	}
}
