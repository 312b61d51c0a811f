package events_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/stdwebhooks"
)

const nodeExample = "../examples/node-backend"

// startNode runs the example's server.js with an events secret and returns
// its base URL and a function that returns its output so far.
func startNode(t *testing.T, eventsSecret string) (string, func() string) {
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
	cctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(cctx, node, "server.js")
	cmd.Dir = nodeExample
	cmd.Env = append(os.Environ(), "PORT=0", "HOST=127.0.0.1", "TABLE_BOOKING_SECRET="+stdwebhooks.NewSecret(), "EVENTS_SECRET="+eventsSecret)
	var mu sync.Mutex
	var logs bytes.Buffer
	stderr := &lockedWriter{mu: &mu, b: &logs}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done, addr := make(chan struct{}), make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "listening on "); ok {
				addr <- a
			}
			mu.Lock()
			logs.WriteString(line + "\n")
			mu.Unlock()
		}
	}()
	output := func() string { mu.Lock(); defer mu.Unlock(); return logs.String() }
	t.Cleanup(func() {
		cancel()
		<-done
		cmd.Wait()
		if t.Failed() {
			t.Logf("node server output:\n%s", output())
		}
	})
	select {
	case a := <-addr:
		return a, output
	case <-done:
		t.Fatalf("the node server stopped: %s", output())
	case <-time.After(15 * time.Second):
		t.Fatalf("the node server did not start in 15 s: %s", output())
	}
	return "", nil
}

// TestNodeExampleEvents: the Node.js example accepts an event waflow
// delivers (verified with the standardwebhooks npm package), acts on its
// webhook-id once, and refuses a forged one and one signed with another
// secret.
func TestNodeExampleEvents(t *testing.T) {
	secret := stdwebhooks.NewSecret()
	base, output := startNode(t, secret)
	db := openStore(t)
	if _, err := db.PutSubscription(ctx, waflow.Subscription{ID: "node", URL: base + "/events", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	d, _ := events.NewDispatcher(db, nil, quiet)
	id := events.ID(events.BookingCreated, "BK-NODE1")
	if err := d.Emit(ctx, events.Event{ID: id, Type: events.BookingCreated, Data: map[string]any{"ref": "BK-NODE1"}}); err != nil {
		t.Fatal(err)
	}
	drain(t, newSender(t, db, events.SenderConfig{}))
	ds, _ := db.Deliveries(ctx, waflow.DeliveryFilter{})
	if len(ds) != 1 || ds[0].State != waflow.DeliveryDelivered {
		t.Fatalf("the event was not accepted: %+v\n%s", ds, output())
	}
	// Delivered again (at least once): acted on once.
	if err := db.Redeliver(ctx, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	drain(t, newSender(t, db, events.SenderConfig{}))
	if got, _ := db.Delivery(ctx, ds[0].ID); got.State != waflow.DeliveryDelivered {
		t.Fatalf("the redelivery was not accepted: %+v", got)
	}

	body := []byte(`{"id":"msg_forged","type":"booking.created","timestamp":"2026-01-01T00:00:00Z","data":{"ref":"BK-X"}}`)
	post := func(h http.Header) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/events", bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(http.Header{"Content-Type": {"application/json"}}); code != http.StatusUnauthorized {
		t.Errorf("unsigned event answered %d, want 401", code)
	}
	other, _ := stdwebhooks.NewSigner(stdwebhooks.NewSecret())
	h := http.Header{}
	other.SetHeaders(h, "msg_forged", time.Now(), body)
	if code := post(h); code != http.StatusUnauthorized {
		t.Errorf("event signed with another secret answered %d, want 401", code)
	}
	real, _ := stdwebhooks.NewSigner(secret)
	h = http.Header{}
	real.SetHeaders(h, "msg_forged", time.Now().Add(-time.Hour), body)
	if code := post(h); code != http.StatusUnauthorized {
		t.Errorf("event signed an hour ago answered %d, want 401 (replay)", code)
	}
	logs := output()
	if strings.Count(logs, "event "+id+" booking.created received") != 1 || !strings.Contains(logs, "event "+id+" booking.created again") {
		t.Errorf("the example did not act on %s once:\n%s", id, logs)
	}
	if strings.Contains(logs, "msg_forged booking.created received") {
		t.Errorf("the example acted on a forged event:\n%s", logs)
	}
}

// lockedWriter appends to b under mu: the node process's stderr and stdout
// are read by two goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
