-- A cancelled booking frees its seat (the console and `waflow booking
-- cancel`) and keeps its record (cancelled_at, for the reminders and the
-- history): the seat is unique among the bookings not cancelled.

ALTER TABLE bookings DROP CONSTRAINT bookings_start_at_seat_key;

-- A seat of a slot is given once among the bookings not cancelled,
-- whatever the process: the database refuses the second insert.
CREATE UNIQUE INDEX bookings_seat_held ON bookings (start_at, seat) WHERE cancelled_at IS NULL;

-- BookingCounts' and the reminders' range scans.
CREATE INDEX bookings_start ON bookings (start_at);
