package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waflow/waflow/internal/loadgen"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
)

// TestRollingRestartBehindCaddy: two waflow serve replicas on one
// PostgreSQL database behind Caddy (Debian's package) on 127.0.0.1, under
// load: "waflow bench" sending data-endpoint pings at half of the peak it
// measured through the proxy first, and two clients posting completion
// webhooks; each replica is stopped with SIGTERM and started again in
// turn. No request fails, and every webhook acknowledged is in the inbox
// and processed.
//
// It needs PostgreSQL (WAFLOW_TEST_POSTGRES_URL) and caddy on PATH;
// without caddy it skips, unless WAFLOW_TEST_CADDY is set (.ci/run sets
// it), which makes it fail.
func TestRollingRestartBehindCaddy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: two servers, a proxy and restarts")
	}
	caddy, err := exec.LookPath("caddy")
	if err != nil {
		if os.Getenv("WAFLOW_TEST_CADDY") != "" {
			t.Fatal("caddy not found and WAFLOW_TEST_CADDY is set (Debian: apt-get install caddy)")
		}
		t.Skip("caddy not found: install it (Debian: apt-get install caddy) to run the rolling-restart test")
	}
	e := newE2EEnv(t, postgresE2EURL(t))
	const drain = 2 * time.Second
	e.extraEnv = []string{"WAFLOW_DRAIN_DELAY=" + drain.String(), "WAFLOW_SHUTDOWN_TIMEOUT=10s"}
	addrs := []string{freeTCPAddr(t), freeTCPAddr(t)}
	replicas := make([]*e2eServer, 2)
	for i, a := range addrs {
		e.addr = a
		replicas[i] = e.start()
	}
	proxy := startCaddy(t, caddy, addrs)

	// waflow bench: the peak of pings through the proxy, then half of it
	// in an open loop for the rest of the test.
	pub, _ := keys.MarshalPublicKey(&e.key.PublicKey)
	pubFile := filepath.Join(e.dir, "public.pem")
	os.WriteFile(pubFile, pub, 0o600)
	benchArgs := []string{"bench", "-mode", "ping", "-q", "-json", "-public-key", pubFile}
	benchEnv := append(os.Environ(), "WAFLOW_APP_SECRET="+string(e.appSecret))
	peakCmd := exec.Command(waflowBinary(t), append(benchArgs, "-c", "8", "-d", "3s", proxy+"/flows/appointment_booking")...)
	peakCmd.Env = benchEnv
	out, err := peakCmd.Output()
	var peak loadgen.Result
	if err != nil || json.Unmarshal(out, &peak) != nil || peak.PerSecond <= 0 {
		t.Fatalf("bench at peak: %v\n%s", err, out)
	}
	rate := peak.PerSecond / 2
	t.Logf("peak through Caddy: %.0f pings/s (8 clients); the rolling restart runs at %.0f/s", peak.PerSecond, rate)
	halfCmd := exec.Command(waflowBinary(t), append(benchArgs, "-rate", fmt.Sprintf("%.0f", rate), "-d", "5m", proxy+"/flows/appointment_booking")...)
	halfCmd.Env = benchEnv
	var halfOut, halfErr bytes.Buffer
	halfCmd.Stdout, halfCmd.Stderr = &halfOut, &halfErr
	if err := halfCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { halfCmd.Process.Kill() })

	// The load: data-endpoint pings and completion webhooks, through
	// Caddy, from a few clients that keep their connections.
	ctx, stopLoad := context.WithCancel(context.Background())
	var (
		sent, failed atomic.Int64
		mu           sync.Mutex
		errs         []string
		acked        []string // webhooks answered 200
	)
	fail := func(format string, args ...any) {
		failed.Add(1)
		mu.Lock()
		if len(errs) < 10 {
			errs = append(errs, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Go(func() {
			client := &http.Client{Timeout: 15 * time.Second}
			for n := 0; ctx.Err() == nil; n++ {
				sent.Add(1)
				wamid := fmt.Sprintf("wamid.ROLL%d_%d_%s", c, n, randomHex(4))
				if err := rollingWebhook(client, e, proxy, wamid); err != nil {
					fail("webhook %s: %v", wamid, err)
				} else {
					mu.Lock()
					acked = append(acked, wamid)
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}

	time.Sleep(2 * time.Second)
	for i := range replicas {
		start := time.Now()
		replicas[i].Stop()
		if st := replicas[i].cmd.ProcessState; !st.Success() {
			t.Errorf("replica %d exited with %v", i, st)
		}
		stopped := time.Since(start)
		e.addr = addrs[i]
		replicas[i] = e.start()
		// Let Caddy's health check see it again before the other stops.
		waitReady(t, "http://"+addrs[i]+"/readyz")
		time.Sleep(1500 * time.Millisecond)
		t.Logf("replica %d restarted: stopped in %v, %d requests so far", i, stopped.Round(time.Millisecond), sent.Load())
	}
	time.Sleep(time.Second)
	stopLoad()
	wg.Wait()
	halfCmd.Process.Signal(syscall.SIGINT) // bench prints its result and exits
	halfCmd.Wait()
	var half loadgen.Result
	if err := json.Unmarshal(halfOut.Bytes(), &half); err != nil {
		t.Fatalf("bench result: %v\n%s\n%s", err, halfOut.String(), halfErr.String())
	}
	t.Logf("bench: %d pings at %.0f/s asked (%.0f/s answered), %d failed, p99 %.1f ms; webhooks: %d posted, %d failed",
		half.Requests, rate, half.PerSecond, half.Failed, half.Latency.P99, sent.Load(), failed.Load())
	if half.Failed > 0 || half.Requests < 100 {
		t.Errorf("bench: %d of %d pings failed during the rolling restart: %+v", half.Failed, half.Requests, half.Errors)
	}
	if failed.Load() > 0 {
		t.Errorf("%d webhooks failed during the rolling restart; first ones:\n%s", failed.Load(), joinLines(errs))
	}
	if sent.Load() < 100 {
		t.Errorf("only %d webhooks sent: the load did not run", sent.Load())
	}
	// Every webhook acknowledged is in the inbox and gets processed.
	lost := 0
	for _, wamid := range acked {
		if _, err := e.store.InboxEventByKey(context.Background(), "msg:"+wamid); err != nil {
			lost++
			if lost <= 5 {
				t.Errorf("webhook %s acknowledged but not in the inbox: %v", wamid, err)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged webhooks lost", lost, len(acked))
	}
	if len(acked) > 0 {
		e.waitHandled(acked[len(acked)-1])
		e.waitHandled(acked[0])
	}
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for _, l := range s {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func freeTCPAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready in 30 s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startCaddy runs caddy as a reverse proxy to upstreams on 127.0.0.1,
// checking their /readyz every 500 ms as packaging/Caddyfile does every 2 s,
// and returns its base URL.
func startCaddy(t *testing.T, bin string, upstreams []string) string {
	t.Helper()
	dir := t.TempDir()
	addr := freeTCPAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`{
	admin off
	auto_https off
	http_port %s
	storage file_system %s
}
http://127.0.0.1:%s {
	reverse_proxy %s %s {
		lb_policy least_conn
		health_uri /readyz
		health_interval 500ms
		health_timeout 1s
		lb_try_duration 5s
		lb_try_interval 100ms
	}
}
`, port, filepath.Join(dir, "data"), port, upstreams[0], upstreams[1])
	cfgPath := filepath.Join(dir, "Caddyfile")
	os.WriteFile(cfgPath, []byte(conf), 0o600)
	var out bytes.Buffer
	cmd := exec.Command(bin, "run", "--adapter", "caddyfile", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("caddy's log:\n%s", out.String())
		}
	})
	base := "http://" + addr
	waitReady(t, base+"/readyz")
	return base
}

// rollingWebhook posts a signed completion webhook for message wamid.
func rollingWebhook(client *http.Client, e *e2eEnv, base, wamid string) error {
	now := time.Now().Unix()
	body, _ := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": "102290129340398", "time": now,
			"changes": []any{map[string]any{"field": "messages", "value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]any{"display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
				"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Roll"}, "wa_id": "15550002222"}},
				"messages": []any{map[string]any{
					"from": "15550002222", "id": wamid, "timestamp": fmt.Sprint(now), "type": "interactive",
					"interactive": map[string]any{"type": "nfm_reply", "nfm_reply": map[string]any{"name": "flow", "body": "Sent", "response_json": `{"flow_token":"unknown"}`}},
				}},
			}}},
		}},
	})
	req, _ := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signature.Header, signature.Sign(e.appSecret, body))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, raw)
	}
	return nil
}
