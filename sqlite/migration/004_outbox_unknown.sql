-- An outbox message whose send may have reached Meta gets a state of its
-- own, 'unknown', instead of 'dead' with a last_error starting with
-- "uncertain: ". SQLite cannot change a CHECK constraint, so the table is
-- rebuilt (nothing references it); the rows settled the old way are converted
-- on the way, their prefix dropped.

CREATE TABLE outbox_messages_004 (
	id              INTEGER PRIMARY KEY,
	idempotency_key TEXT NOT NULL UNIQUE,
	recipient       TEXT NOT NULL,
	token_id        TEXT REFERENCES flow_tokens (id),
	payload         BLOB NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'dead', 'unknown')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER,
	wamid           TEXT,
	created_at      INTEGER NOT NULL,
	sent_at         INTEGER
) STRICT;

INSERT INTO outbox_messages_004 (id, idempotency_key, recipient, token_id, payload, state, attempts,
	last_error, next_attempt_at, lease_owner, lease_until, wamid, created_at, sent_at)
SELECT id, idempotency_key, recipient, token_id, payload,
	CASE WHEN state = 'dead' AND substr(last_error, 1, 11) = 'uncertain: ' THEN 'unknown' ELSE state END,
	attempts,
	CASE WHEN state = 'dead' AND substr(last_error, 1, 11) = 'uncertain: ' THEN substr(last_error, 12) ELSE last_error END,
	next_attempt_at, lease_owner, lease_until, wamid, created_at, sent_at
FROM outbox_messages;

DROP TABLE outbox_messages;
ALTER TABLE outbox_messages_004 RENAME TO outbox_messages;

CREATE INDEX outbox_messages_due ON outbox_messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_messages_leased ON outbox_messages (lease_until) WHERE state = 'sending';
