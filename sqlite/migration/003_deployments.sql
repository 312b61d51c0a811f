-- What "waflow flows deploy" last uploaded to each flow of a WhatsApp
-- Business Account, so that a second deploy uploads nothing unchanged.
-- Times are INTEGER microseconds since the Unix epoch (UTC), as in 001.

CREATE TABLE flow_deployments (
	waba_id      TEXT NOT NULL,
	flow         TEXT NOT NULL,
	flow_id      TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (waba_id, flow)
) STRICT;
