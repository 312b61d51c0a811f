//go:build linux

package forward_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/forward"
	"github.com/waflow/waflow/internal/loadgen"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/stdwebhooks"
)

// The comparison's server runs in a child process (this test binary again,
// with compareServeEnv set), so that its CPU time is the endpoint's own:
// the load generator and the trivial backend stay in the test process.
const (
	compareServeEnv = "WAFLOW_FORWARD_COMPARE_SERVE"
	// compareDurationEnv turns the smoke run into the measurement: each
	// load run lasts this long (docs/performance.md, "Forwarded flows").
	compareDurationEnv = "WAFLOW_FORWARD_COMPARE_DURATION"
	compareRoundsEnv   = "WAFLOW_FORWARD_COMPARE_ROUNDS"
)

func TestMain(m *testing.M) {
	if os.Getenv(compareServeEnv) != "" {
		serveCompare()
		return
	}
	os.Exit(m.Run())
}

// serveCompare serves the two-screen flow twice on 127.0.0.1, at
// /flows/builtin answered by Go handlers and at /flows/forwarded answered
// by the backend, with the same keys, checks and Flow JSON; it prints its
// address and serves until its standard input closes.
func serveCompare() {
	fail := func(err error) { fmt.Fprintln(os.Stderr, "compare server:", err); os.Exit(2) }
	k, err := keys.ParsePrivateKey([]byte(os.Getenv("COMPARE_KEY")), nil)
	if err != nil {
		fail(err)
	}
	spec, problems := flowjson.ValidateSource([]byte(twoScreens))
	if problems.HasErrors() {
		fail(problems.Err())
	}
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New([]byte(os.Getenv("COMPARE_APP_SECRET")))
	iss, _ := flowtoken.NewIssuer([]byte(os.Getenv("COMPARE_TOKEN_SECRET")))
	log := slog.New(slog.DiscardHandler)
	cfg := endpoint.Config{Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss}, Logger: log}

	builtin := endpoint.NewFlowFromJSON("builtin", spec)
	builtin.Use(endpoint.CheckValues(endpoint.ValueCheck{Spec: spec, Logger: log}))
	builtin.HandleInit(func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("WELCOME", map[string]any{"greeting": "Hello"}), nil
	})
	builtin.HandleDataExchange("WELCOME", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		var d struct {
			Name string `json:"name"`
		}
		if err := r.Decode(&d); err != nil {
			return nil, err
		}
		return endpoint.Next("CONFIRM", map[string]any{"summary": "Booking for " + d.Name}), nil
	})
	builtin.HandleDataExchange("CONFIRM", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Success(map[string]any{"booking": 42}), nil
	})
	fw, err := forward.New(forward.Config{URL: os.Getenv("COMPARE_BACKEND"), Secret: os.Getenv("COMPARE_BACKEND_SECRET"), Spec: spec, Logger: log})
	if err != nil {
		fail(err)
	}
	mux := http.NewServeMux()
	for _, f := range []*endpoint.Flow{builtin, fw.Flow("forwarded")} {
		h, err := endpoint.New(cfg, f)
		if err != nil {
			fail(err)
		}
		mux.Handle("POST /flows/"+f.Name(), h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	fmt.Println(ln.Addr().String())
	if p := os.Getenv("COMPARE_CPUPROFILE"); p != "" {
		// The server's profile, written when the test ends.
		f, err := os.Create(p)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
	}
	go func() { io.Copy(io.Discard, os.Stdin); pprof.StopCPUProfile(); os.Exit(0) }()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fail(srv.Serve(ln))
}

// TestForwardedVsBuiltin loads the two-screen flow's WELCOME submit, in
// step mode at 8 clients, once forwarded to a trivial backend and once
// answered by Go handlers, alternating, against one server process. Under
// -short it is skipped; by default it is a smoke run of a few requests; with
// WAFLOW_FORWARD_COMPARE_DURATION=10s it is the measurement of
// docs/performance.md and logs the figures (go test -v).
func TestForwardedVsBuiltin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process and loads it: not under -short")
	}
	var dur time.Duration
	requests, rounds := int64(40), 1
	if s := os.Getenv(compareDurationEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s: %v", compareDurationEnv, err)
		}
		dur, requests, rounds = d, 0, 3
		if n, err := strconv.Atoi(os.Getenv(compareRoundsEnv)); err == nil && n > 0 {
			rounds = n
		}
	}

	// The trivial backend, as any language would write it (signature
	// checked, the next screen answered), in this process.
	secret := stdwebhooks.NewSecret()
	_, backend := newBackend(t, secret, twoScreenAnswers)

	k := testkeys.Key(0)
	keyPEM, _ := keys.MarshalPrivateKey(k, nil)
	appSecret, tokenSecret := "compare-app-secret", "compare-token-secret-0123456789"
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), compareServeEnv+"=1", "COMPARE_KEY="+string(keyPEM),
		"COMPARE_APP_SECRET="+appSecret, "COMPARE_TOKEN_SECRET="+tokenSecret,
		"COMPARE_BACKEND="+backend.URL, "COMPARE_BACKEND_SECRET="+secret)
	if os.Getenv("GOMAXPROCS") == "" {
		// As waflow serve runs the pure-Go backend: one P more than the
		// decryption slots (cmd/waflow/procs.go).
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(runtime.NumCPU()+1))
	}
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("compare server: %v", err)
	}
	base := "http://" + strings.TrimSpace(addr) + "/flows/"

	iss, _ := flowtoken.NewIssuer([]byte(tokenSecret))
	sc, err := simulator.ParseScenario([]byte(`{"steps": [{"screen": "WELCOME", "fill": {"name": "Ada"}, "expect": {"screen": "CONFIRM"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]loadgen.Source{}
	for _, name := range []string{"forwarded", "builtin"} {
		token, _, err := iss.Issue(name, loadgen.WAID(0))
		if err != nil {
			t.Fatal(err)
		}
		src, err := loadgen.NewStep(t.Context(), loadgen.StepOptions{
			Client:   simulator.Config{Flow: spec(t), Name: name, URL: base + name, PublicKey: &k.PublicKey, AppSecret: []byte(appSecret), FlowToken: token},
			Scenario: sc, Name: "WELCOME submit", Step: 2, Pool: 64,
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sources[name] = src
	}

	rsaCPU := rsaCPUPerOp(t, k)
	type total struct {
		ok                    int64
		elapsed, cpu, genCPU  float64
		p50s, p90s, p99s, rps []float64
	}
	totals := map[string]*total{"forwarded": {}, "builtin": {}}
	run := func(name string) {
		sysBefore := systemCPU(t, cmd.Process.Pid)
		before, err := loadgen.ReadProcess(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		res, err := loadgen.Run(t.Context(), loadgen.Config{URL: base + name, Source: sources[name], Concurrency: 8, Requests: requests, Duration: dur})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after, err := loadgen.ReadProcess(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed > 0 || res.OK == 0 {
			t.Fatalf("%s: %d ok, %d failed: %+v", name, res.OK, res.Failed, res.Errors)
		}
		cpu := after.CPUSeconds - before.CPUSeconds
		sys := systemCPU(t, cmd.Process.Pid) - sysBefore
		tt := totals[name]
		tt.ok += res.OK
		tt.elapsed += res.Elapsed
		tt.cpu += cpu
		tt.genCPU += res.GeneratorCPUSeconds
		tt.p50s = append(tt.p50s, res.Latency.P50)
		tt.p90s = append(tt.p90s, res.Latency.P90)
		tt.p99s = append(tt.p99s, res.Latency.P99)
		tt.rps = append(tt.rps, res.PerSecond)
		t.Logf("%-9s %7.0f ok/s  p50 %5.2f ms  p90 %5.2f ms  p99 %5.2f ms  server CPU %4.0f µs/req (%3.0f in the kernel; RSS %.0f MB)  generator+backend CPU %4.0f µs/req",
			name, res.PerSecond, res.Latency.P50, res.Latency.P90, res.Latency.P99, cpu/float64(res.OK)*1e6, sys/float64(res.OK)*1e6, after.ResidentMB, res.GeneratorCPUSeconds/float64(res.OK)*1e6)
	}
	if dur > 0 {
		// Warm both paths (connections to the backend, the heap) first.
		for _, name := range []string{"forwarded", "builtin"} {
			loadgen.Run(t.Context(), loadgen.Config{URL: base + name, Source: sources[name], Concurrency: 8, Duration: dur / 5})
		}
	}
	names := []string{"forwarded", "builtin"}
	if only := os.Getenv("COMPARE_ONLY"); only != "" {
		names = []string{only} // one flow alone, e.g. for its profile
	}
	for range rounds {
		for _, name := range names {
			run(name)
		}
	}
	if len(names) == 1 {
		return
	}
	median := func(xs []float64) float64 { s := slices.Clone(xs); slices.Sort(s); return s[len(s)/2] }
	rate := map[string]float64{}
	for _, name := range []string{"forwarded", "builtin"} {
		tt := totals[name]
		rate[name] = float64(tt.ok) / tt.elapsed
		cpu := tt.cpu / float64(tt.ok) * 1e6
		t.Logf("%-9s overall %7.0f ok/s  median p50 %5.2f ms  p90 %5.2f ms  p99 %5.2f ms  server CPU %4.0f µs/req, outside RSA %4.0f µs/req; generator+backend %4.0f µs/req",
			name, rate[name], median(tt.p50s), median(tt.p90s), median(tt.p99s), cpu, cpu-rsaCPU*1e6, tt.genCPU/float64(tt.ok)*1e6)
	}
	t.Logf("RSA-2048 decryption: %.0f µs of CPU each (one goroutine); forwarded/builtin throughput %.3f", rsaCPU*1e6, rate["forwarded"]/rate["builtin"])
	if dur > 0 && rate["forwarded"] < 0.85*rate["builtin"] {
		t.Errorf("forwarded throughput %.0f/s is under 85%% of the built-in %.0f/s", rate["forwarded"], rate["builtin"])
	}
}

// rsaCPUPerOp is the CPU time of one RSA-OAEP decryption with k, measured
// on one goroutine of this process: what every request costs the server
// before anything else.
func rsaCPUPerOp(t *testing.T, k *rsa.PrivateKey) float64 {
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &k.PublicKey, make([]byte, 16), nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for range n {
		if _, err := rsa.DecryptOAEP(sha256.New(), nil, k, ct, nil); err != nil {
			t.Fatal(err)
		}
	}
	return (threadCPU() - start) / n
}

// systemCPU is the CPU time process pid spent in the kernel, in seconds
// (stime, the 15th field of /proc/PID/stat, in clock ticks of 1/100 s).
func systemCPU(t *testing.T, pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ticks, err := strconv.ParseFloat(fields[12], 64) // field 15
	if err != nil {
		t.Fatal(err)
	}
	return ticks / 100
}

// threadCPU is the calling thread's CPU time in seconds.
func threadCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
