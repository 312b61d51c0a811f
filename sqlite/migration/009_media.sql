-- The files users send with PhotoPicker and DocumentPicker (package media),
-- decrypted and checked, under their SHA-256: what every reader of this
-- database can open. Times are INTEGER microseconds since the Unix epoch.

CREATE TABLE media_files (
	key        TEXT PRIMARY KEY,
	data       BLOB NOT NULL,
	size       INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
