-- The browser console (package console, docs/console.md): its accounts,
-- its sign-in sessions (kept here so that every replica knows them), and
-- per-minute figures of each flow's data endpoint, to which every replica
-- adds its counts. Times are INTEGER microseconds since the Unix epoch.

CREATE TABLE console_users (
	name          TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL, -- argon2id, PHC string format
	created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE console_sessions (
	id         TEXT PRIMARY KEY, -- hex SHA-256 of the cookie's token
	user_name  TEXT NOT NULL REFERENCES console_users (name) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- One row per flow and minute; l0..l12 count requests by latency bucket
-- (consolestore.LatencyBounds). Kept 30 days (pruned by the server).
CREATE TABLE console_minutes (
	flow             TEXT NOT NULL,
	minute           INTEGER NOT NULL,
	requests         INTEGER NOT NULL DEFAULT 0,
	err_421          INTEGER NOT NULL DEFAULT 0,
	err_427          INTEGER NOT NULL DEFAULT 0,
	err_432          INTEGER NOT NULL DEFAULT 0,
	handler_failures INTEGER NOT NULL DEFAULT 0,
	forward_failures INTEGER NOT NULL DEFAULT 0,
	completions      INTEGER NOT NULL DEFAULT 0,
	l0 INTEGER NOT NULL DEFAULT 0, l1 INTEGER NOT NULL DEFAULT 0, l2 INTEGER NOT NULL DEFAULT 0,
	l3 INTEGER NOT NULL DEFAULT 0, l4 INTEGER NOT NULL DEFAULT 0, l5 INTEGER NOT NULL DEFAULT 0,
	l6 INTEGER NOT NULL DEFAULT 0, l7 INTEGER NOT NULL DEFAULT 0, l8 INTEGER NOT NULL DEFAULT 0,
	l9 INTEGER NOT NULL DEFAULT 0, l10 INTEGER NOT NULL DEFAULT 0, l11 INTEGER NOT NULL DEFAULT 0,
	l12 INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (flow, minute)
) STRICT;

CREATE INDEX console_minutes_age ON console_minutes (minute);

-- The same counts summed by hour, written with the minutes, so that the day
-- and week views read 24 and 168 rows a flow, not thousands.
CREATE TABLE console_hours (
	flow             TEXT NOT NULL,
	hour             INTEGER NOT NULL,
	requests         INTEGER NOT NULL DEFAULT 0,
	err_421          INTEGER NOT NULL DEFAULT 0,
	err_427          INTEGER NOT NULL DEFAULT 0,
	err_432          INTEGER NOT NULL DEFAULT 0,
	handler_failures INTEGER NOT NULL DEFAULT 0,
	forward_failures INTEGER NOT NULL DEFAULT 0,
	completions      INTEGER NOT NULL DEFAULT 0,
	l0 INTEGER NOT NULL DEFAULT 0, l1 INTEGER NOT NULL DEFAULT 0, l2 INTEGER NOT NULL DEFAULT 0,
	l3 INTEGER NOT NULL DEFAULT 0, l4 INTEGER NOT NULL DEFAULT 0, l5 INTEGER NOT NULL DEFAULT 0,
	l6 INTEGER NOT NULL DEFAULT 0, l7 INTEGER NOT NULL DEFAULT 0, l8 INTEGER NOT NULL DEFAULT 0,
	l9 INTEGER NOT NULL DEFAULT 0, l10 INTEGER NOT NULL DEFAULT 0, l11 INTEGER NOT NULL DEFAULT 0,
	l12 INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (flow, hour)
) STRICT;

CREATE INDEX console_hours_age ON console_hours (hour);

-- The console lists the newest flows events and outbox messages by state.
CREATE INDEX inbox_events_kind ON inbox_events (kind, id);
CREATE INDEX outbox_messages_state ON outbox_messages (state, id);
