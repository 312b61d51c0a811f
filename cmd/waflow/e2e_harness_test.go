package main

// The end-to-end harness: the real waflow binary, started as a user starts
// it (production configuration through WAFLOW_* variables), and a client
// that plays WhatsApp: it encrypts and signs data-endpoint requests,
// decrypts the answers, and posts signed completion webhooks.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// waflowBinary builds the waflow binary once per test run.
func waflowBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "waflow-e2e-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "waflow")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// e2eEnv is one installation: keys, secrets and a database, shared by the
// server processes started on it.
type e2eEnv struct {
	t           testing.TB
	dir         string
	dbURL       string
	key         *rsa.PrivateKey
	appSecret   []byte
	tokenSecret []byte
	verifyToken string
	store       storage.Store
	tokens      endpoint.StoreTokens
	extraEnv    []string
	binary      string // the waflow binary to run; built from this tree when ""
	addr        string // the next server's listen address; 127.0.0.1:0 when ""
}

// e2eKeyPEM is test key 0 encrypted with the passphrase "e2e passphrase",
// made once: encrypting runs 600,000 rounds of PBKDF2 (seconds under -race).
var e2eKeyPEM = sync.OnceValue(func() []byte {
	b, err := keys.MarshalPrivateKey(testkeys.Key(0), []byte("e2e passphrase"))
	if err != nil {
		panic(err)
	}
	return b
})

