-- The keys of the HTTP API (/api/v1, package api). The key's text is
-- shown once, when "waflow apikeys create" makes it; only the SHA-256 hash
-- of its secret part is kept. A name is unique among the keys that are not
-- revoked, so a revoked key's name can be given to its replacement.

CREATE TABLE api_keys (
	id           text PRIMARY KEY,
	name         text NOT NULL,
	secret_hash  bytea NOT NULL,
	scopes       text NOT NULL, -- comma-separated: read,send
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	revoked_at   timestamptz
);

CREATE UNIQUE INDEX api_keys_name ON api_keys (name) WHERE revoked_at IS NULL;
