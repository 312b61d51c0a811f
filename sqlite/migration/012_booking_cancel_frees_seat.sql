-- A cancelled booking frees its seat (the console and `waflow booking
-- cancel`) and keeps its record (cancelled_at, for the reminders and the
-- history). The seat is unique among the bookings not cancelled: SQLite
-- cannot drop the table's UNIQUE (start_at, seat), so the table is rebuilt
-- with the same columns and a partial unique index in its place.

CREATE TABLE bookings_new (
	ref          TEXT PRIMARY KEY,
	token_id     TEXT NOT NULL UNIQUE, -- one booking per flow token
	wa_id        TEXT NOT NULL DEFAULT '',
	start_at     INTEGER NOT NULL,
	seat         INTEGER NOT NULL CHECK (seat >= 1),
	name         TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT '',
	reminder     INTEGER NOT NULL DEFAULT 0 CHECK (reminder IN (0, 1)),
	created_at   INTEGER NOT NULL,
	cancelled_at INTEGER
) STRICT;

INSERT INTO bookings_new (ref, token_id, wa_id, start_at, seat, name, reason, reminder, created_at, cancelled_at)
	SELECT ref, token_id, wa_id, start_at, seat, name, reason, reminder, created_at, cancelled_at FROM bookings;

DROP TABLE bookings;

ALTER TABLE bookings_new RENAME TO bookings;

-- A seat of a slot is given once among the bookings not cancelled,
-- whatever the process: the database refuses the second insert.
CREATE UNIQUE INDEX bookings_seat_held ON bookings (start_at, seat) WHERE cancelled_at IS NULL;

-- BookingCounts' and the reminders' range scans.
CREATE INDEX bookings_start ON bookings (start_at);
