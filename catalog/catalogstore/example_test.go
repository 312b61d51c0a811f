package catalogstore_test

import (
	"fmt"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore"
)

// Both drivers keep times in UTC at microsecond precision: compare a time
// read back with StoredTime of the one written.
func ExampleStoredTime() {
	berlin := time.FixedZone("CET", 3600)
	t := time.Date(2026, 12, 1, 9, 30, 0, 123456789, berlin)
	fmt.Println(catalogstore.StoredTime(t))
	fmt.Println(catalogstore.StoredTime(time.Time{}).IsZero())
	// Output:
	// 2026-12-01 08:30:00.123456 +0000 UTC
	// true
}
