-- The catalog flows' tables (package catalog): bookings, expenses, survey
-- responses, calendar preferences, schedules with their occurrences, budgets
-- with their category limits. Flow tokens are not foreign keys: tokens may
-- be pruned, the records stay. seq orders rows created in the same
-- microsecond by insertion.

CREATE TABLE bookings (
	ref        text PRIMARY KEY,
	token_id   text NOT NULL UNIQUE, -- one booking per flow token
	wa_id      text NOT NULL DEFAULT '',
	start_at   timestamptz NOT NULL,
	seat       integer NOT NULL CHECK (seat >= 1),
	name       text NOT NULL DEFAULT '',
	reason     text NOT NULL DEFAULT '',
	reminder   boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL,
	-- A seat of a slot is given once, whatever the process: the database
	-- refuses the second insert. It also serves BookingCounts' range scan.
	UNIQUE (start_at, seat)
);

CREATE TABLE expenses (
	id           text PRIMARY KEY,
	token_id     text NOT NULL UNIQUE, -- one expense per flow token
	wa_id        text NOT NULL DEFAULT '',
	amount_cents bigint NOT NULL CHECK (amount_cents > 0),
	currency     text NOT NULL CHECK (currency <> ''),
	category     text NOT NULL DEFAULT '',
	description  text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	seq          bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX expenses_user ON expenses (wa_id, created_at, seq);

CREATE TABLE survey_responses (
	message_id     text PRIMARY KEY, -- the completion's wamid
	token_id       text NOT NULL DEFAULT '',
	wa_id          text NOT NULL DEFAULT '',
	rating         integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
	comments       text NOT NULL DEFAULT '',
	follow_up      boolean NOT NULL DEFAULT false,
	contact_method text NOT NULL DEFAULT '',
	contact_value  text NOT NULL DEFAULT '',
	contact_time   text NOT NULL DEFAULT '',
	created_at     timestamptz NOT NULL,
	seq            bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX survey_responses_received ON survey_responses (created_at, seq);

CREATE TABLE calendar_preferences (
	wa_id         text PRIMARY KEY, -- one row per user
	notifications text[] NOT NULL DEFAULT '{}',
	lead_minutes  integer NOT NULL DEFAULT 0,
	time_zone     text NOT NULL CHECK (time_zone <> ''),
	digest        boolean NOT NULL DEFAULT false,
	updated_at    timestamptz NOT NULL
);

CREATE TABLE schedules (
	id               text PRIMARY KEY,
	message_id       text NOT NULL UNIQUE, -- the completion's wamid
	token_id         text NOT NULL DEFAULT '',
	wa_id            text NOT NULL DEFAULT '',
	start_date       text NOT NULL DEFAULT '',
	end_date         text NOT NULL DEFAULT '',
	weekdays         text[] NOT NULL DEFAULT '{}',
	time_of_day      text NOT NULL DEFAULT '',
	duration_minutes integer NOT NULL DEFAULT 0,
	time_zone        text NOT NULL DEFAULT '',
	title            text NOT NULL DEFAULT '',
	notes            text NOT NULL DEFAULT '',
	created_at       timestamptz NOT NULL,
	seq              bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX schedules_user ON schedules (wa_id, created_at, seq);

CREATE TABLE schedule_occurrences (
	schedule_id text NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
	start_at    timestamptz NOT NULL,
	end_at      timestamptz NOT NULL CHECK (end_at >= start_at),
	PRIMARY KEY (schedule_id, start_at)
);

CREATE TABLE budgets (
	id              text PRIMARY KEY,
	token_id        text NOT NULL UNIQUE, -- one budget per flow token
	wa_id           text NOT NULL DEFAULT '',
	currency        text NOT NULL CHECK (currency <> ''),
	period          text NOT NULL DEFAULT '',
	total_cents     bigint NOT NULL CHECK (total_cents > 0),
	alert_threshold integer NOT NULL DEFAULT 0,
	alerts          boolean NOT NULL DEFAULT false,
	created_at      timestamptz NOT NULL,
	seq             bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX budgets_user ON budgets (wa_id, created_at, seq);

CREATE TABLE budget_limits (
	budget_id   text NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
	category    text NOT NULL CHECK (category <> ''),
	limit_cents bigint NOT NULL CHECK (limit_cents >= 0),
	PRIMARY KEY (budget_id, category)
);
