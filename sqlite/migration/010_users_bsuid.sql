-- Usernames and business-scoped user ids (protocol.md 4.2): a user may
-- arrive with a BSUID and no phone number. The users waflow has seen are
-- kept with every identifier seen, so that the phone number and the BSUID
-- of one user stay one user; a flow token is bound to the BSUID when that
-- is what it was sent to; a completion keeps the parent BSUID and the
-- username. flow_health is what Meta's flows webhooks said of each flow's
-- status: the outbox holds a BLOCKED or THROTTLED flow's messages.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	phone         TEXT NOT NULL DEFAULT '',
	bsuid         TEXT NOT NULL DEFAULT '',
	parent_bsuid  TEXT NOT NULL DEFAULT '',
	username      TEXT NOT NULL DEFAULT '',
	first_seen_at INTEGER NOT NULL,
	last_seen_at  INTEGER NOT NULL,
	CHECK (phone <> '' OR bsuid <> '')
) STRICT;

CREATE UNIQUE INDEX users_phone ON users (phone) WHERE phone <> '';
CREATE UNIQUE INDEX users_bsuid ON users (bsuid) WHERE bsuid <> '';
CREATE INDEX users_parent_bsuid ON users (parent_bsuid) WHERE parent_bsuid <> '';

ALTER TABLE flow_tokens ADD COLUMN user_id TEXT NOT NULL DEFAULT '';

ALTER TABLE completions ADD COLUMN parent_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE completions ADD COLUMN username TEXT NOT NULL DEFAULT '';

ALTER TABLE outbox_messages ADD COLUMN flow TEXT NOT NULL DEFAULT '';

CREATE TABLE flow_health (
	flow       TEXT PRIMARY KEY,
	flow_id    TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL,
	paused     INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
	message    TEXT NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL
) STRICT;
