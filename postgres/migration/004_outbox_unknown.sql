-- An outbox message whose send may have reached Meta gets a state of its
-- own, 'unknown', instead of 'dead' with a last_error starting with
-- "uncertain: "; the rows settled the old way are converted, their prefix
-- dropped.

ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_state_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_state_check
	CHECK (state IN ('pending', 'sending', 'sent', 'dead', 'unknown'));

UPDATE outbox_messages SET state = 'unknown', last_error = substr(last_error, 12)
WHERE state = 'dead' AND starts_with(last_error, 'uncertain: ');
