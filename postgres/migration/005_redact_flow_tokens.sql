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
-- not UTF-8 JSON jsonb accepts, or hold no flow_token string, are left as
-- they are.

DO $migration$
DECLARE
	r      record;
	path   text[];
	doc    text;
	j      jsonb;
	node   jsonb;
	obj    jsonb;
	quoted boolean;
	tok    text;
	sig    text;
	red    text;
BEGIN
	FOR r IN
		SELECT 'inbox' AS tbl, id::text AS key, payload AS body FROM inbox_events
			WHERE position('flow_token'::bytea IN payload) > 0
		UNION ALL
		SELECT 'completion', message_id, response FROM completions
			WHERE position('flow_token'::bytea IN response) > 0
	LOOP
		path := CASE WHEN r.tbl = 'inbox' THEN '{message,interactive,nfm_reply,response_json}'::text[] ELSE '{}'::text[] END;
		BEGIN
			doc := convert_from(r.body, 'UTF8');
			j := doc::jsonb;
			node := j #> path;
			quoted := jsonb_typeof(node) = 'string';
			obj := CASE WHEN quoted THEN (node #>> '{}')::jsonb ELSE node END;
		EXCEPTION WHEN others THEN
			CONTINUE; -- not UTF-8, not JSON, or response_json is not JSON
		END;
		IF jsonb_typeof(obj) IS DISTINCT FROM 'object' OR jsonb_typeof(obj -> 'flow_token') IS DISTINCT FROM 'string' THEN
			CONTINUE;
		END IF;
		tok := obj ->> 'flow_token';
		IF tok = '' THEN
			CONTINUE;
		END IF;
		sig := substring(tok FROM '[^.]*$');
		IF octet_length(tok) <= 1024 AND left(tok, 4) = 'wf1.' AND strpos(substr(tok, 6), '.') > 0 AND length(sig) = 43 THEN
			red := left(tok, length(tok) - 43) || '~' || left(sig, 22);
			doc := replace(doc, tok, red);
		ELSE
			red := '~';
			IF quoted THEN
				doc := jsonb_set(j, path, to_jsonb(jsonb_set(obj, '{flow_token}', to_jsonb(red))::text))::text;
			ELSE
				doc := jsonb_set(j, path || '{flow_token}'::text[], to_jsonb(red))::text;
			END IF;
		END IF;
		IF r.tbl = 'inbox' THEN
			UPDATE inbox_events SET payload = convert_to(doc, 'UTF8') WHERE id = r.key::bigint;
		ELSE
			UPDATE completions SET response = convert_to(doc, 'UTF8') WHERE message_id = r.key;
		END IF;
	END LOOP;
END
$migration$;
