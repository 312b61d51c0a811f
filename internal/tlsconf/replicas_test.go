package tlsconf

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// Two replicas on one PostgreSQL database, first asked for the certificate
// at the same moment, serve the same certificate and ask the CA for it
// once: the one that takes the lock orders it, the CA's challenge may
// reach either replica (the token is in the shared cache), and the other
// finds the certificate in the cache once the lock is free.
func TestACMEReplicasShareCertificate(t *testing.T) {
	const domain = "flows.waflow.test"
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	lnA, httpA, lnB := listen(t), listen(t), listen(t)
	p := startPebble(t, port(t, lnA), port(t, httpA), time.Hour)

	schema := "waflow_tls_test_" + time.Now().Format("150405000000")
	var orders atomic.Int32
	var dbs []*postgres.DB
	for range 2 {
		db, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	t.Cleanup(func() {
		dbs[0].Pool().Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		for _, db := range dbs {
			db.Close()
		}
	})
	var addrs []string
	for i := range 2 {
		certs, err := New(Config{
			Domains:      []string{domain},
			DirectoryURL: p.directory,
			HTTPClient:   p.acmeClient(&orders),
			Cache:        StoreCache(dbs[i]),
			Locker:       dbs[i],
			Logger:       quiet(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			replica(t, certs, lnA, httpA)
			addrs = append(addrs, lnA.Addr().String())
		} else {
			replica(t, certs, lnB, nil)
			addrs = append(addrs, lnB.Addr().String())
		}
	}

	serials := make([]string, 2)
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			s, err := servedSerial(t, addr, domain, p.roots)
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
			serials[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if serials[0] != serials[1] {
		t.Fatalf("the replicas serve serials %s and %s, want one certificate", serials[0], serials[1])
	}
	if n := orders.Load(); n != 1 {
		t.Fatalf("%d certificate orders, want 1", n)
	}
	var rows int
	if err := dbs[0].Pool().QueryRow(ctx, "SELECT count(*) FROM tls_cache WHERE key = $1", domain).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("tls_cache has %d rows for %s (%v), want 1", rows, domain, err)
	}
}
