package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"time"

	"github.com/waflow/waflow"
)

const completionCols = `message_id, coalesce(token_id, ''), flow, wa_id, user_id, parent_user_id, username, context_id, response,
	completed_at, received_at, recorded_at, handled_at, coalesce(inbox_event_id, 0), status, result`

func scanCompletion(r rowScanner) (waflow.Completion, error) {
	var c waflow.Completion
	var status string
	err := r.Scan(&c.MessageID, &c.TokenID, &c.Flow, &c.WAID, &c.UserID, &c.ParentUserID, &c.Username, &c.ContextID, &c.Response,
		timeCol{&c.CompletedAt}, timeCol{&c.ReceivedAt}, timeCol{&c.RecordedAt}, timeCol{&c.HandledAt},
		&c.InboxEventID, &status, &c.Result)
	c.Status = waflow.CompletionStatus(status)
	return c, err
}

// insertCompletion stores c as it is.
func insertCompletion(ctx context.Context, tx *opTx, c waflow.Completion) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO completions (message_id, token_id, flow, wa_id, user_id, parent_user_id,
		username, context_id, response, completed_at, received_at, recorded_at, inbox_event_id, status, result)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.MessageID, nullIfEmpty(c.TokenID), c.Flow, c.WAID, c.UserID, c.ParentUserID, c.Username, c.ContextID, c.Response,
		micros(c.CompletedAt), micros(c.ReceivedAt), micros(c.RecordedAt), nullIfZero(c.InboxEventID),
		string(c.Status), c.Result)
	return err
}

// stamp sets what the store fills in of a completion it stores.
func (db *DB) stamp(c *waflow.Completion, status waflow.CompletionStatus) {
	if c.RecordedAt.IsZero() {
		c.RecordedAt = db.now()
	}
	if c.ReceivedAt.IsZero() {
		c.ReceivedAt = c.RecordedAt
	}
	c.HandledAt = time.Time{}
	c.Status = status
	if status != waflow.CompletionRejected {
		c.Result = ""
	}
}

// RecordCompletion implements waflow.CompletionStore.
func (db *DB) RecordCompletion(ctx context.Context, c waflow.Completion) (_ waflow.Completion, err error) {
	if db.isClosed() {
		return waflow.Completion{}, waflow.ErrClosed
	}
	if err := c.Validate(); err != nil {
		return waflow.Completion{}, err
	}
	db.stamp(&c, waflow.CompletionRecorded)
	tx, err := db.begin(ctx)
	if err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	defer tx.end(&err)

	stored, err := scanCompletion(tx.QueryRowContext(ctx, "SELECT "+completionCols+" FROM completions WHERE message_id = ?", c.MessageID))
	switch {
	case err == nil && stored.Status == waflow.CompletionRejected:
		return stored, wrap(waflow.ErrRejected, "RecordCompletion: the message is stored as rejected")
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
	if err := insertCompletion(ctx, tx, c); err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	if err := tx.Commit(); err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	return c, nil
}

// KeepCompletion implements waflow.CompletionStore.
func (db *DB) KeepCompletion(ctx context.Context, c waflow.Completion) (_ waflow.Completion, err error) {
	if db.isClosed() {
		return waflow.Completion{}, waflow.ErrClosed
	}
	if err := c.ValidateKept(); err != nil {
		return waflow.Completion{}, err
	}
	db.stamp(&c, waflow.CompletionRejected)
	tx, err := db.begin(ctx)
	if err != nil {
		return waflow.Completion{}, wrap(err, "KeepCompletion")
	}
	defer tx.end(&err)
	stored, err := scanCompletion(tx.QueryRowContext(ctx, "SELECT "+completionCols+" FROM completions WHERE message_id = ?", c.MessageID))
	switch {
	case err == nil:
		return stored, nil
	case !errors.Is(err, sql.ErrNoRows):
		return waflow.Completion{}, wrap(err, "KeepCompletion")
	}
	if c.TokenID != "" {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM flow_tokens WHERE id = ?", c.TokenID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return waflow.Completion{}, wrap(waflow.ErrNotFound, "KeepCompletion: no such token")
		} else if err != nil {
			return waflow.Completion{}, wrap(err, "KeepCompletion")
		}
	}
	if err := insertCompletion(ctx, tx, c); err != nil {
		return waflow.Completion{}, wrap(err, "KeepCompletion")
	}
	if err := tx.Commit(); err != nil {
		return waflow.Completion{}, wrap(err, "KeepCompletion")
	}
	return c, nil
}

func nullIfZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// RejectCompletion implements waflow.CompletionStore.
func (db *DB) RejectCompletion(ctx context.Context, messageID, reason string) (err error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "RejectCompletion")
	}
	defer tx.end(&err)
	var tokenID, status string
	var handled sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT coalesce(token_id, ''), handled_at, status FROM completions WHERE message_id = ?",
		messageID).Scan(&tokenID, &handled, &status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return wrap(waflow.ErrNotFound, "RejectCompletion")
	case err != nil:
		return wrap(err, "RejectCompletion")
	case handled.Valid:
		return wrap(waflow.ErrConflict, "RejectCompletion: the completion was handled")
	case status == string(waflow.CompletionRejected):
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE completions SET status = 'rejected', result = ? WHERE message_id = ?", reason, messageID); err != nil {
		return wrap(err, "RejectCompletion")
	}
	if _, err := tx.ExecContext(ctx, "UPDATE flow_tokens SET state = 'issued', used_at = NULL WHERE id = ? AND state = 'used'", tokenID); err != nil {
		return wrap(err, "RejectCompletion")
	}
	return wrap(tx.Commit(), "RejectCompletion")
}

