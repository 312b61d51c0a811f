package loadgen_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
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
	"github.com/waflow/waflow/internal/loadgen"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/signature"
)

var (
	appSecret   = []byte("bench-app-secret")
	tokenSecret = []byte("bench-token-secret-0123456789")
	keyOnce     sync.Once
	key, other  *rsa.PrivateKey
)

func testKeys(tb testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	tb.Helper()
	keyOnce.Do(func() {
		key, other = testkeys.Key(0), testkeys.Key(1)
	})
	if key == nil || other == nil {
		tb.Fatal("cannot generate keys")
	}
	return key, other
}

// startEndpoint serves a flow "bench" whose INIT answers the WELCOME screen,
// on 127.0.0.1.
func startEndpoint(tb testing.TB) (url string, iss *flowtoken.Issuer) {
	tb.Helper()
	k, _ := testKeys(tb)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ = flowtoken.NewIssuer(tokenSecret)
	flow := endpoint.NewFlow("bench")
	flow.HandleInit(func(ctx context.Context, req *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("WELCOME", map[string]any{"name": "x"}), nil
	})
	h, err := endpoint.New(endpoint.Config{
		Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, flow)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.URL + "/flows/bench", iss
}

func pingSource(tb testing.TB, pub *rsa.PublicKey, secret []byte) loadgen.Source {
	tb.Helper()
	src, err := loadgen.NewPing(loadgen.EndpointOptions{PublicKey: pub, AppSecret: secret, Pool: 8})
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

func TestPingClosedLoop(t *testing.T) {
	url, _ := startEndpoint(t)
	k, _ := testKeys(t)
	var progress bytes.Buffer
	res, err := loadgen.Run(t.Context(), loadgen.Config{
		URL: url, Source: pingSource(t, &k.PublicKey, appSecret),
		Concurrency: 4, Requests: 60,
		Progress: &progress, ProgressInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 60 || res.OK != 60 || res.Failed != 0 || len(res.Errors) != 0 {
		t.Fatalf("requests %d, ok %d, failed %d, errors %+v; want 60 ok", res.Requests, res.OK, res.Failed, res.Errors)
	}
	l := res.Latency
	if !(0 < l.Min && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("latencies out of order: %+v", l)
	}
	if res.PerSecond <= 0 || res.Concurrency != 4 || res.Mode != "ping" {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(progress.String(), " ok ") {
		t.Errorf("no progress line in %q", progress.String())
	}
	var text bytes.Buffer
	res.WriteText(&text)
	for _, want := range []string{"ping -> " + url + " (closed loop, 4 clients)", "60 ok, 0 failed", "p50 ", "p99 "} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
}

// TestFailuresByKind checks that every wrong answer is caught and named.
func TestFailuresByKind(t *testing.T) {
	url, _ := startEndpoint(t)
	k, otherKey := testKeys(t)
	// A server that seals an answer other than the ping's.
	pk, _ := envelope.NewPrivateKeys(k)
	wrongAnswer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, resp, err := envelope.Open(body, pk)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Write(resp.Seal([]byte(`{"data":{"status":"sleeping"}}`)))
	}))
	defer wrongAnswer.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("bm90IHNlYWxlZCBmb3IgdGhpcyBjbGllbnQ="))
	}))
	defer garbage.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, tt := range []struct {
		name, url string
		src       loadgen.Source
		kind      string
		example   string
	}{
		{"wrong app secret", url, pingSource(t, &k.PublicKey, []byte("not-the-secret")), "status 432", "(empty body)"},
		{"wrong public key", url, pingSource(t, &otherKey.PublicKey, appSecret), "status 421", "cannot decrypt the request"},
		{"answer not sealed for the request", garbage.URL, pingSource(t, &k.PublicKey, appSecret), "decrypt", "does not decrypt"},
		{"wrong answer", wrongAnswer.URL, pingSource(t, &k.PublicKey, appSecret), "answer", "sleeping"},
		{"no server", closed.URL, pingSource(t, &k.PublicKey, appSecret), "transport", "refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := loadgen.Run(t.Context(), loadgen.Config{URL: tt.url, Source: tt.src, Concurrency: 2, Requests: 6})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != 0 || res.Failed != 6 || len(res.Errors) != 1 {
				t.Fatalf("ok %d, failed %d, errors %+v; want 6 failures of one kind", res.OK, res.Failed, res.Errors)
			}
			if e := res.Errors[0]; e.Kind != tt.kind || e.Count != 6 || !strings.Contains(e.Example, tt.example) {
				t.Fatalf("errors %+v, want kind %q with an example saying %q", e, tt.kind, tt.example)
			}
		})
	}
}

