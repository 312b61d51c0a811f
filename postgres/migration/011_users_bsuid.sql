-- Usernames and business-scoped user ids (protocol.md 4.2): a user may
-- arrive with a BSUID and no phone number. The users waflow has seen are
-- kept with every identifier seen, so that the phone number and the BSUID
-- of one user stay one user; a flow token is bound to the BSUID when that
-- is what it was sent to; a completion keeps the parent BSUID and the
-- username. flow_health is what Meta's flows webhooks said of each flow's
-- status: the outbox holds a BLOCKED or THROTTLED flow's messages.

CREATE TABLE users (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	phone         text NOT NULL DEFAULT '',
	bsuid         text NOT NULL DEFAULT '',
	parent_bsuid  text NOT NULL DEFAULT '',
	username      text NOT NULL DEFAULT '',
	first_seen_at timestamptz NOT NULL,
	last_seen_at  timestamptz NOT NULL,
	CHECK (phone <> '' OR bsuid <> '')
);

CREATE UNIQUE INDEX users_phone ON users (phone) WHERE phone <> '';
CREATE UNIQUE INDEX users_bsuid ON users (bsuid) WHERE bsuid <> '';
CREATE INDEX users_parent_bsuid ON users (parent_bsuid) WHERE parent_bsuid <> '';

ALTER TABLE flow_tokens ADD COLUMN user_id text NOT NULL DEFAULT '';

ALTER TABLE completions
	ADD COLUMN parent_user_id text NOT NULL DEFAULT '',
	ADD COLUMN username text NOT NULL DEFAULT '';

ALTER TABLE outbox_messages ADD COLUMN flow text NOT NULL DEFAULT '';

CREATE TABLE flow_health (
	flow       text PRIMARY KEY,
	flow_id    text NOT NULL DEFAULT '',
	status     text NOT NULL,
	paused     boolean NOT NULL DEFAULT false,
	message    text NOT NULL DEFAULT '',
	updated_at timestamptz NOT NULL
);
