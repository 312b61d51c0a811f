package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow/internal/storage"
)

// waflow backup while waflow serve takes signed webhooks, then waflow
// restore into a fresh path: every webhook answered 200 before the backup
// started is in the restored database. A restore over the live database is
// refused while the server runs.
func TestBackupUnderWebhookLoad(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	if testing.Short() {
		t.Skip("backup end to end: builds and runs the waflow binary")
	}
	env := newE2EEnv(t, "")
	srv := env.start()
	bin := waflowBinary(t)
	run := func(dbURL string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(cmd.Environ(), "WAFLOW_DATA_DIR="+env.dir, "WAFLOW_DATABASE_URL="+dbURL)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	var (
		mu    sync.Mutex
		acked []string // dedupe keys of the events answered 200
		stop  atomic.Bool
		wg    sync.WaitGroup
		sent  atomic.Int64
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("wamid.backup-%d-%d", w, i)
				body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","time":%d,"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","statuses":[{"id":%q,"status":"delivered","timestamp":"%d","recipient_id":"15550001111"}]}}]}]}`,
					time.Now().Unix(), id, time.Now().Unix())
				if code := srv.postWebhook([]byte(body)); code != 200 {
					t.Errorf("webhook answered %d", code)
					return
				}
				mu.Lock()
				acked = append(acked, "status:"+id+":delivered")
				mu.Unlock()
				sent.Add(1)
			}
		}()
	}
	for sent.Load() < 500 {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	backup := filepath.Join(t.TempDir(), "backup.db")
	start := time.Now()
	out, err := run(env.dbURL, "backup", backup)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("waflow backup: %v\n%s", err, out)
	}
	atBackup := sent.Load()

	// The server keeps running: restoring over its database is refused.
	if out, err := run(env.dbURL, "restore", backup); err == nil || !strings.Contains(out, "is open in another process: stop waflow serve") {
		t.Errorf("waflow restore over the live database: %v\n%s", err, out)
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	srv.Stop()
	t.Logf("%s", strings.TrimSpace(out))
	t.Logf("backup took %s (the command, process start included) under load: %d webhooks acknowledged before it, %d when it returned, %d in all",
		took, len(before), atBackup, sent.Load())

	fresh := filepath.Join(t.TempDir(), "restored.db")
	if out, err := run(fresh, "restore", backup); err != nil || !strings.Contains(out, "restored ") {
		t.Fatalf("waflow restore: %v\n%s", err, out)
	}
	ctx := context.Background()
	r, err := storage.Open(ctx, fresh, storage.Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, k := range before {
		if _, err := r.InboxEventByKey(ctx, k); err != nil {
			t.Fatalf("webhook event %s, answered 200 before the backup, not restored: %v", k, err)
		}
	}
}
