package postgres_test

import (
	"context"
	"testing"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/catalog/catalogstore/catalogtest"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// Three pools on one schema stand for three "waflow serve" replicas: Book
// relies on the database's unique index, not on anything in the process.
func TestBookingAcrossProcesses(t *testing.T) {
	first, schema := openSchema(t, nil)
	stores := []catalogstore.Store{first}
	for range 2 {
		db, err := postgres.Open(context.Background(), storetest.PostgresURL(t), postgres.Options{Schema: schema, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		stores = append(stores, db)
	}
	catalogtest.BookingAcrossStores(t, stores...)
}
