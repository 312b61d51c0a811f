package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waflow/waflow"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// What docs/deploy.md, Backups, says for PostgreSQL works: pg_dump -Fc
// taken while webhooks keep arriving, pg_restore into a new database, and
// every event acknowledged before the dump is there, in a store that
// opens and takes new work.
func TestPgDumpUnderLoad(t *testing.T) {
	src := storetest.PostgresURL(t)
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: the PostgreSQL backup test needs the client tools", tool)
		}
	}
	ctx := context.Background()
	db, schema := openSchema(t, nil)

	var (
		mu    sync.Mutex
		acked []string
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				evs := []waflow.InboxEvent{
					{DedupeKey: fmt.Sprintf("w%d-%d-a", w, i), Kind: waflow.EventMessage, Payload: []byte(`{"n":1}`)},
					{DedupeKey: fmt.Sprintf("w%d-%d-b", w, i), Kind: waflow.EventStatus, Payload: []byte(`{"n":2}`)},
				}
				if _, err := db.AddEvents(ctx, evs); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, evs[0].DedupeKey, evs[1].DedupeKey)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 1000 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	dump := t.TempDir() + "/waflow.dump"
	start := time.Now()
	out, err := exec.Command("pg_dump", "-Fc", "-n", schema, "-d", src, "-f", dump).CombinedOutput()
	took := time.Since(start)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	t.Logf("pg_dump of %d+ events took %s", len(before), took)

	// pg_restore into a new, empty database.
	var b [6]byte
	rand.Read(b[:])
	name := "waflow_restore_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	if out, err := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "-d", u.String(), dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	r, err := postgres.Open(ctx, u.String(), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, k := range before {
		if _, err := r.InboxEventByKey(ctx, k); err != nil {
			t.Fatalf("event %s, acknowledged before pg_dump, not restored: %v", k, err)
		}
	}
	if _, err := r.AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: "after-restore", Kind: waflow.EventMessage, Payload: []byte("{}")}}); err != nil {
		t.Fatalf("AddEvents on the restored database (sequences restored?): %v", err)
	}
	if evs, err := r.ClaimEvents(ctx, "w", 10, time.Minute); err != nil || len(evs) != 10 {
		t.Errorf("ClaimEvents on the restored database = %d, %v", len(evs), err)
	}
}

func TestSchemaVersion(t *testing.T) {
	db, _ := openSchema(t, nil)
	applied, known, err := db.SchemaVersion(context.Background())
	if err != nil || applied == 0 || applied != known {
		t.Errorf("SchemaVersion = %d, %d, %v", applied, known, err)
	}
}

func TestServerVersion(t *testing.T) {
	v, err := postgres.ServerVersion(context.Background(), storetest.PostgresURL(t))
	if err != nil || v == "" || v[0] < '1' || v[0] > '9' {
		t.Errorf("ServerVersion = %q, %v", v, err)
	}
	if _, err := postgres.ServerVersion(context.Background(), "postgres://u:secret@%zz"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("ServerVersion of a bad URL = %v", err)
	}
}
