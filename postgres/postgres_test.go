package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore/catalogtest"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// openSchema opens a store in a new schema of its own, dropped when the test
// ends, so tests run in parallel and leave nothing behind.
func openSchema(t *testing.T, now func() time.Time) (*postgres.DB, string) {
	t.Helper()
	url := storetest.PostgresURL(t)
	schema := newSchema(t, url)
	db, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema, Now: now, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, schema
}

func newSchema(t *testing.T, url string) string {
	var b [6]byte
	rand.Read(b[:])
	schema := "waflow_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) waflow.Store {
		db, _ := openSchema(t, now)
		// The suite's clock moves only when told; the database's with it.
		postgres.SetDatabaseClock(db, now)
		return db
	})
}

func TestAPIKeyConformance(t *testing.T) {
	storetest.RunAPIKeys(t, func(t *testing.T, now func() time.Time) waflow.APIKeyStore {
		db, _ := openSchema(t, now)
		postgres.SetDatabaseClock(db, now)
		return db
	})
}

func TestCatalogConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T, now func() time.Time) catalogtest.Store {
		db, _ := openSchema(t, now)
		postgres.SetDatabaseClock(db, now)
		return db
	})
}

// Replicas starting at once apply each migration once, and reopening keeps
// the data.
func TestConcurrentMigrations(t *testing.T) {
	url := storetest.PostgresURL(t)
	schema := newSchema(t, url)
	ctx := context.Background()
	var wg sync.WaitGroup
	dbs := make([]*postgres.DB, 4)
	for i := range dbs {
		wg.Go(func() {
			db, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
				return
			}
			dbs[i] = db
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var n int
	if err := dbs[0].Pool().QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migration/*.sql")
	if n != len(files) || n == 0 {
		t.Fatalf("schema_migrations has %d rows, want one per migration file (%d)", n, len(files))
	}
	if _, err := dbs[0].AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: "k", Kind: waflow.EventMessage, Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs {
		db.Close()
	}
	db, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.InboxEventByKey(ctx, "k"); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := postgres.Open(ctx, "postgres://u:secret@[bad", postgres.Options{}); err == nil {
		t.Error("Open accepted a malformed URL")
	} else if got := err.Error(); contains(got, "secret") {
		t.Errorf("the error shows the password: %q", got)
	}
	if _, err := postgres.Open(ctx, "postgres://127.0.0.1/x", postgres.Options{Schema: "a;drop"}); err == nil {
		t.Error("Open accepted a schema that is not an identifier")
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestMediaConformance(t *testing.T) {
	storetest.RunMedia(t, func(t *testing.T, now func() time.Time) storetest.MediaStore {
		db, _ := openSchema(t, now)
		postgres.SetDatabaseClock(db, now)
		return db
	})
}

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T, now func() time.Time) storetest.ConsoleStore {
		db, _ := openSchema(t, now)
		postgres.SetDatabaseClock(db, now)
		return db
	})
}
