-- Every completion is kept, once, whatever waflow did with it: the ones it
-- rejected (a replayed or forged token, values that fail their checks, one
-- its handler rejected) and the ones it cannot attribute to a flow (a flow
-- message sent by another system) too. So a completion gets a status and a
-- result, the user's business-scoped user id and when its webhook arrived;
-- its token and its flow may be empty. A token is still used by one
-- completion at most: the unique index now leaves rejected ones out, which
-- did not use their token.
--
-- received_at of the rows stored before is their inbox event's received_at
-- where the event is still there, else recorded_at; their status is handled
-- or recorded.

ALTER TABLE completions
	ALTER COLUMN token_id DROP NOT NULL,
	DROP CONSTRAINT completions_token_id_key,
	ADD COLUMN user_id text NOT NULL DEFAULT '',
	ADD COLUMN received_at timestamptz,
	ADD COLUMN status text NOT NULL DEFAULT 'recorded'
		CHECK (status IN ('recorded', 'handled', 'failed', 'rejected')),
	ADD COLUMN result text NOT NULL DEFAULT '';

UPDATE completions AS c SET
	received_at = coalesce((SELECT e.received_at FROM inbox_events AS e WHERE e.id = c.inbox_event_id), c.recorded_at),
	status = CASE WHEN c.handled_at IS NULL THEN 'recorded' ELSE 'handled' END;

ALTER TABLE completions ALTER COLUMN received_at SET NOT NULL;

CREATE UNIQUE INDEX completions_token ON completions (token_id) WHERE status <> 'rejected';
DROP INDEX completions_flow;
-- EachCompletion reads one flow's completions in this order.
CREATE INDEX completions_flow ON completions (flow, received_at, message_id);
