-- The browser console (package console, docs/console.md): its accounts,
-- its sign-in sessions (kept here so that every replica knows them), and
-- per-minute figures of each flow's data endpoint, to which every replica
-- adds its counts.

CREATE TABLE console_users (
	name          text PRIMARY KEY,
	password_hash text NOT NULL, -- argon2id, PHC string format
	created_at    timestamptz NOT NULL
);

CREATE TABLE console_sessions (
	id         text PRIMARY KEY, -- hex SHA-256 of the cookie's token
	user_name  text NOT NULL REFERENCES console_users (name) ON DELETE CASCADE,
	csrf       text NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- One row per flow and minute; l0..l12 count requests by latency bucket
-- (consolestore.LatencyBounds). Kept 30 days (pruned by the server).
CREATE TABLE console_minutes (
	flow             text NOT NULL,
	minute           timestamptz NOT NULL,
	requests         bigint NOT NULL DEFAULT 0,
	err_421          bigint NOT NULL DEFAULT 0,
	err_427          bigint NOT NULL DEFAULT 0,
	err_432          bigint NOT NULL DEFAULT 0,
	handler_failures bigint NOT NULL DEFAULT 0,
	forward_failures bigint NOT NULL DEFAULT 0,
	completions      bigint NOT NULL DEFAULT 0,
	l0 bigint NOT NULL DEFAULT 0, l1 bigint NOT NULL DEFAULT 0, l2 bigint NOT NULL DEFAULT 0,
	l3 bigint NOT NULL DEFAULT 0, l4 bigint NOT NULL DEFAULT 0, l5 bigint NOT NULL DEFAULT 0,
	l6 bigint NOT NULL DEFAULT 0, l7 bigint NOT NULL DEFAULT 0, l8 bigint NOT NULL DEFAULT 0,
	l9 bigint NOT NULL DEFAULT 0, l10 bigint NOT NULL DEFAULT 0, l11 bigint NOT NULL DEFAULT 0,
	l12 bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (flow, minute)
);

CREATE INDEX console_minutes_age ON console_minutes (minute);

-- The same counts summed by hour, written with the minutes, so that the day
-- and week views read 24 and 168 rows a flow, not thousands.
CREATE TABLE console_hours (
	flow             text NOT NULL,
	hour             timestamptz NOT NULL,
	requests         bigint NOT NULL DEFAULT 0,
	err_421          bigint NOT NULL DEFAULT 0,
	err_427          bigint NOT NULL DEFAULT 0,
	err_432          bigint NOT NULL DEFAULT 0,
	handler_failures bigint NOT NULL DEFAULT 0,
	forward_failures bigint NOT NULL DEFAULT 0,
	completions      bigint NOT NULL DEFAULT 0,
	l0 bigint NOT NULL DEFAULT 0, l1 bigint NOT NULL DEFAULT 0, l2 bigint NOT NULL DEFAULT 0,
	l3 bigint NOT NULL DEFAULT 0, l4 bigint NOT NULL DEFAULT 0, l5 bigint NOT NULL DEFAULT 0,
	l6 bigint NOT NULL DEFAULT 0, l7 bigint NOT NULL DEFAULT 0, l8 bigint NOT NULL DEFAULT 0,
	l9 bigint NOT NULL DEFAULT 0, l10 bigint NOT NULL DEFAULT 0, l11 bigint NOT NULL DEFAULT 0,
	l12 bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (flow, hour)
);

CREATE INDEX console_hours_age ON console_hours (hour);

-- The console lists the newest flows events and outbox messages by state.
CREATE INDEX inbox_events_kind ON inbox_events (kind, id);
CREATE INDEX outbox_messages_state ON outbox_messages (state, id);
