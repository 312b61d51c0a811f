-- The core tables: flow tokens, the webhook inbox, completions, the outbox.

CREATE TABLE flow_tokens (
	id         text PRIMARY KEY,
	flow       text NOT NULL,
	wa_id      text NOT NULL DEFAULT '',
	issued_at  timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	state      text NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'used', 'expired')),
	used_at    timestamptz,
	message_id text UNIQUE
);

CREATE INDEX flow_tokens_expiry ON flow_tokens (expires_at) WHERE state = 'issued';

CREATE TABLE inbox_events (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	dedupe_key      text NOT NULL UNIQUE,
	kind            text NOT NULL,
	payload         bytea NOT NULL,
	received_at     timestamptz NOT NULL,
	state           text NOT NULL DEFAULT 'pending'
	                CHECK (state IN ('pending', 'processing', 'done', 'rejected', 'dead')),
	attempts        integer NOT NULL DEFAULT 0,
	last_error      text NOT NULL DEFAULT '',
	result          text NOT NULL DEFAULT '',
	next_attempt_at timestamptz NOT NULL,
	lease_owner     text NOT NULL DEFAULT '',
	lease_until     timestamptz,
	processed_at    timestamptz
);

-- Claims and the depth gauge look only at live and dead events; these
-- partial indexes keep them cheap however many done events pile up.
CREATE INDEX inbox_events_due ON inbox_events (next_attempt_at) WHERE state = 'pending';
CREATE INDEX inbox_events_leased ON inbox_events (lease_until) WHERE state = 'processing';
CREATE INDEX inbox_events_dead ON inbox_events (id) WHERE state = 'dead';

CREATE TABLE completions (
	message_id     text PRIMARY KEY,
	token_id       text NOT NULL UNIQUE REFERENCES flow_tokens (id),
	flow           text NOT NULL,
	wa_id          text NOT NULL DEFAULT '',
	context_id     text NOT NULL DEFAULT '',
	response       bytea NOT NULL,
	completed_at   timestamptz NOT NULL,
	recorded_at    timestamptz NOT NULL,
	handled_at     timestamptz,
	inbox_event_id bigint, -- informational: inbox events may be pruned
	seq            bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX completions_recent ON completions (recorded_at, seq);
CREATE INDEX completions_flow ON completions (flow, recorded_at, seq);

CREATE TABLE outbox_messages (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idempotency_key text NOT NULL UNIQUE,
	recipient       text NOT NULL,
	token_id        text REFERENCES flow_tokens (id),
	payload         bytea NOT NULL,
	state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
	attempts        integer NOT NULL DEFAULT 0,
	last_error      text NOT NULL DEFAULT '',
	next_attempt_at timestamptz NOT NULL,
	lease_owner     text NOT NULL DEFAULT '',
	lease_until     timestamptz,
	wamid           text,
	created_at      timestamptz NOT NULL,
	sent_at         timestamptz
);

CREATE INDEX outbox_messages_due ON outbox_messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_messages_leased ON outbox_messages (lease_until) WHERE state = 'sending';
