package storetest_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/storetest"
)

// A driver's test runs the suite with an opener that makes a new, empty
// store on the suite's clock and closes it when the subtest ends. (The
// suite needs a test's *testing.T: this example shows the test, it is not
// run; sqlite's and postgres's tests run it.)
func ExampleRun() {
	TestConformance := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, now func() time.Time) waflow.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "waflow.db"), sqlite.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	}
	_ = TestConformance
}
