package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

const completionCols = `message_id, token_id, flow, wa_id, context_id, response, completed_at, recorded_at,
	handled_at, coalesce(inbox_event_id, 0)`

func scanCompletion(r pgx.Row) (waflow.Completion, error) {
	var c waflow.Completion
	err := r.Scan(&c.MessageID, &c.TokenID, &c.Flow, &c.WAID, &c.ContextID, &c.Response,
		timeCol{&c.CompletedAt}, timeCol{&c.RecordedAt}, timeCol{&c.HandledAt}, &c.InboxEventID)
	return c, err
}

// RecordCompletion implements waflow.CompletionStore.
func (db *DB) RecordCompletion(ctx context.Context, c waflow.Completion) (waflow.Completion, error) {
	if err := c.Validate(); err != nil {
		return waflow.Completion{}, err
	}
	if c.RecordedAt.IsZero() {
		c.RecordedAt = db.now()
	}
	c.HandledAt = time.Time{}
	tx, err := db.begin(ctx)
	if err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	defer tx.Rollback(ctx)

	if stored, done, err := sameCompletion(ctx, tx, c); done {
		return stored, wrap(err, "RecordCompletion")
	}
	if err := useToken(ctx, tx, c.TokenID, c.CompletedAt); err != nil {
		if errors.Is(err, waflow.ErrTokenUsed) {
			// A concurrent call with the same message may have won the
			// compare-and-set since the check above: then this one is a
			// duplicate, not a replay.
			if stored, done, err := sameCompletion(ctx, tx, c); done {
				return stored, wrap(err, "RecordCompletion")
			}
		}
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	var inbox any
	if c.InboxEventID != 0 {
		inbox = c.InboxEventID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO completions (message_id, token_id, flow, wa_id, context_id, response,
		completed_at, recorded_at, inbox_event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.MessageID, c.TokenID, c.Flow, c.WAID, c.ContextID, c.Response, c.CompletedAt, c.RecordedAt, inbox); err != nil {
		if isUniqueViolation(err) {
			return waflow.Completion{}, wrap(waflow.ErrConflict, "RecordCompletion: the message is recorded for another token")
		}
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	if err := tx.Commit(ctx); err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	return c, nil
}

// sameCompletion looks for a completion already recorded with c's message
// id. done is true when one is: then the caller returns stored (same token)
// or ErrConflict (another token).
func sameCompletion(ctx context.Context, q querier, c waflow.Completion) (stored waflow.Completion, done bool, err error) {
	stored, err = scanCompletion(q.QueryRow(ctx, "SELECT "+completionCols+" FROM completions WHERE message_id = $1", c.MessageID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return waflow.Completion{}, false, nil
	case err != nil:
		return waflow.Completion{}, true, err
	case stored.TokenID != c.TokenID:
		return waflow.Completion{}, true, errors.Join(waflow.ErrConflict, errors.New("the message is recorded for another token"))
	default:
		return stored, true, nil
	}
}

// DiscardCompletion implements waflow.CompletionStore.
func (db *DB) DiscardCompletion(ctx context.Context, messageID string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "DiscardCompletion")
	}
	defer tx.Rollback(ctx)
	var tokenID string
	var handled *time.Time
	// FOR UPDATE: a concurrent MarkCompletionHandled waits, then finds no
	// row; it never marks a completion this call is deleting.
	err = tx.QueryRow(ctx, "SELECT token_id, handled_at FROM completions WHERE message_id = $1 FOR UPDATE", messageID).Scan(&tokenID, &handled)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return wrap(waflow.ErrNotFound, "DiscardCompletion")
	case err != nil:
		return wrap(err, "DiscardCompletion")
	case handled != nil:
		return wrap(waflow.ErrConflict, "DiscardCompletion: the completion was handled")
	}
	if _, err := tx.Exec(ctx, "DELETE FROM completions WHERE message_id = $1", messageID); err != nil {
		return wrap(err, "DiscardCompletion")
	}
	if _, err := tx.Exec(ctx, "UPDATE flow_tokens SET state = 'issued', used_at = NULL WHERE id = $1 AND state = 'used'", tokenID); err != nil {
		return wrap(err, "DiscardCompletion")
	}
	return wrap(tx.Commit(ctx), "DiscardCompletion")
}

// MarkCompletionHandled implements waflow.CompletionStore.
func (db *DB) MarkCompletionHandled(ctx context.Context, messageID string, at time.Time) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, "UPDATE completions SET handled_at = coalesce(handled_at, $1) WHERE message_id = $2", at, messageID)
	if err != nil {
		return wrap(err, "MarkCompletionHandled")
	}
	if tag.RowsAffected() == 0 {
		return wrap(waflow.ErrNotFound, "MarkCompletionHandled")
	}
	return nil
}

// Completion implements waflow.CompletionStore.
func (db *DB) Completion(ctx context.Context, messageID string) (waflow.Completion, error) {
	return db.completionWhere(ctx, "Completion", "message_id = $1", messageID)
}

// CompletionByToken implements waflow.CompletionStore.
func (db *DB) CompletionByToken(ctx context.Context, tokenID string) (waflow.Completion, error) {
	return db.completionWhere(ctx, "CompletionByToken", "token_id = $1", tokenID)
}

func (db *DB) completionWhere(ctx context.Context, op, where string, arg any) (waflow.Completion, error) {
	if db.closed.Load() {
		return waflow.Completion{}, waflow.ErrClosed
	}
	c, err := scanCompletion(db.pool.QueryRow(ctx, "SELECT "+completionCols+" FROM completions WHERE "+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.Completion{}, wrap(waflow.ErrNotFound, op)
	}
	return c, wrap(err, op)
}

// Completions implements waflow.CompletionStore.
func (db *DB) Completions(ctx context.Context, f waflow.CompletionFilter) ([]waflow.Completion, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, "SELECT "+completionCols+` FROM completions
		WHERE $1 = '' OR flow = $1 ORDER BY recorded_at DESC, seq DESC LIMIT $2`, f.Flow, limit)
	if err != nil {
		return nil, wrap(err, "Completions")
	}
	defer rows.Close()
	out := []waflow.Completion{}
	for rows.Next() {
		c, err := scanCompletion(rows)
		if err != nil {
			return nil, wrap(err, "Completions")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "Completions")
}
