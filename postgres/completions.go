package postgres

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/waflow/waflow"
)

const completionCols = `message_id, coalesce(token_id, ''), flow, wa_id, user_id, parent_user_id, username, context_id, response,
	completed_at, received_at, recorded_at, handled_at, coalesce(inbox_event_id, 0), status, result`

func scanCompletion(r pgx.Row) (waflow.Completion, error) {
	var c waflow.Completion
	var status string
	err := r.Scan(&c.MessageID, &c.TokenID, &c.Flow, &c.WAID, &c.UserID, &c.ParentUserID, &c.Username, &c.ContextID, &c.Response,
		timeCol{&c.CompletedAt}, timeCol{&c.ReceivedAt}, timeCol{&c.RecordedAt}, timeCol{&c.HandledAt},
		&c.InboxEventID, &status, &c.Result)
	c.Status = waflow.CompletionStatus(status)
	return c, err
}

// insertCompletion stores c as it is, unless its message is stored already;
// it reports whether it inserted.
func insertCompletion(ctx context.Context, q querier, c waflow.Completion) (bool, error) {
	var token, inbox any
	if c.TokenID != "" {
		token = c.TokenID
	}
	if c.InboxEventID != 0 {
		inbox = c.InboxEventID
	}
	tag, err := q.Exec(ctx, `INSERT INTO completions (message_id, token_id, flow, wa_id, user_id, parent_user_id, username,
		context_id, response, completed_at, received_at, recorded_at, inbox_event_id, status, result)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (message_id) DO NOTHING`,
		c.MessageID, token, c.Flow, c.WAID, c.UserID, c.ParentUserID, c.Username, c.ContextID, c.Response, c.CompletedAt, c.ReceivedAt,
		c.RecordedAt, inbox, string(c.Status), c.Result)
	return err == nil && tag.RowsAffected() == 1, err
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
func (db *DB) RecordCompletion(ctx context.Context, c waflow.Completion) (waflow.Completion, error) {
	if err := c.Validate(); err != nil {
		return waflow.Completion{}, err
	}
	db.stamp(&c, waflow.CompletionRecorded)
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
	inserted, err := insertCompletion(ctx, tx, c)
	if err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	if !inserted {
		// Stored meanwhile by a concurrent call with the same message and
		// another token, or kept as rejected.
		return waflow.Completion{}, wrap(waflow.ErrConflict, "RecordCompletion: the message is stored already")
	}
	if err := tx.Commit(ctx); err != nil {
		return waflow.Completion{}, wrap(err, "RecordCompletion")
	}
	return c, nil
}

// sameCompletion looks for a completion already stored with c's message
// id. done is true when one is: then the caller returns stored (same token)
// or ErrConflict (another token) or ErrRejected (a rejected one).
func sameCompletion(ctx context.Context, q querier, c waflow.Completion) (stored waflow.Completion, done bool, err error) {
	stored, err = scanCompletion(q.QueryRow(ctx, "SELECT "+completionCols+" FROM completions WHERE message_id = $1", c.MessageID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return waflow.Completion{}, false, nil
	case err != nil:
		return waflow.Completion{}, true, err
	case stored.Status == waflow.CompletionRejected:
		return stored, true, errors.Join(waflow.ErrRejected, errors.New("the message is stored as rejected"))
	case stored.TokenID != c.TokenID:
		return waflow.Completion{}, true, errors.Join(waflow.ErrConflict, errors.New("the message is recorded for another token"))
	default:
		return stored, true, nil
	}
}

// KeepCompletion implements waflow.CompletionStore.
func (db *DB) KeepCompletion(ctx context.Context, c waflow.Completion) (waflow.Completion, error) {
	if db.closed.Load() {
		return waflow.Completion{}, waflow.ErrClosed
	}
	if err := c.ValidateKept(); err != nil {
		return waflow.Completion{}, err
	}
	db.stamp(&c, waflow.CompletionRejected)
	inserted, err := insertCompletion(ctx, db.pool, c)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "23503": // foreign_key_violation
		return waflow.Completion{}, wrap(waflow.ErrNotFound, "KeepCompletion: no such token")
	case err != nil:
		return waflow.Completion{}, wrap(err, "KeepCompletion")
	case inserted:
		return c, nil
	}
	stored, err := db.Completion(ctx, c.MessageID)
	return stored, wrap(err, "KeepCompletion")
}

// RejectCompletion implements waflow.CompletionStore.
func (db *DB) RejectCompletion(ctx context.Context, messageID, reason string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "RejectCompletion")
	}
	defer tx.Rollback(ctx)
	var tokenID, status string
	var handled *time.Time
	// FOR UPDATE: a concurrent MarkCompletionHandled waits, then finds the
	// completion rejected; it never marks a completion this call rejects.
	err = tx.QueryRow(ctx, "SELECT coalesce(token_id, ''), handled_at, status FROM completions WHERE message_id = $1 FOR UPDATE",
		messageID).Scan(&tokenID, &handled, &status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return wrap(waflow.ErrNotFound, "RejectCompletion")
	case err != nil:
		return wrap(err, "RejectCompletion")
	case handled != nil:
		return wrap(waflow.ErrConflict, "RejectCompletion: the completion was handled")
	case status == string(waflow.CompletionRejected):
		return nil
	}
	if _, err := tx.Exec(ctx, "UPDATE completions SET status = 'rejected', result = $1 WHERE message_id = $2", reason, messageID); err != nil {
		return wrap(err, "RejectCompletion")
	}
	if _, err := tx.Exec(ctx, "UPDATE flow_tokens SET state = 'issued', used_at = NULL WHERE id = $1 AND state = 'used'", tokenID); err != nil {
		return wrap(err, "RejectCompletion")
	}
	return wrap(tx.Commit(ctx), "RejectCompletion")
}

