-- The keys of the HTTP API (/api/v1, package api). The key's text is
-- shown once, when "waflow apikeys create" makes it; only the SHA-256 hash
-- of its secret part is kept. A name is unique among the keys that are not
-- revoked, so a revoked key's name can be given to its replacement.
-- Times are INTEGER microseconds since the Unix epoch (UTC), as in 001.

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	secret_hash  BLOB NOT NULL,
	scopes       TEXT NOT NULL, -- comma-separated: read,send
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER
) STRICT;

CREATE UNIQUE INDEX api_keys_name ON api_keys (name) WHERE revoked_at IS NULL;
