package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore/catalogtest"
	"github.com/waflow/waflow/internal/racedetect"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
	"github.com/waflow/waflow/storetest"
)

func openTemp(t *testing.T, opts sqlite.Options) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) waflow.Store {
		return openTemp(t, sqlite.Options{Now: now})
	})
}

func TestAPIKeyConformance(t *testing.T) {
	storetest.RunAPIKeys(t, func(t *testing.T, now func() time.Time) waflow.APIKeyStore {
		return openTemp(t, sqlite.Options{Now: now})
	})
}

func TestCatalogConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T, now func() time.Time) catalogtest.Store {
		return openTemp(t, sqlite.Options{Now: now})
	})
}

func TestConformanceInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the conformance suite in memory repeats TestConformance's cases (go test without -short runs it)")
	}
	if racedetect.Enabled {
		// A new in-memory database is migrated for each case, 250 ms under
		// the race detector (a file is copied from a migrated one instead),
		// for 190 cases that run the same SQL as TestConformance's on one
		// connection: .ci/run runs this test without -race.
		t.Skip("-race: the in-memory conformance suite runs without the race detector (go test ./sqlite, as .ci/run does)")
	}
	storetest.Run(t, func(t *testing.T, now func() time.Time) waflow.Store {
		db, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// Reopening a database applies no migration twice and keeps the data.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waflow.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: "k", Kind: waflow.EventMessage, Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	if _, err := db.InboxEventByKey(ctx, "k"); err != nil {
		t.Fatalf("event lost across a reopen: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		path string
		opts sqlite.Options
	}{
		"empty path":          {"", sqlite.Options{}},
		"query in path":       {filepath.Join(t.TempDir(), "x.db?_pragma=foo"), sqlite.Options{}},
		"unknown synchronous": {filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Synchronous: "OFF"}},
		"missing folder":      {filepath.Join(t.TempDir(), "no", "such", "x.db"), sqlite.Options{}},
	} {
		if db, err := sqlite.Open(ctx, tc.path, tc.opts); err == nil {
			db.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// Many concurrent AddEvents calls share transactions, and every one that
// returns nil is readable afterwards, from the reader pool.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, sqlite.Options{})
	const senders, each = 32, 20
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("s%d-%d", s, i)
				n, err := db.AddEvents(ctx, []waflow.InboxEvent{
					{DedupeKey: key, Kind: waflow.EventMessage, Payload: []byte(`{}`)},
					{DedupeKey: key + "-dup", Kind: waflow.EventStatus, Payload: []byte(`{}`)},
				})
				if err != nil || n != 2 {
					t.Errorf("AddEvents(%s) = %d, %v", key, n, err)
					return
				}
				if _, err := db.InboxEventByKey(ctx, key); err != nil {
					t.Errorf("event %s not readable after AddEvents returned: %v", key, err)
				}
			}
		})
	}
	wg.Wait()
	st, err := db.InboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != senders*each*2 {
		t.Fatalf("%d pending events, want %d", st.Pending, senders*each*2)
	}
}

// An AddEvents that returns nil has committed, even when its context is
// cancelled or the store is closed while it waits; one that fails may or may
// not have (the webhook is then answered non-200 and WhatsApp retries).
func TestAddEventsNilMeansCommitted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "waflow.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var committed []string
	var wg sync.WaitGroup
	for s := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("s%d-%d", s, i)
				cctx, cancel := context.WithCancel(ctx)
				if i%3 == 0 {
					cancel()
				}
				_, err := db.AddEvents(cctx, []waflow.InboxEvent{{DedupeKey: key, Kind: waflow.EventMessage, Payload: []byte("{}")}})
				cancel()
				if errors.Is(err, waflow.ErrClosed) {
					return
				}
				if err == nil {
					mu.Lock()
					committed = append(committed, key)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if len(committed) == 0 {
		t.Fatal("no AddEvents succeeded before Close")
	}
	for _, key := range committed {
		if _, err := db.InboxEventByKey(ctx, key); err != nil {
			t.Fatalf("AddEvents(%s) returned nil, but after reopening: %v", key, err)
		}
	}
}

func TestDurability(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ set, want string }{{"", "journal_mode=wal synchronous=FULL"}, {"normal", "journal_mode=wal synchronous=NORMAL"}} {
		db := openTemp(t, sqlite.Options{Synchronous: tc.set})
		got, err := db.Durability(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("Synchronous %q: Durability() = %q, want %q", tc.set, got, tc.want)
		}
	}
}

func TestMediaConformance(t *testing.T) {
	storetest.RunMedia(t, func(t *testing.T, now func() time.Time) storetest.MediaStore {
		return openTemp(t, sqlite.Options{Now: now})
	})
}

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T, now func() time.Time) storetest.ConsoleStore {
		return openTemp(t, sqlite.Options{Now: now})
	})
}
