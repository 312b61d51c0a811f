-- Every completion is kept, once, whatever waflow did with it: the ones it
-- rejected (a replayed or forged token, values that fail their checks, one
-- its handler rejected) and the ones it cannot attribute to a flow (a flow
-- message sent by another system) too. So a completion gets a status and a
-- result, the user's business-scoped user id and when its webhook arrived;
-- its token and its flow may be empty. A token is still used by one
-- completion at most: the unique index now leaves rejected ones out, which
-- did not use their token. SQLite cannot drop NOT NULL nor a UNIQUE
-- constraint, so the table is rebuilt (nothing references it).
--
-- received_at of the rows stored before is their inbox event's received_at
-- where the event is still there, else recorded_at; their status is handled
-- or recorded.

CREATE TABLE completions_006 (
	message_id     TEXT PRIMARY KEY,
	token_id       TEXT REFERENCES flow_tokens (id),
	flow           TEXT NOT NULL,
	wa_id          TEXT NOT NULL DEFAULT '',
	user_id        TEXT NOT NULL DEFAULT '',
	context_id     TEXT NOT NULL DEFAULT '',
	response       BLOB NOT NULL,
	completed_at   INTEGER NOT NULL,
	received_at    INTEGER NOT NULL,
	recorded_at    INTEGER NOT NULL,
	handled_at     INTEGER,
	inbox_event_id INTEGER, -- informational: inbox events may be pruned
	status         TEXT NOT NULL DEFAULT 'recorded'
	               CHECK (status IN ('recorded', 'handled', 'failed', 'rejected')),
	result         TEXT NOT NULL DEFAULT ''
) STRICT;

INSERT INTO completions_006 (message_id, token_id, flow, wa_id, context_id, response, completed_at,
	received_at, recorded_at, handled_at, inbox_event_id, status)
SELECT c.message_id, c.token_id, c.flow, c.wa_id, c.context_id, c.response, c.completed_at,
	coalesce((SELECT e.received_at FROM inbox_events AS e WHERE e.id = c.inbox_event_id), c.recorded_at),
	c.recorded_at, c.handled_at, c.inbox_event_id,
	CASE WHEN c.handled_at IS NULL THEN 'recorded' ELSE 'handled' END
FROM completions AS c
ORDER BY c.rowid;

DROP TABLE completions;
ALTER TABLE completions_006 RENAME TO completions;

CREATE UNIQUE INDEX completions_token ON completions (token_id) WHERE status <> 'rejected';
CREATE INDEX completions_recent ON completions (recorded_at);
-- EachCompletion reads one flow's completions in this order.
CREATE INDEX completions_flow ON completions (flow, received_at, message_id);
