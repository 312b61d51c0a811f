-- What the catalog's assistant (package reminders) needs: a booking can be
-- cancelled (it then gets no reminder), sessions are found by start time,
-- digest subscribers by their opt-in, and each user's last inbound message
-- time says whether WhatsApp's 24-hour customer-service window is open
-- (a free-form message) or closed (a template).

ALTER TABLE bookings ADD COLUMN cancelled_at timestamptz;

CREATE INDEX schedule_occurrences_start ON schedule_occurrences (start_at);

CREATE INDEX calendar_preferences_digest ON calendar_preferences (wa_id) WHERE digest;

CREATE TABLE contacts (
	wa_id           text PRIMARY KEY,
	last_inbound_at timestamptz NOT NULL
);
