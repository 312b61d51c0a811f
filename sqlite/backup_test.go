package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/racedetect"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/storetest"
)

// A backup taken while webhooks keep arriving holds every event
// acknowledged before it started, restores into a fresh path, and the
// restored database is a working store.
func TestBackupUnderLoad(t *testing.T) {
	t.Parallel() // its own database: overlaps the conformance suites
	ctx := context.Background()
	dir := t.TempDir()
	db := openTemp(t, sqlite.Options{})

	var (
		mu    sync.Mutex
		acked = map[string]time.Time{} // dedupe key -> when AddEvents returned
		stop  atomic.Bool
		wg    sync.WaitGroup
		n     atomic.Int64
	)
	writers, want := 8, int64(10000)
	switch {
	case testing.Short():
		writers, want = 4, 2000
	case racedetect.Enabled: // each write ten times as slow
		want = 3000
	}
	for w := range writers {
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
				now := time.Now()
				mu.Lock()
				for _, e := range evs {
					acked[e.DedupeKey] = now
				}
				mu.Unlock()
				n.Add(2)
			}
		}()
	}
	// Let the load build up, then back up in the middle of it.
	for n.Load() < want {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := make([]string, 0, len(acked))
	for k := range acked {
		before = append(before, k)
	}
	mu.Unlock()
	backup := filepath.Join(dir, "backup.db")
	start := time.Now()
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	stop.Store(true)
	wg.Wait()
	fi, err := os.Stat(backup)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup of %d events (%d acknowledged before it started, %d in all by the end) took %s, %d bytes",
		n.Load(), len(before), len(acked), took, fi.Size())

	// A second backup to the same file is refused and leaves it alone.
	if err := db.Backup(ctx, backup); !errors.Is(err, os.ErrExist) {
		t.Errorf("Backup over an existing file = %v, want os.ErrExist", err)
	}
	if fi2, err := os.Stat(backup); err != nil || fi2.Size() != fi.Size() {
		t.Errorf("refused backup touched the file: %v, %v", fi2, err)
	}

	restored := filepath.Join(dir, "restored", "waflow.db")
	os.MkdirAll(filepath.Dir(restored), 0o700)
	info, err := sqlite.Restore(ctx, backup, restored)
	if err != nil {
		t.Fatal(err)
	}
	if info.Previous != "" || info.SchemaVersion == 0 || info.SchemaVersion != info.Known {
		t.Errorf("Restore = %+v", info)
	}
	r, err := sqlite.Open(ctx, restored, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, k := range before {
		if _, err := r.InboxEventByKey(ctx, k); err != nil {
			t.Fatalf("event %s, acknowledged before the backup, not in the restored database: %v", k, err)
		}
	}
	// Whatever else it holds is whole: both events of a batch or neither.
	var total int
	for after := int64(0); ; {
		evs, err := r.InboxEvents(ctx, waflow.InboxFilter{AfterID: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		total += len(evs)
		after = evs[len(evs)-1].ID
	}
	if total%2 != 0 || total < len(before) || total > len(acked) {
		t.Errorf("restored database holds %d events: want an even number between %d and %d", total, len(before), len(acked))
	}
	st, err := r.InboxStats(ctx)
	if err != nil || st.Pending != int64(total) {
		t.Errorf("InboxStats = %+v, %v; want %d pending", st, err, total)
	}
	// The restored store takes new work.
	if _, err := r.AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: "after-restore", Kind: waflow.EventMessage, Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	if evs, err := r.ClaimEvents(ctx, "w", 10, time.Minute); err != nil || len(evs) != 10 {
		t.Errorf("ClaimEvents on the restored store = %d, %v", len(evs), err)
	}
}

// Restored databases pass the conformance suite: each case runs on a store
// restored from a backup, one backup of a migrated database taken once (the
// backup itself is tested above, under load).
func TestRestoredConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the conformance suite on a restored backup repeats TestConformance's cases (go test without -short runs it)")
	}
	ctx := context.Background()
	backup := filepath.Join(t.TempDir(), "backup.db") // kept until every case is done
	src := openTemp(t, sqlite.Options{})
	if err := src.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T, now func() time.Time) waflow.Store {
		path := filepath.Join(t.TempDir(), "waflow.db")
		if _, err := sqlite.Restore(ctx, backup, path); err != nil {
			t.Fatal(err)
		}
		db, err := sqlite.Open(ctx, path, sqlite.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "waflow.db")
	db, err := sqlite.Open(ctx, live, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	add := func(db *sqlite.DB, key string) {
		t.Helper()
		if _, err := db.AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: key, Kind: waflow.EventMessage, Payload: []byte("{}")}}); err != nil {
			t.Fatal(err)
		}
	}
	add(db, "in-backup")
	backup := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	add(db, "after-backup")

	// Refused while the database is open.
	if _, err := sqlite.Restore(ctx, backup, live); !errors.Is(err, sqlite.ErrInUse) {
		t.Fatalf("Restore while open = %v, want ErrInUse", err)
	}
	if _, err := os.Stat(live + ".restoring"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused restore left its copy: %v", err)
	}
	db.Close()

	// Refused: not a database, not a waflow database.
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("not a database at all, not even close to one..........................................................."), 0o600)
	if _, err := sqlite.Restore(ctx, junk, live); err == nil {
		t.Error("Restore of a text file succeeded")
	}
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Restore(ctx, other, live); err == nil {
		t.Error("Restore of an empty database succeeded")
	}

	info, err := sqlite.Restore(ctx, backup, live)
	if err != nil {
		t.Fatal(err)
	}
	if info.Previous != live+".before-restore" {
		t.Errorf("Previous = %q", info.Previous)
	}
	r, err := sqlite.Open(ctx, live, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.InboxEventByKey(ctx, "in-backup"); err != nil {
		t.Error(err)
	}
	if _, err := r.InboxEventByKey(ctx, "after-backup"); !errors.Is(err, waflow.ErrNotFound) {
		t.Errorf("event written after the backup = %v, want ErrNotFound", err)
	}
	r.Close()
	// The replaced database is kept whole, with its last write.
	prev, err := sqlite.Open(ctx, info.Previous, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prev.InboxEventByKey(ctx, "after-backup"); err != nil {
		t.Errorf("the replaced database lost its last event: %v", err)
	}
	prev.Close()
	// A second restore would overwrite the kept file: refused.
	if _, err := sqlite.Restore(ctx, backup, live); err == nil {
		t.Error("Restore with a .before-restore file in the way succeeded")
	}
}

func TestSchemaVersion(t *testing.T) {
	db := openTemp(t, sqlite.Options{})
	applied, known, err := db.SchemaVersion(context.Background())
	if err != nil || applied == 0 || applied != known {
		t.Errorf("SchemaVersion = %d, %d, %v", applied, known, err)
	}
}

// BackupFile copies a database another store holds open, without
// migrating nor creating anything.
func TestBackupFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "waflow.db")
	db, err := sqlite.Open(ctx, live, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: "k1", Kind: waflow.EventMessage, Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "copy.db")
	if err := sqlite.BackupFile(ctx, live, out); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.BackupFile(ctx, live, out); !errors.Is(err, os.ErrExist) {
		t.Errorf("BackupFile over an existing file = %v", err)
	}
	if err := sqlite.BackupFile(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("BackupFile of a missing database = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Error("BackupFile created the missing database")
	}
	restored := filepath.Join(dir, "restored.db")
	if _, err := sqlite.Restore(ctx, out, restored); err != nil {
		t.Fatal(err)
	}
	r, err := sqlite.Open(ctx, restored, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.InboxEventByKey(ctx, "k1"); err != nil {
		t.Error(err)
	}
}