// MarkCompletionFailed implements waflow.CompletionStore.
func (db *DB) MarkCompletionFailed(ctx context.Context, messageID, reason string) (err error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "MarkCompletionFailed")
	}
	defer tx.end(&err)
	res, err := tx.ExecContext(ctx, `UPDATE completions SET status = 'failed', result = ?
		WHERE message_id = ? AND status IN ('recorded', 'failed')`, reason, messageID)
	if err != nil {
		return wrap(err, "MarkCompletionFailed")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := completionExists(ctx, tx, messageID); err != nil {
			return wrap(err, "MarkCompletionFailed")
		}
	}
	return wrap(tx.Commit(), "MarkCompletionFailed")
}

// completionExists returns ErrNotFound when no completion has messageID.
func completionExists(ctx context.Context, tx *opTx, messageID string) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM completions WHERE message_id = ?", messageID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.ErrNotFound
	}
	return err
}

// MarkCompletionHandled implements waflow.CompletionStore.
func (db *DB) MarkCompletionHandled(ctx context.Context, messageID string, at time.Time) (err error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "MarkCompletionHandled")
	}
	defer tx.end(&err)
	var status string
	var handled sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT status, handled_at FROM completions WHERE message_id = ?", messageID).Scan(&status, &handled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return wrap(waflow.ErrNotFound, "MarkCompletionHandled")
	case err != nil:
		return wrap(err, "MarkCompletionHandled")
	case handled.Valid:
		return nil
	case status == string(waflow.CompletionRejected):
		return wrap(waflow.ErrConflict, "MarkCompletionHandled: the completion was rejected")
	}
	if _, err := tx.ExecContext(ctx, "UPDATE completions SET handled_at = ?, status = 'handled', result = '' WHERE message_id = ?",
		micros(at), messageID); err != nil {
		return wrap(err, "MarkCompletionHandled")
	}
	return wrap(tx.Commit(), "MarkCompletionHandled")
}

// Completion implements waflow.CompletionStore.
func (db *DB) Completion(ctx context.Context, messageID string) (waflow.Completion, error) {
	return db.completionWhere(ctx, "Completion", "message_id = ?", messageID)
}

// CompletionByToken implements waflow.CompletionStore.
func (db *DB) CompletionByToken(ctx context.Context, tokenID string) (waflow.Completion, error) {
	return db.completionWhere(ctx, "CompletionByToken", "token_id = ? AND status <> 'rejected'", tokenID)
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

// eachPage is how many completions EachCompletion reads per query.
const eachPage = 500

// EachCompletion implements waflow.CompletionStore. It pages by the key
// (received_at, message_id), so each page is a short read of the index
// completions_flow and no read transaction spans the caller's work.
func (db *DB) EachCompletion(ctx context.Context, r waflow.CompletionRange) iter.Seq2[waflow.Completion, error] {
	return func(yield func(waflow.Completion, error) bool) {
		if err := r.Validate(); err != nil {
			yield(waflow.Completion{}, err)
			return
		}
		until := int64(1<<63 - 1)
		if !r.Until.IsZero() {
			until = r.Until.UnixMicro()
		}
		since := int64(-1 << 63)
		if !r.Since.IsZero() {
			since = r.Since.UnixMicro()
		}
		// The key of the last completion yielded; below every row at first.
		afterAt, afterID := int64(-1<<63), ""
		if !r.After.ReceivedAt.IsZero() {
			afterAt, afterID = r.After.ReceivedAt.UnixMicro(), r.After.MessageID
		}
		left := r.Limit // how many more to yield; 0: no limit
		page := make([]waflow.Completion, 0, min(eachPage, max(left, 1)*2))
		for {
			size := eachPage
			if r.Limit > 0 {
				size = min(eachPage, left)
			}
			if db.isClosed() {
				yield(waflow.Completion{}, waflow.ErrClosed)
				return
			}
			page = page[:0]
			err := func() error {
				// received_at >= max(since, afterAt) bounds the index range,
				// so that a page starts where the last one ended instead of
				// filtering every row before it.
				rows, err := db.r.QueryContext(ctx, "SELECT "+completionCols+` FROM completions
					WHERE flow = ? AND received_at >= ? AND received_at < ?
						AND (received_at > ? OR message_id > ?) AND (? = '' OR status = ?)
					ORDER BY received_at, message_id LIMIT ?`, r.Flow, max(since, afterAt), until, afterAt, afterID, r.Status, r.Status, size)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					c, err := scanCompletion(rows)
					if err != nil {
						return err
					}
					page = append(page, c)
				}
				return rows.Err()
			}()
			if err != nil {
				yield(waflow.Completion{}, wrap(err, "EachCompletion"))
				return
			}
			for _, c := range page {
				if !yield(c, nil) {
					return
				}
			}
			left -= len(page)
			if len(page) < size || (r.Limit > 0 && left <= 0) {
				return
			}
			last := page[len(page)-1]
			afterAt, afterID = last.ReceivedAt.UnixMicro(), last.MessageID
		}
	}
}
