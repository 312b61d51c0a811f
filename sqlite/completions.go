package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/waflow/waflow"
)

const completionCols = `message_id, token_id, flow, wa_id, context_id, response, completed_at, recorded_at,
	handled_at, coalesce(inbox_event_id, 0)`

func scanCompletion(r rowScanner) (waflow.Completion, error) {
	var c waflow.Completion
	err := r.Scan(&c.MessageID, &c.TokenID, &c.Flow, &c.WAID, &c.ContextID, &c.Response,
		timeCol{&c.CompletedAt}, timeCol{&c.RecordedAt}, timeCol{&c.HandledAt}, &c.InboxEventID)
	return c, err
}

// RecordCompletion implements waflow.CompletionStore.
func (db *DB) RecordCompletion(ctx context.Context, c waflow.Completion) (_ waflow.Completion, err error) {
	if db.isClosed() {
		return waflow.Completion{}, waflow.ErrClosed
	}
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
	defer tx.end(&err)

	stored, err := scanCompletion(tx.QueryRowContext(ctx, "SELECT "+completionCols+" FROM completions WHERE message_id = ?", c.MessageID))
	switch {
	case err == nil && stored.TokenID == c.TokenID:
		return stored, nil // a duplicate or a retry: already recorded
	case err == nil:
		return waflow.Completion{}, wrap(waflow.ErrConflict, "RecordCompletion: the message is recorded for another token")
	case !errors.Is(err, sql.ErrNoRows):
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	if err := useToken(ctx, tx, c.TokenID, c.CompletedAt); err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO completions (message_id, token_id, flow, wa_id, context_id, response,
		completed_at, recorded_at, inbox_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.MessageID, c.TokenID, c.Flow, c.WAID, c.ContextID, c.Response, micros(c.CompletedAt), micros(c.RecordedAt),
		nullIfZero(c.InboxEventID)); err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	if err := tx.Commit(); err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	return c, nil
}

func nullIfZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// DiscardCompletion implements waflow.CompletionStore.
func (db *DB) DiscardCompletion(ctx context.Context, messageID string) (err error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "DiscardCompletion")
	}
	defer tx.end(&err)
	var tokenID string
	var handled sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT token_id, handled_at FROM completions WHERE message_id = ?", messageID).Scan(&tokenID, &handled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return wrap(waflow.ErrNotFound, "DiscardCompletion")
	case err != nil:
		return wrap(err, "DiscardCompletion")
	case handled.Valid:
		return wrap(waflow.ErrConflict, "DiscardCompletion: the completion was handled")
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM completions WHERE message_id = ?", messageID); err != nil {
		return wrap(err, "DiscardCompletion")
	}
	if _, err := tx.ExecContext(ctx, "UPDATE flow_tokens SET state = 'issued', used_at = NULL WHERE id = ? AND state = 'used'", tokenID); err != nil {
		return wrap(err, "DiscardCompletion")
	}
	return wrap(tx.Commit(), "DiscardCompletion")
}

// MarkCompletionHandled implements waflow.CompletionStore.
func (db *DB) MarkCompletionHandled(ctx context.Context, messageID string, at time.Time) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	res, err := db.exec(ctx, "UPDATE completions SET handled_at = coalesce(handled_at, ?) WHERE message_id = ?", micros(at), messageID)
	if err != nil {
		return wrap(err, "MarkCompletionHandled")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return wrap(waflow.ErrNotFound, "MarkCompletionHandled")
	}
	return nil
}

// Completion implements waflow.CompletionStore.
func (db *DB) Completion(ctx context.Context, messageID string) (waflow.Completion, error) {
	return db.completionWhere(ctx, "Completion", "message_id = ?", messageID)
}

// CompletionByToken implements waflow.CompletionStore.
func (db *DB) CompletionByToken(ctx context.Context, tokenID string) (waflow.Completion, error) {
	return db.completionWhere(ctx, "CompletionByToken", "token_id = ?", tokenID)
}

func (db *DB) completionWhere(ctx context.Context, op, where string, arg any) (waflow.Completion, error) {
	if db.isClosed() {
		return waflow.Completion{}, waflow.ErrClosed
	}
	c, err := scanCompletion(db.r.QueryRowContext(ctx, "SELECT "+completionCols+" FROM completions WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.Completion{}, wrap(waflow.ErrNotFound, op)
	}
	return c, wrap(err, op)
}

// Completions implements waflow.CompletionStore.
func (db *DB) Completions(ctx context.Context, f waflow.CompletionFilter) ([]waflow.Completion, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := "SELECT " + completionCols + " FROM completions"
	args := []any{}
	if f.Flow != "" {
		q += " WHERE flow = ?"
		args = append(args, f.Flow)
	}
	q += " ORDER BY recorded_at DESC, rowid DESC LIMIT ?"
	rows, err := db.r.QueryContext(ctx, q, append(args, limit)...)
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
