-- Events to the business and the webhook relay (package events,
-- docs/events.md): the subscriptions events go to, one delivery row per
-- (event, subscription) or relayed webhook, sent from here with a lease
-- like the outbox, and every attempt recorded. Subscription secrets live
-- here: backups of this database are secrets.

CREATE TABLE event_subscriptions (
	id         text PRIMARY KEY,
	url        text NOT NULL,
	secret     text NOT NULL,
	types      text NOT NULL DEFAULT '', -- comma-separated; empty = all
	created_at timestamptz NOT NULL
);

CREATE TABLE event_deliveries (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	msg_id          text NOT NULL,
	target          text NOT NULL,
	type            text NOT NULL,
	order_key       text NOT NULL DEFAULT '',
	payload         bytea NOT NULL,
	state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
	attempts        integer NOT NULL DEFAULT 0,
	last_error      text NOT NULL DEFAULT '',
	next_attempt_at timestamptz NOT NULL,
	lease_owner     text NOT NULL DEFAULT '',
	lease_until     timestamptz,
	created_at      timestamptz NOT NULL,
	delivered_at    timestamptz,
	UNIQUE (msg_id, target)
);

CREATE INDEX event_deliveries_due ON event_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX event_deliveries_leased ON event_deliveries (lease_until) WHERE state = 'sending';
-- The claim's per-key order check reads this.
CREATE INDEX event_deliveries_live_key ON event_deliveries (order_key, id) WHERE state IN ('pending', 'sending') AND order_key <> '';
CREATE INDEX event_deliveries_state ON event_deliveries (state, id);

CREATE TABLE event_attempts (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delivery_id bigint NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
	at          timestamptz NOT NULL,
	status      integer NOT NULL,
	duration_us bigint NOT NULL,
	error       text NOT NULL DEFAULT ''
);

CREATE INDEX event_attempts_delivery ON event_attempts (delivery_id, id);