func TestInit(t *testing.T) {
	url, iss := startEndpoint(t)
	k, _ := testKeys(t)
	opts := loadgen.EndpointOptions{PublicKey: &k.PublicKey, AppSecret: appSecret, Pool: 4}
	valid, err := loadgen.NewInit(opts, func(i int) (string, error) {
		t, _, err := iss.Issue("bench", "4915100000"+string(rune('0'+i)))
		return t, err
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := loadgen.Run(t.Context(), loadgen.Config{URL: url, Source: valid, Concurrency: 2, Requests: 10})
	if err != nil || res.OK != 10 {
		t.Fatalf("valid tokens: %+v, %v", res, err)
	}
	forged, _ := flowtoken.NewIssuer([]byte("another-secret-0123456789"))
	invalid, _ := loadgen.NewInit(opts, func(int) (string, error) {
		t, _, err := forged.Issue("bench", "491510000000")
		return t, err
	})
	res, _ = loadgen.Run(t.Context(), loadgen.Config{URL: url, Source: invalid, Concurrency: 2, Requests: 4})
	if len(res.Errors) != 1 || res.Errors[0].Kind != "status 427" || !strings.Contains(res.Errors[0].Example, "error_msg") {
		t.Fatalf("forged tokens: errors %+v, want status 427 with the decrypted error_msg", res.Errors)
	}
	if _, err := loadgen.NewInit(opts, nil); err == nil {
		t.Error("NewInit without tokens: no error")
	}
}

// TestInitSignsTokenFor4 checks that Data API 4.0 INIT requests carry the
// flow_token_signature a server with RequireTokenSignature demands.
func TestInitSignsTokenFor4(t *testing.T) {
	k, _ := testKeys(t)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	flow := endpoint.NewFlow("bench")
	flow.HandleInit(func(ctx context.Context, req *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("WELCOME", nil), nil
	})
	h, err := endpoint.New(endpoint.Config{
		Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss}, RequireTokenSignature: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, flow)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for _, version := range []string{"4.0", "3.0"} {
		src, err := loadgen.NewInit(loadgen.EndpointOptions{PublicKey: &k.PublicKey, AppSecret: appSecret, Version: version, Pool: 2},
			func(int) (string, error) { t, _, err := iss.Issue("bench", "491510000000"); return t, err })
		if err != nil {
			t.Fatal(err)
		}
		res, err := loadgen.Run(t.Context(), loadgen.Config{URL: srv.URL, Source: src, Concurrency: 1, Requests: 4})
		if err != nil || res.OK != 4 {
			t.Fatalf("version %s against a server that requires the token signature: %+v, %v", version, res, err)
		}
	}
}

func TestOpenLoop(t *testing.T) {
	url, _ := startEndpoint(t)
	k, _ := testKeys(t)
	src := pingSource(t, &k.PublicKey, appSecret)
	// 200/s for 250 ms: requests are due at 0, 5, ..., 245 ms.
	res, err := loadgen.Run(t.Context(), loadgen.Config{URL: url, Source: src, Rate: 200, Duration: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 50 || res.Rate != 200 || res.Concurrency != 0 {
		t.Fatalf("requests %d, rate %v, concurrency %d; want 50 at 200/s", res.Requests, res.Rate, res.Concurrency)
	}
	res, err = loadgen.Run(t.Context(), loadgen.Config{URL: url, Source: src, Rate: 1000, Requests: 30})
	if err != nil || res.Requests != 30 || res.OK != 30 {
		t.Fatalf("30 requests at 1000/s: %+v, %v", res, err)
	}
}

func TestBounds(t *testing.T) {
	k, _ := testKeys(t)
	src := pingSource(t, &k.PublicKey, appSecret)
	if _, err := loadgen.Run(t.Context(), loadgen.Config{URL: "http://127.0.0.1:1/", Source: src, Concurrency: 1}); !errors.Is(err, loadgen.ErrUnbounded) {
		t.Errorf("no bound: err = %v, want ErrUnbounded", err)
	}
	if _, err := loadgen.Run(t.Context(), loadgen.Config{URL: "http://127.0.0.1:1/", Source: src, Requests: 1}); err == nil {
		t.Errorf("neither concurrency nor rate: no error")
	}
	// A cancelled run stops, reports what it did, and says why it stopped.
	url, _ := startEndpoint(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	res, err := loadgen.Run(ctx, loadgen.Config{URL: url, Source: src, Concurrency: 2, Duration: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) || res == nil || res.Failed != 0 || res.OK == 0 {
		t.Fatalf("cancelled run: %+v, %v", res, err)
	}
}

// TestWebhook receives the deliveries, checks their signature and shape, and
// counts the duplicates.
func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]byte{}
	deliveries := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := signature.Verify(body, r.Header.Get(signature.Header), appSecret); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var n struct {
			Object string `json:"object"`
			Entry  []struct {
				Changes []struct {
					Field string `json:"field"`
					Value struct {
						Messages []struct {
							ID          string `json:"id"`
							Type        string `json:"type"`
							Interactive struct {
								Type     string `json:"type"`
								NFMReply struct {
									Name         string `json:"name"`
									ResponseJSON string `json:"response_json"`
								} `json:"nfm_reply"`
							} `json:"interactive"`
						} `json:"messages"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(body, &n); err != nil || n.Object != "whatsapp_business_account" || len(n.Entry) != 1 || len(n.Entry[0].Changes) != 1 {
			http.Error(w, "not a notification", 400)
			return
		}
		c := n.Entry[0].Changes[0]
		if c.Field != "messages" || len(c.Value.Messages) != 1 {
			http.Error(w, "not one message", 400)
			return
		}
		m := c.Value.Messages[0]
		var resp struct {
			FlowToken string `json:"flow_token"`
		}
		if m.Type != "interactive" || m.Interactive.Type != "nfm_reply" || m.Interactive.NFMReply.Name != "flow" ||
			json.Unmarshal([]byte(m.Interactive.NFMReply.ResponseJSON), &resp) != nil || !strings.HasPrefix(resp.FlowToken, "tok-") {
			http.Error(w, "not a flow completion", 400)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		deliveries++
		if prev, ok := seen[m.ID]; ok && !bytes.Equal(prev, body) {
			http.Error(w, "a duplicate that differs from the first delivery", 400)
			return
		}
		seen[m.ID] = body
	}))
	defer srv.Close()
	src, err := loadgen.NewWebhook(loadgen.WebhookOptions{
		AppSecret: appSecret, DuplicateRatio: 0.25,
		FlowToken: func(m int64) (string, error) { return "tok-" + string(rune('a'+m%26)), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := loadgen.Run(t.Context(), loadgen.Config{URL: srv.URL, Source: src, Concurrency: 3, Requests: 100})
	if err != nil || res.OK != 100 || res.Failed != 0 {
		t.Fatalf("%+v, %v; want 100 ok", res, err)
	}
	// Deliveries 4, 8, ..., 96 repeat the one before: 24 duplicates.
	if deliveries != 100 || len(seen) != 76 {
		t.Fatalf("%d deliveries of %d messages, want 100 of 76", deliveries, len(seen))
	}
	for _, ratio := range []float64{-0.1, 0.95} {
		if _, err := loadgen.NewWebhook(loadgen.WebhookOptions{AppSecret: appSecret, DuplicateRatio: ratio}); err == nil {
			t.Errorf("duplicate ratio %v accepted", ratio)
		}
	}
	if _, err := loadgen.NewWebhook(loadgen.WebhookOptions{}); err == nil {
		t.Error("no app secret accepted")
	}
}

// TestHTTPVariants checks the generator's HTTP client on answers and
// connections net/http's client copes with: Connection: close, chunked
// bodies, idle connections the server closed, and TLS.
func TestHTTPVariants(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil || r.Header.Get(signature.Header) == "" {
			http.Error(w, "bad request", 400)
		}
	}
	src, err := loadgen.NewWebhook(loadgen.WebhookOptions{AppSecret: appSecret})
	if err != nil {
		t.Fatal(err)
	}
	closing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		ok(w, r)
	}))
	defer closing.Close()
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok(w, r)
		w.Write([]byte("part one, "))
		w.(http.Flusher).Flush() // no Content-Length: the body is chunked
		w.Write([]byte("part two"))
	}))
	defer chunked.Close()
	idleClosing := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	idleClosing.Config.IdleTimeout = 10 * time.Millisecond
	idleClosing.Start()
	defer idleClosing.Close()
	tlsServer := httptest.NewTLSServer(http.HandlerFunc(ok))
	defer tlsServer.Close()
	roots := x509.NewCertPool()
	roots.AddCert(tlsServer.Certificate())

	for _, tt := range []struct {
		name string
		cfg  loadgen.Config
	}{
		{"Connection: close", loadgen.Config{URL: closing.URL, Concurrency: 2, Requests: 20}},
		{"chunked", loadgen.Config{URL: chunked.URL, Concurrency: 2, Requests: 20}},
		// 25 requests a second, 40 ms apart: each finds its connection
		// closed by the server's 10 ms idle timeout.
		{"idle connections closed", loadgen.Config{URL: idleClosing.URL, Rate: 25, Requests: 6}},
		{"TLS", loadgen.Config{URL: tlsServer.URL, Concurrency: 2, Requests: 10, TLS: &tls.Config{RootCAs: roots}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Source = src
			res, err := loadgen.Run(t.Context(), tt.cfg)
			if err != nil || res.Failed != 0 || res.OK != tt.cfg.Requests {
				t.Fatalf("%+v, %v; want %d ok", res, err, tt.cfg.Requests)
			}
		})
	}
	// Without the test CA, TLS fails, and says why.
	res, _ := loadgen.Run(t.Context(), loadgen.Config{URL: tlsServer.URL, Source: src, Concurrency: 1, Requests: 1})
	if len(res.Errors) != 1 || res.Errors[0].Kind != "transport" || !strings.Contains(res.Errors[0].Example, "certificate") {
		t.Fatalf("TLS without the CA: %+v", res.Errors)
	}
}
