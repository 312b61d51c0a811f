package outbox_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/outbox"
	"github.com/waflow/waflow/sqlite"
)

// The crash test runs a worker in a child process (this test binary,
// re-executed with crashDBEnv set), kills it with SIGKILL while a send is in
// flight at the fake Graph API, restarts a worker on the same database and
// checks that no message was sent twice.
const (
	crashDBEnv    = "WAFLOW_OUTBOX_CRASH_DB"
	crashGraphEnv = "WAFLOW_OUTBOX_CRASH_GRAPH"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashDBEnv); path != "" {
		if err := runCrashWorker(path, os.Getenv(crashGraphEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "crash worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runCrashWorker sends the outbox until it is killed.
func runCrashWorker(path, graphURL string) error {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path, sqlite.Options{Logger: quiet})
	if err != nil {
		return err
	}
	c, err := graph.New(graph.Options{BaseURL: graphURL, Version: testVersion, AccessToken: testToken, Timeout: 20 * time.Second, Logger: quiet})
	if err != nil {
		return err
	}
	w, err := outbox.New(outbox.Config{Store: store, Sender: c, PhoneNumberID: testPhoneID, Lease: time.Minute, SendTimeout: 30 * time.Second, Logger: quiet})
	if err != nil {
		return err
	}
	w.Run(ctx) // until SIGKILL
	return nil
}

func TestSIGKILLDuringSendDoesNotResend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	f := newFakeGraph(t, reply{}, reply{}, reply{hang: true})
	f.arrived = make(chan sent, 10)
	path := filepath.Join(t.TempDir(), "waflow.db")
	ctx := context.Background()

	store, err := sqlite.Open(ctx, path, sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 3 {
		body, _ := graph.EncodeMessage(&graph.TextMessage{To: "1555000000" + fmt.Sprint(i), Body: fmt.Sprintf("confirmation %d", i)})
		m, _, err := store.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: fmt.Sprint("k", i), To: "1555000000" + fmt.Sprint(i), Payload: body})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	store.Close()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashDBEnv+"="+path, crashGraphEnv+"="+f.srv.URL)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		select {
		case <-f.arrived:
		case <-time.After(30 * time.Second):
			child.Process.Kill()
			t.Fatalf("the child sent %d messages, want 3", i)
		}
	}
	// The third send is in flight: Meta may or may not act on it.
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()

	// Restart, an hour later for the store: the child's lease has expired.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	store, err = sqlite.Open(ctx, path, sqlite.Options{Now: later, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	w, err := outbox.New(outbox.Config{Store: store, Sender: f.client(t, time.Second), PhoneNumberID: testPhoneID, Now: later, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.SendDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantStats(t, s, outbox.Stats{Uncertain: 1})
	if n := len(f.requests()); n != 3 {
		t.Fatalf("%d requests in all, want 3: one per message", n)
	}
	for i, id := range ids {
		m, err := store.OutboxMessage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i < 2 && (m.State != waflow.OutboxSent || m.WAMID != fmt.Sprint("wamid.", i+1)):
			t.Errorf("message %d: state %s wamid %q, want sent as wamid.%d", i, m.State, m.WAMID, i+1)
		case i == 2 && m.State != waflow.OutboxUnknown:
			t.Errorf("message %d: state %s, last error %q; want unknown", i, m.State, m.LastError)
		}
	}
}
