package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/loadgen"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
)

// benchTarget is a development data folder and, on 127.0.0.1, an endpoint
// for its keys serving the flow "demo", and a webhook receiver that checks
// signatures.
type benchTarget struct {
	dataDir     string
	endpointURL string
	webhookURL  string
	webhooks    *int
}

func startBenchTarget(t *testing.T) *benchTarget {
	t.Helper()
	dev, err := seededDevelopment(t, t.TempDir()) // the files "waflow serve" writes
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keys.ParsePrivateKey([]byte(dev.PrivateKeyPEM), nil)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := envelope.NewPrivateKeys(priv)
	sig, _ := signature.New([]byte(dev.AppSecret))
	iss, _ := flowtoken.NewIssuer([]byte(dev.TokenSecret))
	flow := endpoint.NewFlow("demo")
	flow.HandleInit(func(ctx context.Context, req *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("START", nil), nil
	})
	h, err := endpoint.New(endpoint.Config{Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, flow)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	webhooks := 0
	mux := http.NewServeMux()
	mux.Handle("POST /flows/demo", h)
	mux.HandleFunc("POST /webhook", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var n struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Messages []struct {
							Interactive struct {
								NFMReply struct {
									ResponseJSON string `json:"response_json"`
								} `json:"nfm_reply"`
							} `json:"interactive"`
						} `json:"messages"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if sig.Verify(body, r.Header.Get(signature.Header)) != nil || json.Unmarshal(body, &n) != nil {
			http.Error(w, "bad webhook", http.StatusUnauthorized)
			return
		}
		var resp struct {
			FlowToken string `json:"flow_token"`
		}
		json.Unmarshal([]byte(n.Entry[0].Changes[0].Value.Messages[0].Interactive.NFMReply.ResponseJSON), &resp)
		if _, err := iss.Verify(resp.FlowToken, "demo"); err != nil {
			http.Error(w, "flow token: "+err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		webhooks++
		mu.Unlock()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &benchTarget{dataDir: filepath.Dir(dev.Dir), endpointURL: srv.URL + "/flows/demo", webhookURL: srv.URL + "/webhook", webhooks: &webhooks}
}

func runWaflow(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(t.Context(), args, &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

// TestBenchAgainstDevelopmentKeys runs each mode against a server with
// the development keys, which bench finds by itself in the data folder.
func TestBenchAgainstDevelopmentKeys(t *testing.T) {
	t.Parallel()
	tg := startBenchTarget(t)
	code, out, errs := runWaflow(t, "bench", "-data-dir", tg.dataDir, "-c", "2", "-n", "20", tg.endpointURL)
	if code != 0 {
		t.Fatalf("ping: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"ping -> " + tg.endpointURL + " (closed loop, 2 clients)", "20 ok, 0 failed", "p99 "} {
		if !strings.Contains(out, want) {
			t.Errorf("ping report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, " ok ") {
		t.Errorf("no progress line on stderr: %q", errs)
	}

}

// TestBenchAgainstServe runs every mode against a development "waflow
// serve", whose token check accepts only tokens recorded in its database.
func TestBenchAgainstServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := baseServeConfig(dir)
	cfg.logLevel = "error"
	cfg.requireJWT = "true" // Data API 4.0 requests must carry flow_token_signature
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- runServe(ctx, env, cfg, ready) }()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("serve: %v", err)
	}
	flowURL := "http://" + addr + "/flows/appointment_booking"

	code, out, errs := runWaflow(t, "bench", "-data-dir", dir, "-mode", "init", "-rate", "200", "-n", "10", "-json", "-q", "-pid", itoa(os.Getpid()), flowURL)
	if code != 0 || errs != "" {
		t.Fatalf("init: exit %d\n%s%s", code, out, errs)
	}
	var res loadgen.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-json output: %v\n%s", err, out)
	}
	if res.Mode != "init" || res.OK != 10 || res.Rate != 200 || res.Latency.P99 <= 0 || res.Server == nil || res.Server.PeakResidentMB <= 0 {
		t.Fatalf("init result %+v", res)
	}

	// Data API 4.0: bench signs the flow tokens as WhatsApp does, which
	// this server requires.
	code, out, errs = runWaflow(t, "bench", "-data-dir", dir, "-mode", "init", "-version", "4.0", "-c", "2", "-n", "6", "-q", flowURL)
	if code != 0 || !strings.Contains(out, "6 ok, 0 failed") {
		t.Fatalf("init -version 4.0: exit %d\n%s%s", code, out, errs)
	}

	// The fourth request of the booking scenario (the DATE screen's submit),
	// repeated.
	code, out, errs = runWaflow(t, "bench", "-data-dir", dir, "-mode", "step", "-scenario", "../../simulator/testdata/scenarios/appointment_booking.json", "-step", "4", "-c", "2", "-n", "8", "-q", flowURL)
	if code != 0 || !strings.Contains(out, "step data_exchange DATE") || !strings.Contains(out, "8 ok, 0 failed") {
		t.Fatalf("step: exit %d\n%s%s", code, out, errs)
	}
	// -flow as its help says: the Flow JSON the scenario is played on, here
	// a file, and the flow its token is minted for (the file's name).
	code, out, errs = runWaflow(t, "bench", "-data-dir", dir, "-mode", "step", "-flow", "../../catalog/flows/appointment_booking.json", "-scenario", "../../simulator/testdata/scenarios/appointment_booking.json", "-step", "4", "-c", "1", "-n", "2", "-q", flowURL)
	if code != 0 || !strings.Contains(out, "2 ok, 0 failed") {
		t.Fatalf("step -flow FILE: exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = runWaflow(t, "bench", "-data-dir", dir, "-mode", "step", "-scenario", "../../simulator/testdata/scenarios/appointment_booking.json", "-step", "99", "-n", "1", flowURL)
	if code != 2 || !strings.Contains(errs, "-step 99: the scenario sends") {
		t.Fatalf("step out of range: exit %d %s", code, errs)
	}

	code, out, errs = runWaflow(t, "bench", "-data-dir", dir, "-mode", "webhook", "-flow", "feedback_survey", "-dup", "0.5", "-c", "3", "-n", "12", "-q", "http://"+addr+"/webhook")
	if code != 0 || !strings.Contains(out, "12 ok, 0 failed") {
		t.Fatalf("webhook: exit %d\n%s%s", code, out, errs)
	}
}

// TestBenchFailures checks that failed requests fail the command, with the
// report saying why.
func TestBenchFailures(t *testing.T) {
	t.Parallel()
	tg := startBenchTarget(t)
	code, out, errs := runWaflow(t, "bench", "-data-dir", tg.dataDir, "-app-secret", "wrong", "-c", "2", "-n", "6", "-q", tg.endpointURL)
	if code != 1 || !strings.Contains(out, "6 status 432") || !strings.Contains(errs, "6 of 6 requests failed") {
		t.Fatalf("wrong app secret: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runWaflow(t, "bench", "-data-dir", tg.dataDir, "-mode", "init", "-flow-token", "forged", "-c", "2", "-n", "4", "-q", tg.endpointURL)
	if code != 1 || !strings.Contains(out, "4 status 427") {
		t.Fatalf("forged flow token: exit %d\n%s%s", code, out, errs)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
