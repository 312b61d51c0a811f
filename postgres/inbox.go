package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/waflow/waflow"
)

const eventCols = `id, dedupe_key, kind, payload, received_at, state, attempts, last_error, result,
	next_attempt_at, lease_owner, lease_until, processed_at`

func scanEvent(r pgx.Row) (waflow.InboxEvent, error) {
	var e waflow.InboxEvent
	var kind, state string
	err := r.Scan(&e.ID, &e.DedupeKey, &kind, &e.Payload, timeCol{&e.ReceivedAt}, &state, &e.Attempts,
		&e.LastError, &e.Result, timeCol{&e.NextAttemptAt}, &e.LeaseOwner, timeCol{&e.LeaseUntil},
		timeCol{&e.ProcessedAt})
	e.Kind, e.State = waflow.EventKind(kind), waflow.InboxState(state)
	return e, err
}

// AddEvents implements waflow.InboxStore: one statement, one transaction.
func (db *DB) AddEvents(ctx context.Context, events []waflow.InboxEvent) (int, error) {
	if db.closed.Load() {
		return 0, waflow.ErrClosed
	}
	n := len(events)
	keys, kinds := make([]string, n), make([]string, n)
	// A zero ReceivedAt is NULL here and becomes the database's clock, so an
	// event is due at once even when this replica's clock runs ahead.
	payloads, received := make([][]byte, n), make([]pgtype.Timestamptz, n)
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return 0, fmt.Errorf("AddEvents: event %d: %w", i, err)
		}
		keys[i], kinds[i], payloads[i] = e.DedupeKey, string(e.Kind), e.Payload
		received[i] = pgtype.Timestamptz{Time: e.ReceivedAt, Valid: !e.ReceivedAt.IsZero()}
	}
	if n == 0 {
		return 0, nil
	}
	// ON CONFLICT DO NOTHING also skips a key repeated within the batch.
	tag, err := db.pool.Exec(ctx, `INSERT INTO inbox_events (dedupe_key, kind, payload, received_at, next_attempt_at)
		SELECT k, kd, p, coalesce(r, $5::timestamptz, now()), coalesce(r, $5::timestamptz, now())
		FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[]) WITH ORDINALITY AS e(k, kd, p, r, o)
		ORDER BY o
		ON CONFLICT (dedupe_key) DO NOTHING`, keys, kinds, payloads, received, db.dbClock())
	if err != nil {
		return 0, wrap(err, "AddEvents")
	}
	return int(tag.RowsAffected()), nil
}

// ClaimEvents implements waflow.InboxStore (see claim).
func (db *DB) ClaimEvents(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.InboxEvent, error) {
	return claim(ctx, db, "ClaimEvents", "inbox_events", "processing", eventCols, owner, max, lease, scanEvent,
		func(e waflow.InboxEvent) int64 { return e.ID }, "")
}

// FinishEvent implements waflow.InboxStore.
func (db *DB) FinishEvent(ctx context.Context, id int64, owner string, state waflow.InboxState, result string) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if err := state.ValidateFinal(); err != nil {
		return err
	}
	return db.settle(ctx, "FinishEvent", "inbox_events", "processing", id, owner,
		"state = $4, result = $5, processed_at = $6, lease_owner = '', lease_until = NULL",
		string(state), result, db.now())
}

// RetryEvent implements waflow.InboxStore. next is stored as the same
// distance from the database's clock as from this process's (fromNow).
func (db *DB) RetryEvent(ctx context.Context, id int64, owner string, lastError string, next time.Time) error {
	return db.settle(ctx, "RetryEvent", "inbox_events", "processing", id, owner,
		"state = 'pending', last_error = $4, lease_owner = '', lease_until = NULL, "+
			"next_attempt_at = coalesce($6::timestamptz, now()) + $5::bigint * interval '1 microsecond'",
		lastError, db.fromNow(next), db.dbClock())
}

// InboxEvent implements waflow.InboxStore.
func (db *DB) InboxEvent(ctx context.Context, id int64) (waflow.InboxEvent, error) {
	return db.eventWhere(ctx, "InboxEvent", "id = $1", id)
}

// InboxEventByKey implements waflow.InboxStore.
func (db *DB) InboxEventByKey(ctx context.Context, dedupeKey string) (waflow.InboxEvent, error) {
	return db.eventWhere(ctx, "InboxEventByKey", "dedupe_key = $1", dedupeKey)
}

func (db *DB) eventWhere(ctx context.Context, op, where string, arg any) (waflow.InboxEvent, error) {
	if db.closed.Load() {
		return waflow.InboxEvent{}, waflow.ErrClosed
	}
	e, err := scanEvent(db.pool.QueryRow(ctx, "SELECT "+eventCols+" FROM inbox_events WHERE "+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.InboxEvent{}, wrap(waflow.ErrNotFound, op)
	}
	return e, wrap(err, op)
}

// InboxEvents implements waflow.InboxStore.
func (db *DB) InboxEvents(ctx context.Context, f waflow.InboxFilter) ([]waflow.InboxEvent, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	where := []string{"id > $1"}
	args := []any{f.AfterID}
	if f.State != nil {
		args = append(args, string(*f.State))
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	if f.Kind != nil {
		args = append(args, string(*f.Kind))
		where = append(where, fmt.Sprintf("kind = $%d", len(args)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := db.pool.Query(ctx, "SELECT "+eventCols+" FROM inbox_events WHERE "+
		strings.Join(where, " AND ")+fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, wrap(err, "InboxEvents")
	}
	evs, err := collect(rows, scanEvent)
	return evs, wrap(err, "InboxEvents")
}

// InboxStats implements waflow.InboxStore. Each count reads one partial
// index.
func (db *DB) InboxStats(ctx context.Context) (waflow.InboxStats, error) {
	if db.closed.Load() {
		return waflow.InboxStats{}, waflow.ErrClosed
	}
	var s waflow.InboxStats
	err := db.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM inbox_events WHERE state = 'pending'),
		(SELECT count(*) FROM inbox_events WHERE state = 'processing'),
		(SELECT count(*) FROM inbox_events WHERE state = 'dead')`).Scan(&s.Pending, &s.Processing, &s.Dead)
	return s, wrap(err, "InboxStats")
}
