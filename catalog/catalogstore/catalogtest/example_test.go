package catalogtest_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore/catalogtest"
	"github.com/waflow/waflow/sqlite"
)

// A driver that stores the catalog's tables runs the suite with an opener
// of new, empty stores on the suite's clock. (The suite needs a test's
// *testing.T: this example shows the test, it is not run; sqlite's and
// postgres's tests run it.)
func ExampleRun() {
	TestCatalogConformance := func(t *testing.T) {
		catalogtest.Run(t, func(t *testing.T, now func() time.Time) catalogtest.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "waflow.db"), sqlite.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	}
	_ = TestCatalogConformance
}
