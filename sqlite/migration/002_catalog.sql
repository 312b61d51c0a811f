-- The catalog flows' tables (package catalog): bookings, expenses, survey
-- responses, calendar preferences, schedules with their occurrences, budgets
-- with their category limits. Times are INTEGER microseconds since the Unix
-- epoch (UTC), as in 001_core.sql; lists of ids are JSON arrays of strings.
-- Flow tokens are not foreign keys: tokens may be pruned, the records stay.

CREATE TABLE bookings (
	ref        TEXT PRIMARY KEY,
	token_id   TEXT NOT NULL UNIQUE, -- one booking per flow token
	wa_id      TEXT NOT NULL DEFAULT '',
	start_at   INTEGER NOT NULL,
	seat       INTEGER NOT NULL CHECK (seat >= 1),
	name       TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL DEFAULT '',
	reminder   INTEGER NOT NULL DEFAULT 0 CHECK (reminder IN (0, 1)),
	created_at INTEGER NOT NULL,
	-- A seat of a slot is given once, whatever the process: the database
	-- refuses the second insert. It also serves BookingCounts' range scan.
	UNIQUE (start_at, seat)
) STRICT;

CREATE TABLE expenses (
	id           TEXT PRIMARY KEY,
	token_id     TEXT NOT NULL UNIQUE, -- one expense per flow token
	wa_id        TEXT NOT NULL DEFAULT '',
	amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
	currency     TEXT NOT NULL CHECK (currency <> ''),
	category     TEXT NOT NULL DEFAULT '',
	description  TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX expenses_user ON expenses (wa_id, created_at);

CREATE TABLE survey_responses (
	message_id     TEXT PRIMARY KEY, -- the completion's wamid
	token_id       TEXT NOT NULL DEFAULT '',
	wa_id          TEXT NOT NULL DEFAULT '',
	rating         INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
	comments       TEXT NOT NULL DEFAULT '',
	follow_up      INTEGER NOT NULL DEFAULT 0 CHECK (follow_up IN (0, 1)),
	contact_method TEXT NOT NULL DEFAULT '',
	contact_value  TEXT NOT NULL DEFAULT '',
	contact_time   TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX survey_responses_received ON survey_responses (created_at);

CREATE TABLE calendar_preferences (
	wa_id         TEXT PRIMARY KEY, -- one row per user
	notifications TEXT NOT NULL DEFAULT '[]',
	lead_minutes  INTEGER NOT NULL DEFAULT 0,
	time_zone     TEXT NOT NULL CHECK (time_zone <> ''),
	digest        INTEGER NOT NULL DEFAULT 0 CHECK (digest IN (0, 1)),
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE schedules (
	id               TEXT PRIMARY KEY,
	message_id       TEXT NOT NULL UNIQUE, -- the completion's wamid
	token_id         TEXT NOT NULL DEFAULT '',
	wa_id            TEXT NOT NULL DEFAULT '',
	start_date       TEXT NOT NULL DEFAULT '',
	end_date         TEXT NOT NULL DEFAULT '',
	weekdays         TEXT NOT NULL DEFAULT '[]',
	time_of_day      TEXT NOT NULL DEFAULT '',
	duration_minutes INTEGER NOT NULL DEFAULT 0,
	time_zone        TEXT NOT NULL DEFAULT '',
	title            TEXT NOT NULL DEFAULT '',
	notes            TEXT NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX schedules_user ON schedules (wa_id, created_at);

CREATE TABLE schedule_occurrences (
	schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
	start_at    INTEGER NOT NULL,
	end_at      INTEGER NOT NULL CHECK (end_at >= start_at),
	PRIMARY KEY (schedule_id, start_at)
) STRICT;

CREATE TABLE budgets (
	id              TEXT PRIMARY KEY,
	token_id        TEXT NOT NULL UNIQUE, -- one budget per flow token
	wa_id           TEXT NOT NULL DEFAULT '',
	currency        TEXT NOT NULL CHECK (currency <> ''),
	period          TEXT NOT NULL DEFAULT '',
	total_cents     INTEGER NOT NULL CHECK (total_cents > 0),
	alert_threshold INTEGER NOT NULL DEFAULT 0,
	alerts          INTEGER NOT NULL DEFAULT 0 CHECK (alerts IN (0, 1)),
	created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX budgets_user ON budgets (wa_id, created_at);

CREATE TABLE budget_limits (
	budget_id   TEXT NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
	category    TEXT NOT NULL CHECK (category <> ''),
	limit_cents INTEGER NOT NULL CHECK (limit_cents >= 0),
	PRIMARY KEY (budget_id, category)
) STRICT;
