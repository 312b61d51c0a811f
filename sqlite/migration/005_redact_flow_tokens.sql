-- Flow tokens are no longer stored in clear. The webhook receiver now
-- stores a completion's flow_token in flowtoken.Redact's form (the payload,
-- the signature cut to 22 characters after a "~"), from which the worker
-- still reads the claims and checks the token was issued here. This converts
-- the rows stored before: the flow_token of each inbox event's response_json
-- (message.interactive.nfm_reply.response_json, a string of JSON or an
-- object) and of each completion's response.
--
-- The redaction is flowtoken.Redact written in SQL; change them together.
-- A waflow token ("wf1." payload "." 43-character signature) is replaced
-- wherever it appears in the row, so copies go too and the rest of the row
-- keeps its bytes; any other non-empty flow_token becomes "~". Rows that are
-- not JSON, or hold no flow_token string, are left as they are.

CREATE TEMP TABLE redact_005 (
	tbl    TEXT NOT NULL,    -- 'inbox' or 'completion'
	key    TEXT NOT NULL,    -- inbox_events.id or completions.message_id
	doc    TEXT NOT NULL,    -- the row's JSON
	path   TEXT NOT NULL,    -- where response_json is in doc
	quoted INTEGER,          -- response_json is a string of JSON
	obj    TEXT,             -- response_json, the object
	tok    TEXT,             -- its flow_token
	head   TEXT,             -- tok up to and with its last "."
	red    TEXT              -- tok redacted
);

INSERT INTO redact_005 (tbl, key, doc, path)
	SELECT 'inbox', CAST(id AS TEXT), CAST(payload AS TEXT), '$.message.interactive.nfm_reply.response_json'
	FROM inbox_events
	WHERE instr(CAST(payload AS TEXT), 'flow_token') > 0 AND json_valid(CAST(payload AS TEXT));

INSERT INTO redact_005 (tbl, key, doc, path)
	SELECT 'completion', message_id, CAST(response AS TEXT), '$'
	FROM completions
	WHERE instr(CAST(response AS TEXT), 'flow_token') > 0 AND json_valid(CAST(response AS TEXT));

UPDATE redact_005 SET
	quoted = (json_type(doc, path) = 'text'),
	obj = CASE WHEN json_type(doc, path) IN ('text', 'object') THEN json_extract(doc, path) END;

-- CASE, not AND: json_type must not see what json_valid refused.
UPDATE redact_005 SET tok = CASE WHEN json_valid(obj) THEN
	CASE WHEN json_type(obj, '$.flow_token') = 'text' THEN json_extract(obj, '$.flow_token') END END;

DELETE FROM redact_005 WHERE tok IS NULL OR tok = '';

-- rtrim(tok, every character of tok but ".") leaves tok up to its last ".".
UPDATE redact_005 SET head = rtrim(tok, replace(tok, '.', ''));

UPDATE redact_005 SET red = CASE
	WHEN length(CAST(tok AS BLOB)) <= 1024 AND substr(tok, 1, 4) = 'wf1.' AND instr(substr(tok, 6), '.') > 0
		AND length(tok) - length(head) = 43
	THEN head || '~' || substr(tok, length(head) + 1, 22)
	ELSE '~'
END;

-- || '' makes json_set's result plain text, so that it is stored as a
-- string of JSON, not as a nested object.
UPDATE redact_005 SET doc = CASE
	WHEN red <> '~' THEN replace(doc, tok, red)
	WHEN quoted THEN json_set(doc, path, json_set(obj, '$.flow_token', red) || '')
	ELSE json_set(doc, path || '.flow_token', red)
END;

UPDATE inbox_events SET payload = CAST(r.doc AS BLOB)
	FROM redact_005 AS r WHERE r.tbl = 'inbox' AND inbox_events.id = CAST(r.key AS INTEGER);

UPDATE completions SET response = CAST(r.doc AS BLOB)
	FROM redact_005 AS r WHERE r.tbl = 'completion' AND completions.message_id = r.key;

DROP TABLE redact_005;