// newE2EEnv makes an installation on dbURL ("" for SQLite in a temp folder).
func newE2EEnv(t testing.TB, dbURL string) *e2eEnv {
	t.Helper()
	dir := t.TempDir()
	k := testkeys.Key(0)
	pemKey := e2eKeyPEM()
	os.WriteFile(filepath.Join(dir, "private.pem"), pemKey, 0o600)
	os.WriteFile(filepath.Join(dir, "passphrase"), []byte("e2e passphrase\n"), 0o600)
	e := &e2eEnv{
		t: t, dir: dir, dbURL: dbURL, key: k,
		appSecret:   []byte(randomHex(16)),
		tokenSecret: []byte(randomHex(32)),
		verifyToken: randomHex(8),
	}
	if e.dbURL == "" {
		e.dbURL = filepath.Join(dir, "waflow.db")
	}
	store, err := storage.Open(context.Background(), e.dbURL, storage.Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.store = store
	iss, _ := flowtoken.NewIssuer(e.tokenSecret)
	e.tokens = endpoint.StoreTokens{Issuer: iss, Store: store}
	return e
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// e2eServer is one running waflow serve process.
type e2eServer struct {
	env  *e2eEnv
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	logs *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

// start runs waflow serve on a free port and waits until it serves.
func (e *e2eEnv) start() *e2eServer {
	t := e.t
	t.Helper()
	bin := e.binary
	if bin == "" {
		bin = waflowBinary(t)
	}
	addr := e.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cmd := exec.Command(bin, "serve", "-addr", addr, "-log-level", "info")
	cmd.Env = append(os.Environ(),
		"WAFLOW_DATA_DIR="+e.dir,
		"WAFLOW_DATABASE_URL="+e.dbURL,
		"WAFLOW_PRIVATE_KEY_FILE="+filepath.Join(e.dir, "private.pem"),
		"WAFLOW_PRIVATE_KEY_PASSPHRASE_FILE="+filepath.Join(e.dir, "passphrase"),
		"WAFLOW_APP_SECRET="+string(e.appSecret),
		"WAFLOW_TOKEN_SECRET="+string(e.tokenSecret),
		"WAFLOW_VERIFY_TOKEN="+e.verifyToken,
		// A short lease: after a SIGKILL the restarted server retakes the
		// dead one's claimed events in seconds, not the default minute.
		"WAFLOW_WEBHOOK_LEASE=5s",
		"WAFLOW_WEBHOOK_HANDLER_TIMEOUT=4s",
		// No load balancer to warn: stop at once (a test that drains sets
		// its own in extraEnv, which comes after).
		"WAFLOW_DRAIN_DELAY=0",
	)
	cmd.Env = append(cmd.Env, e.extraEnv...)
	stderr, _ := cmd.StderrPipe()
	s := &e2eServer{env: e, cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	re := regexp.MustCompile(`msg="waflow serving" addr=(\S+)`)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := re.FindStringSubmatch(line); m != nil {
				listening <- m[1]
			}
		}
		cmd.Wait()
	}()
	select {
	case a := <-listening:
		s.base = "http://" + a
	case <-s.done:
		t.Fatalf("waflow serve exited:\n%s", s.Logs())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("waflow serve did not start:\n%s", s.Logs())
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// Logs returns what the server logged so far.
func (s *e2eServer) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Stop ends the server as SIGTERM does and waits for it.
func (s *e2eServer) Stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Kill ends the server with SIGKILL, as a crash does.
func (s *e2eServer) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// issue issues and records a flow token for flow and user.
func (e *e2eEnv) issue(flow, waID string) string {
	e.t.Helper()
	tok, _, err := e.tokens.Issue(context.Background(), flow, waID)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// answer is a data-endpoint answer as the client sees it.
type answer struct {
	Status int
	Raw    string
	Screen string
	Data   map[string]any
	Body   map[string]any
}

// exchange sends one data-endpoint request as WhatsApp does.
func (s *e2eServer) exchange(flow string, req map[string]any) answer {
	t := s.env.t
	t.Helper()
	if _, ok := req["version"]; !ok {
		req["version"] = "4.0"
	}
	plain, _ := json.Marshal(req)
	body, sess, err := envelope.EncryptRequest(&s.env.key.PublicKey, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	hr, _ := http.NewRequest(http.MethodPost, s.base+"/flows/"+flow, bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(signature.Header, signature.Sign(s.env.appSecret, body))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Raw: string(raw)}
	if len(raw) > 0 && (resp.StatusCode == 200 || resp.StatusCode == 427) {
		p, err := sess.DecryptResponse(raw)
		if err != nil {
			t.Fatalf("answer does not decrypt: %v", err)
		}
		json.Unmarshal(p, &a.Body)
		a.Screen, _ = a.Body["screen"].(string)
		a.Data, _ = a.Body["data"].(map[string]any)
	}
	return a
}

// step is exchange for a data_exchange on screen with data.
func (s *e2eServer) step(flow, token, action, screen string, data map[string]any) answer {
	req := map[string]any{"action": action, "flow_token": token}
	if screen != "" {
		req["screen"] = screen
	}
	if data != nil {
		req["data"] = data
	}
	return s.exchange(flow, req)
}

// complete posts the signed nfm_reply webhook of a completed flow and
// returns its status and the completion's message id.
func (s *e2eServer) complete(token, waID string, values map[string]any) (int, string) {
	t := s.env.t
	t.Helper()
	wamid := "wamid.E2E" + randomHex(10)
	v := map[string]any{}
	for k, x := range values {
		v[k] = x
	}
	if token != "" {
		v["flow_token"] = token
	}
	rj, _ := json.Marshal(v)
	body, _ := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": "102290129340398", "time": time.Now().Unix(),
			"changes": []any{map[string]any{"field": "messages", "value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]any{"display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
				"contacts":          []any{map[string]any{"profile": map[string]any{"name": "E2E"}, "wa_id": waID}},
				"messages": []any{map[string]any{
					"from": waID, "id": wamid, "timestamp": fmt.Sprint(time.Now().Unix()), "type": "interactive",
					"interactive": map[string]any{"type": "nfm_reply", "nfm_reply": map[string]any{"name": "flow", "body": "Sent", "response_json": string(rj)}},
				}},
			}}},
		}},
	})
	return s.postWebhook(body), wamid
}

// postWebhook posts a signed webhook body and returns the status.
func (s *e2eServer) postWebhook(body []byte) int {
	t := s.env.t
	hr, _ := http.NewRequest(http.MethodPost, s.base+"/webhook", bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(signature.Header, signature.Sign(s.env.appSecret, body))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitHandled waits until the completion of message wamid was recorded and
// its handler succeeded, or the inbox event was settled without it, and
// returns the inbox event's final state.
func (e *e2eEnv) waitHandled(wamid string) (waflow.InboxEvent, *waflow.Completion) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ev, err := e.store.InboxEventByKey(ctx, "msg:"+wamid)
		if err == nil && ev.State.Final() {
			c, err := e.store.Completion(ctx, wamid)
			if err != nil {
				return ev, nil
			}
			return ev, &c
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("completion %s was not processed in 30 s", wamid)
	return waflow.InboxEvent{}, nil
}

func str(v any) string { s, _ := v.(string); return s }

func strings0(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
