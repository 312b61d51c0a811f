-- The core tables: flow tokens, the webhook inbox, completions, the outbox.
-- Times are INTEGER microseconds since the Unix epoch (UTC), the precision
-- PostgreSQL keeps, so both drivers return the same values.

CREATE TABLE flow_tokens (
	id         TEXT PRIMARY KEY,
	flow       TEXT NOT NULL,
	wa_id      TEXT NOT NULL DEFAULT '',
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	state      TEXT NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'used', 'expired')),
	used_at    INTEGER,
	message_id TEXT UNIQUE
) STRICT;

CREATE INDEX flow_tokens_expiry ON flow_tokens (expires_at) WHERE state = 'issued';

CREATE TABLE inbox_events (
	id              INTEGER PRIMARY KEY,
	dedupe_key      TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL,
	payload         BLOB NOT NULL,
	received_at     INTEGER NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending'
	                CHECK (state IN ('pending', 'processing', 'done', 'rejected', 'dead')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	result          TEXT NOT NULL DEFAULT '',
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER,
	processed_at    INTEGER
) STRICT;

-- Claims and the depth gauge look only at live and dead events; these
-- partial indexes keep them cheap however many done events pile up.
CREATE INDEX inbox_events_due ON inbox_events (next_attempt_at) WHERE state = 'pending';
CREATE INDEX inbox_events_leased ON inbox_events (lease_until) WHERE state = 'processing';
CREATE INDEX inbox_events_dead ON inbox_events (id) WHERE state = 'dead';

CREATE TABLE completions (
	message_id     TEXT PRIMARY KEY,
	token_id       TEXT NOT NULL UNIQUE REFERENCES flow_tokens (id),
	flow           TEXT NOT NULL,
	wa_id          TEXT NOT NULL DEFAULT '',
	context_id     TEXT NOT NULL DEFAULT '',
	response       BLOB NOT NULL,
	completed_at   INTEGER NOT NULL,
	recorded_at    INTEGER NOT NULL,
	handled_at     INTEGER,
	inbox_event_id INTEGER -- informational: inbox events may be pruned
) STRICT;

CREATE INDEX completions_recent ON completions (recorded_at);
CREATE INDEX completions_flow ON completions (flow, recorded_at);

CREATE TABLE outbox_messages (
	id              INTEGER PRIMARY KEY,
	idempotency_key TEXT NOT NULL UNIQUE,
	recipient       TEXT NOT NULL,
	token_id        TEXT REFERENCES flow_tokens (id),
	payload         BLOB NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER,
	wamid           TEXT,
	created_at      INTEGER NOT NULL,
	sent_at         INTEGER
) STRICT;

CREATE INDEX outbox_messages_due ON outbox_messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_messages_leased ON outbox_messages (lease_until) WHERE state = 'sending';
