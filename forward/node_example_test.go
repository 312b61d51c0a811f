package forward_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/forward"
	"github.com/waflow/waflow/stdwebhooks"
)

// nodeExample is the Node.js backend of examples/node-backend.
const nodeExample = "../examples/node-backend"

// startNodeExample runs the example's server.js on a free port with secret
// and returns its base URL; it stops when the test ends.
func startNodeExample(t *testing.T, secret string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the Node.js example is not tested (CI installs node and runs it)")
	}
	if _, err := os.Stat(filepath.Join(nodeExample, "node_modules", "standardwebhooks")); err != nil {
		msg := "the example's packages are not installed: run (cd examples/node-backend && npm ci)"
		if testing.Short() {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "server.js")
	cmd.Dir = nodeExample
	cmd.Env = append(os.Environ(), "PORT=0", "HOST=127.0.0.1", "TABLE_BOOKING_SECRET="+secret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	done := make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "listening on "); ok {
				addr <- a
			}
			logs.WriteString(line + "\n")
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		cmd.Wait()
		if t.Failed() {
			t.Logf("node server output:\n%s%s", logs.String(), stderr.String())
		}
	})
	select {
	case a := <-addr:
		return a
	case <-done:
		t.Fatalf("the node server stopped: %s", stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("the node server did not start in 15 s: %s", stderr.String())
	}
	return ""
}

// TestNodeExample: the simulator plays the example's flow end to end
// through waflow's endpoint and the Node.js backend (dynamic dropdown, a
// field error, SUCCESS), and the backend refuses requests that waflow did
// not sign.
func TestNodeExample(t *testing.T) {
	secret := stdwebhooks.NewSecret()
	base := startNodeExample(t, secret)

	src, err := os.ReadFile(filepath.Join(nodeExample, "flows", "table_booking.json"))
	if err != nil {
		t.Fatal(err)
	}
	spec, problems := flowjson.ValidateSource(src)
	if problems.HasErrors() {
		t.Fatalf("the example's Flow JSON: %v", problems.Err())
	}
	var obs observations
	f, err := forward.NewFlow("table_booking", forward.Config{URL: base + "/flows/table_booking", Secret: secret, Observe: obs.add})
	if err != nil {
		t.Fatal(err)
	}
	h := flowtest.NewHarness(t, spec, f, flowtest.HarnessOptions{})
	ctx := t.Context()

	s := h.Session(t)
	if st, err := s.Start(ctx); err != nil || !st.OK() || st.To != "PICK" {
		t.Fatalf("INIT: %v %v, to %q", err, st.Err(), st.To)
	}
	slots, _ := s.Data()["slots"].([]any)
	if len(slots) != 6 {
		t.Fatalf("the dropdown's options: %v", s.Data()["slots"])
	}
	first := slots[0].(map[string]any)
	if first["id"] != "18:00" || first["title"] != "18:00 (2 left)" {
		t.Errorf("first option %v", first)
	}

	// A field error: one name is not a full name.
	s.Set("slot", "18:00")
	s.Set("name", "Ada")
	st, err := s.Submit(ctx)
	if err != nil || !st.OK() || st.To != "PICK" {
		t.Fatalf("submit with a short name: %v %v, to %q", err, st.Err(), st.To)
	}
	if s.Data()["name_error"] != "Please give your full name" || s.Data()["slot_error"] != "" || st.ErrorMessage != "Please check the form" {
		t.Errorf("field errors: %v, snackbar %q", s.Data(), st.ErrorMessage)
	}

	s.Set("name", "Ada Lovelace")
	if st, err := s.Submit(ctx); err != nil || !st.OK() || st.To != "CONFIRM" {
		t.Fatalf("submit: %v %v, to %q", err, st.Err(), st.To)
	}
	if s.Data()["summary"] != "A table at 18:00 for Ada Lovelace" {
		t.Errorf("CONFIRM data %v", s.Data())
	}
	if st, err := s.Submit(ctx); err != nil || !st.OK() || st.To != "SUCCESS" {
		t.Fatalf("book: %v %v, to %q", err, st.Err(), st.To)
	}
	params := s.Completion().ResponseJSON
	if params["booking_id"] != "TB-1" || params["slot"] != "18:00" || params["name"] != "Ada Lovelace" {
		t.Errorf("completion %v", params)
	}

	// The dropdown is dynamic: the next user sees one table less at 18:00.
	s2 := h.Session(t)
	if st, err := s2.Start(ctx); err != nil || !st.OK() {
		t.Fatalf("second INIT: %v %v", err, st.Err())
	}
	if first := s2.Data()["slots"].([]any)[0].(map[string]any); first["title"] != "18:00 (1 left)" {
		t.Errorf("after a booking, first option %v", first)
	}
	for _, o := range obs.list() {
		if o.Outcome != forward.OutcomeAnswered {
			t.Errorf("observation %+v", o)
		}
	}

	// The example refuses what waflow did not sign.
	post := func(header http.Header) int {
		body := []byte(`{"id":"msg_x","flow":"table_booking","action":"INIT","screen":"","data":{},"flow_token":"t","flow_token_checked":true,"data_api_version":"3.0"}`)
		req, _ := http.NewRequest(http.MethodPost, base+"/flows/table_booking", bytes.NewReader(body))
		req.Header = header
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(http.Header{}); got != http.StatusUnauthorized {
		t.Errorf("unsigned request: %d, want 401", got)
	}
	forger, _ := stdwebhooks.NewSigner(stdwebhooks.NewSecret())
	forged := http.Header{}
	forger.SetHeaders(forged, "msg_x", time.Now(), []byte(`{"id":"msg_x","flow":"table_booking","action":"INIT","screen":"","data":{},"flow_token":"t","flow_token_checked":true,"data_api_version":"3.0"}`))
	if got := post(forged); got != http.StatusUnauthorized {
		t.Errorf("request signed with another secret: %d, want 401", got)
	}
	genuine, _ := stdwebhooks.NewSigner(secret)
	signed := http.Header{}
	genuine.SetHeaders(signed, "msg_x", time.Now(), []byte(`{"id":"msg_x","flow":"table_booking","action":"INIT","screen":"","data":{},"flow_token":"t","flow_token_checked":true,"data_api_version":"3.0"}`))
	if got := post(signed); got != http.StatusOK {
		t.Errorf("request signed with the secret: %d, want 200", got)
	}
}
