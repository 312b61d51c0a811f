-- The files users send with PhotoPicker and DocumentPicker (package media),
-- decrypted and checked, under their SHA-256: what every replica can open.

CREATE TABLE media_files (
	key        text PRIMARY KEY,
	data       bytea NOT NULL,
	size       bigint NOT NULL,
	created_at timestamptz NOT NULL
);
