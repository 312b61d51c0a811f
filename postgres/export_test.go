package postgres

import "time"

// SetDatabaseClock makes db read clock where it would read the database's
// clock, for tests whose clock moves only when told (the conformance suite).
func SetDatabaseClock(db *DB, clock func() time.Time) { db.testClock = clock }
