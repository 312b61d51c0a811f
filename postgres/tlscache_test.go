package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// The ACME cache: a missing key is ErrNotFound, a put replaces, a delete
// of a missing key is no error, and another replica on the same schema
// sees what one stored.
func TestTLSCache(t *testing.T) {
	ctx := context.Background()
	db, schema := openSchema(t, nil)
	if _, err := db.GetTLSCache(ctx, "flows.example.com"); !errors.Is(err, waflow.ErrNotFound) {
		t.Fatalf("missing key: %v, want ErrNotFound", err)
	}
	for _, v := range []string{"first", "second"} {
		if err := db.PutTLSCache(ctx, "flows.example.com", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	other, err := postgres.Open(ctx, storetest.PostgresURL(t), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if b, err := other.GetTLSCache(ctx, "flows.example.com"); err != nil || !bytes.Equal(b, []byte("second")) {
		t.Fatalf("the other replica reads %q, %v; want second", b, err)
	}
	if err := db.DeleteTLSCache(ctx, "flows.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTLSCache(ctx, "flows.example.com"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := other.GetTLSCache(ctx, "flows.example.com"); !errors.Is(err, waflow.ErrNotFound) {
		t.Fatalf("deleted key: %v, want ErrNotFound", err)
	}
}

// Lock is exclusive across replicas, per name, and gives up when its
// context ends.
func TestLock(t *testing.T) {
	ctx := context.Background()
	a, schema := openSchema(t, nil)
	b, err := postgres.Open(ctx, storetest.PostgresURL(t), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var inside atomic.Int32
	var overlap atomic.Bool
	var wg sync.WaitGroup
	for i := range 6 {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			unlock, err := db.Lock(ctx, "acme flows.example.com")
			if err != nil {
				t.Error(err)
				return
			}
			if inside.Add(1) > 1 {
				overlap.Store(true)
			}
			time.Sleep(50 * time.Millisecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if overlap.Load() {
		t.Fatal("two holders of the lock at once")
	}

	unlock, err := a.Lock(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.Lock(ctx, "another")
	if err != nil {
		t.Fatalf("a lock of another name: %v", err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := b.Lock(short, "one"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a held lock with a short deadline: %v, want DeadlineExceeded", err)
	}
	unlock()
	if u, err := b.Lock(ctx, "one"); err != nil {
		t.Fatalf("after unlock: %v", err)
	} else {
		u()
	}
}
