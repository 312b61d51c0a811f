-- Bookings and schedules keep the business-scoped user id (protocol.md
-- 4.2) of their flow token or completion: a user known by a BSUID alone
-- has no phone number, and the reminders the flows promised go to the
-- BSUID (package reminders).

ALTER TABLE bookings ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE schedules ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