// MarkCompletionFailed implements waflow.CompletionStore.
func (db *DB) MarkCompletionFailed(ctx context.Context, messageID, reason string) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, `UPDATE completions SET status = 'failed', result = $1
		WHERE message_id = $2 AND status IN ('recorded', 'failed')`, reason, messageID)
	if err != nil {
		return wrap(err, "MarkCompletionFailed")
	}
	if tag.RowsAffected() == 0 {
		if _, err := db.Completion(ctx, messageID); err != nil {
			return wrap(err, "MarkCompletionFailed")
		}
	}
	return nil
}

// MarkCompletionHandled implements waflow.CompletionStore.
func (db *DB) MarkCompletionHandled(ctx context.Context, messageID string, at time.Time) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, `UPDATE completions SET handled_at = $1, status = 'handled', result = ''
		WHERE message_id = $2 AND handled_at IS NULL AND status <> 'rejected'`, at, messageID)
	if err != nil {
		return wrap(err, "MarkCompletionHandled")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	c, err := db.Completion(ctx, messageID)
	switch {
	case err != nil:
		return wrap(err, "MarkCompletionHandled")
	case c.HandledAt.IsZero() && c.Status == waflow.CompletionRejected:
		return wrap(waflow.ErrConflict, "MarkCompletionHandled: the completion was rejected")
	}
	return nil
}

// Completion implements waflow.CompletionStore.
func (db *DB) Completion(ctx context.Context, messageID string) (waflow.Completion, error) {
	return db.completionWhere(ctx, "Completion", "message_id = $1", messageID)
}

// CompletionByToken implements waflow.CompletionStore.
func (db *DB) CompletionByToken(ctx context.Context, tokenID string) (waflow.Completion, error) {
	return db.completionWhere(ctx, "CompletionByToken", "token_id = $1 AND status <> 'rejected'", tokenID)
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

// eachPage is how many completions EachCompletion reads per query.
const eachPage = 500

// EachCompletion implements waflow.CompletionStore. It pages by the key
// (received_at, message_id), so each page is a short read of the index
// completions_flow, starting where the last one ended, and no transaction
// spans the caller's work.
func (db *DB) EachCompletion(ctx context.Context, r waflow.CompletionRange) iter.Seq2[waflow.Completion, error] {
	return func(yield func(waflow.Completion, error) bool) {
		if err := r.Validate(); err != nil {
			yield(waflow.Completion{}, err)
			return
		}
		// -infinity and infinity stand for the open bounds.
		var since, until any = pgtypeInfinity(-1), pgtypeInfinity(1)
		if !r.Since.IsZero() {
			since = r.Since
		}
		if !r.Until.IsZero() {
			until = r.Until
		}
		var afterAt any = pgtypeInfinity(-1)
		afterID := ""
		if !r.After.ReceivedAt.IsZero() {
			afterAt, afterID = r.After.ReceivedAt, r.After.MessageID
		}
		left := r.Limit // how many more to yield; 0: no limit
		page := make([]waflow.Completion, 0, min(eachPage, max(left, 1)*2))
		for {
			size := eachPage
			if r.Limit > 0 {
				size = min(eachPage, left)
			}
			if db.closed.Load() {
				yield(waflow.Completion{}, waflow.ErrClosed)
				return
			}
			page = page[:0]
			err := func() error {
				rows, err := db.pool.Query(ctx, "SELECT "+completionCols+` FROM completions
					WHERE flow = $1 AND received_at >= $2::timestamptz AND received_at < $3::timestamptz
						AND received_at >= $4::timestamptz AND (received_at, message_id) > ($4::timestamptz, $5::text)
						AND ($7::text = '' OR status = $7::text)
					ORDER BY received_at, message_id LIMIT $6`, r.Flow, since, until, afterAt, afterID, size, string(r.Status))
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
			afterAt, afterID = last.ReceivedAt, last.MessageID
		}
	}
}

// pgtypeInfinity is the text of PostgreSQL's -infinity (sign < 0) or
// infinity timestamp, which every time sorts between.
func pgtypeInfinity(sign int) string {
	if sign < 0 {
		return "-infinity"
	}
	return "infinity"
}
