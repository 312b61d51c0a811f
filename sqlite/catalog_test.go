package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/storetest"
)

// Two handles on one database file stand for two processes: Book is atomic
// across them because its transaction takes the file's write lock first.
func TestBookingAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waflow.db")
	var stores []waflow.Store
	for range 2 {
		db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		stores = append(stores, db)
	}
	storetest.BookingAcrossStores(t, stores...)
}
