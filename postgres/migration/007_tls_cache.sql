-- The ACME certificate cache of "waflow serve" with WAFLOW_TLS_DOMAINS
-- (internal/tlsconf): the ACME account key, the certificates with their
-- private keys, and pending challenge tokens, shared by the replicas so
-- that they serve one certificate and do not each ask the CA for one.
-- Private keys live here: backups of this database are secrets.

CREATE TABLE tls_cache (
	key        text PRIMARY KEY,
	data       bytea NOT NULL,
	updated_at timestamptz NOT NULL
);
