-- What "waflow flows deploy" last uploaded to each flow of a WhatsApp
-- Business Account, so that a second deploy uploads nothing unchanged.

CREATE TABLE flow_deployments (
	waba_id      text NOT NULL,
	flow         text NOT NULL,
	flow_id      text NOT NULL,
	content_hash text NOT NULL,
	updated_at   timestamptz NOT NULL,
	PRIMARY KEY (waba_id, flow)
);
