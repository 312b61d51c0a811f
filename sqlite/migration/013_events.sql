-- Events to the business and the webhook relay (package events,
-- docs/events.md): the subscriptions events go to, one delivery row per
-- (event, subscription) or relayed webhook, sent from here with a lease
-- like the outbox, and every attempt recorded. Subscription secrets live
-- here: backups of this database are secrets.

CREATE TABLE event_subscriptions (
	id         TEXT PRIMARY KEY,
	url        TEXT NOT NULL,
	secret     TEXT NOT NULL,
	types      TEXT NOT NULL DEFAULT '', -- comma-separated; empty = all
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE event_deliveries (
	id              INTEGER PRIMARY KEY,
	msg_id          TEXT NOT NULL,
	target          TEXT NOT NULL,
	type            TEXT NOT NULL,
	order_key       TEXT NOT NULL DEFAULT '',
	payload         BLOB NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER,
	created_at      INTEGER NOT NULL,
	delivered_at    INTEGER,
	UNIQUE (msg_id, target)
) STRICT;

CREATE INDEX event_deliveries_due ON event_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX event_deliveries_leased ON event_deliveries (lease_until) WHERE state = 'sending';
-- The claim's per-key order check reads this.
CREATE INDEX event_deliveries_live_key ON event_deliveries (order_key, id) WHERE state IN ('pending', 'sending') AND order_key <> '';
CREATE INDEX event_deliveries_state ON event_deliveries (state, id);

CREATE TABLE event_attempts (
	id          INTEGER PRIMARY KEY,
	delivery_id INTEGER NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
	at          INTEGER NOT NULL,
	status      INTEGER NOT NULL,
	duration_us INTEGER NOT NULL,
	error       TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX event_attempts_delivery ON event_attempts (delivery_id, id);
