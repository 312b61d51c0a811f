// Package storetest is the conformance suite of the waflow storage contract
// ([waflow.Store]). Every driver runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) waflow.Store {
//			return openEmptyStore(t, now) // closed and dropped by t.Cleanup
//		})
//	}
//
// The suite checks what callers rely on, error contracts included:
// the compare-and-set on flow tokens (exactly one of many concurrent callers
// wins), inbox deduplication and leases (no event is claimed twice while a
// lease holds, and an expired lease is retaken), completions recorded if and
// only if they used their token, and outbox idempotency keys.
//
// Each subtest opens its own store and runs in parallel with the others, so
// the opener must give each call an isolated, empty database (a temporary
// file for SQLite, a schema of its own for PostgreSQL). Stores get a clock
// the suite controls, so lease and expiry tests never sleep.
package storetest
