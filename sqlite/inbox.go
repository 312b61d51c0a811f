package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/waflow/waflow"
)

const eventCols = `id, dedupe_key, kind, payload, received_at, state, attempts, last_error, result,
	next_attempt_at, lease_owner, lease_until, processed_at`

func scanEvent(r rowScanner) (waflow.InboxEvent, error) {
	var e waflow.InboxEvent
	var kind, state string
	err := r.Scan(&e.ID, &e.DedupeKey, &kind, &e.Payload, timeCol{&e.ReceivedAt}, &state, &e.Attempts,
		&e.LastError, &e.Result, timeCol{&e.NextAttemptAt}, &e.LeaseOwner, timeCol{&e.LeaseUntil},
		timeCol{&e.ProcessedAt})
	e.Kind, e.State = waflow.EventKind(kind), waflow.InboxState(state)
	return e, err
}

func validateEvents(events []waflow.InboxEvent) error {
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("AddEvents: event %d: %w", i, err)
		}
	}
	return nil
}

// AddEvents implements waflow.InboxStore. Its events are stored all or
// none, in the shared transaction of the group commit (commit.go): it
// returns once that transaction has committed, or failed.
func (db *DB) AddEvents(ctx context.Context, events []waflow.InboxEvent) (int, error) {
	if db.isClosed() {
		return 0, waflow.ErrClosed
	}
	if err := validateEvents(events); err != nil {
		return 0, err
	}
	if len(events) == 0 {
		return 0, nil
	}
	now := db.now()
	evs := make([]waflow.InboxEvent, len(events))
	for i, e := range events {
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = now
		}
		evs[i] = e
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, wrap(err, "AddEvents")
	}
	defer tx.Rollback()
	wctx := context.WithoutCancel(ctx) // see opTx: a granted write runs to its end
	added, err := insertEvents(wctx, tx.StmtContext(wctx, db.insertEvent), evs)
	if err != nil {
		return 0, wrap(err, "AddEvents")
	}
	if err := tx.Commit(); err != nil {
		return 0, wrap(err, "AddEvents")
	}
	return added, nil
}

func insertEvents(ctx context.Context, stmt *sql.Stmt, events []waflow.InboxEvent) (int, error) {
	added := 0
	for _, e := range events {
		res, err := stmt.ExecContext(ctx, e.DedupeKey, string(e.Kind), e.Payload, micros(e.ReceivedAt), micros(e.ReceivedAt))
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		added += int(n)
	}
	return added, nil
}

// ClaimEvents implements waflow.InboxStore (see claim).
func (db *DB) ClaimEvents(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.InboxEvent, error) {
	return claim(ctx, db, "ClaimEvents", "inbox_events", "processing", eventCols, owner, max, lease, scanEvent,
		func(e waflow.InboxEvent) int64 { return e.ID }, "")
}

// FinishEvent implements waflow.InboxStore.
func (db *DB) FinishEvent(ctx context.Context, id int64, owner string, state waflow.InboxState, result string) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if err := state.ValidateFinal(); err != nil {
		return err
	}
	return db.settle(ctx, "FinishEvent", "inbox_events", "processing", id, owner,
		"state = ?, result = ?, processed_at = ?, lease_owner = '', lease_until = NULL",
		string(state), result, micros(db.now()))
}

// RetryEvent implements waflow.InboxStore.
func (db *DB) RetryEvent(ctx context.Context, id int64, owner string, lastError string, next time.Time) error {
	return db.settle(ctx, "RetryEvent", "inbox_events", "processing", id, owner,
		"state = 'pending', last_error = ?, next_attempt_at = ?, lease_owner = '', lease_until = NULL",
		lastError, micros(next))
}

// InboxEvent implements waflow.InboxStore.
func (db *DB) InboxEvent(ctx context.Context, id int64) (waflow.InboxEvent, error) {
	return db.eventWhere(ctx, "InboxEvent", "id = ?", id)
}

// InboxEventByKey implements waflow.InboxStore.
func (db *DB) InboxEventByKey(ctx context.Context, dedupeKey string) (waflow.InboxEvent, error) {
	return db.eventWhere(ctx, "InboxEventByKey", "dedupe_key = ?", dedupeKey)
}

func (db *DB) eventWhere(ctx context.Context, op, where string, arg any) (waflow.InboxEvent, error) {
	if db.isClosed() {
		return waflow.InboxEvent{}, waflow.ErrClosed
	}
	e, err := scanEvent(db.r.QueryRowContext(ctx, "SELECT "+eventCols+" FROM inbox_events WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.InboxEvent{}, wrap(waflow.ErrNotFound, op)
	}
	return e, wrap(err, op)
}

// InboxEvents implements waflow.InboxStore.
func (db *DB) InboxEvents(ctx context.Context, f waflow.InboxFilter) ([]waflow.InboxEvent, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	where := []string{"id > ?"}
	args := []any{f.AfterID}
	if f.State != nil {
		where = append(where, "state = ?")
		args = append(args, string(*f.State))
	}
	if f.Kind != nil {
		where = append(where, "kind = ?")
		args = append(args, string(*f.Kind))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, "SELECT "+eventCols+" FROM inbox_events WHERE "+
		strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", args...)
	if err != nil {
		return nil, wrap(err, "InboxEvents")
	}
	evs, err := collect(rows, scanEvent)
	return evs, wrap(err, "InboxEvents")
}

// InboxStats implements waflow.InboxStore. Each count reads one partial
// index.
func (db *DB) InboxStats(ctx context.Context) (waflow.InboxStats, error) {
	if db.isClosed() {
		return waflow.InboxStats{}, waflow.ErrClosed
	}
	var s waflow.InboxStats
	err := db.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM inbox_events WHERE state = 'pending'),
		(SELECT count(*) FROM inbox_events WHERE state = 'processing'),
		(SELECT count(*) FROM inbox_events WHERE state = 'dead')`).Scan(&s.Pending, &s.Processing, &s.Dead)
	return s, wrap(err, "InboxStats")
}
