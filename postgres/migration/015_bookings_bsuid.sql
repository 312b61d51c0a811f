-- A booking keeps the business-scoped user id (protocol.md 4.2) its flow
-- token was bound to: a user known by a BSUID alone has no phone number,
-- and the reminder the booking promised goes to the BSUID.

ALTER TABLE bookings ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
