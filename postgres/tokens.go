package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

const tokenCols = `id, flow, wa_id, user_id, issued_at, expires_at, state, used_at, coalesce(message_id, '')`

func scanToken(r pgx.Row) (waflow.FlowToken, error) {
	var t waflow.FlowToken
	var state string
	err := r.Scan(&t.ID, &t.Flow, &t.WAID, &t.UserID, timeCol{&t.IssuedAt}, timeCol{&t.ExpiresAt}, &state,
		timeCol{&t.UsedAt}, &t.MessageID)
	t.State = waflow.TokenState(state)
	return t, err
}

// CreateToken implements waflow.TokenStore.
func (db *DB) CreateToken(ctx context.Context, t waflow.FlowToken) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if err := t.Validate(); err != nil {
		return err
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = db.now()
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO flow_tokens (id, flow, wa_id, user_id, issued_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		t.ID, t.Flow, t.WAID, t.UserID, t.IssuedAt, t.ExpiresAt)
	if err != nil {
		return wrap(err, "CreateToken")
	}
	if tag.RowsAffected() == 0 {
		return wrap(waflow.ErrConflict, "CreateToken: a token with this id exists")
	}
	return nil
}

// Token implements waflow.TokenStore.
func (db *DB) Token(ctx context.Context, id string) (waflow.FlowToken, error) {
	return db.tokenWhere(ctx, "Token", "id = $1", id)
}

// TokenByMessage implements waflow.TokenStore.
func (db *DB) TokenByMessage(ctx context.Context, messageID string) (waflow.FlowToken, error) {
	return db.tokenWhere(ctx, "TokenByMessage", "message_id = $1", messageID)
}

func (db *DB) tokenWhere(ctx context.Context, op, where string, arg any) (waflow.FlowToken, error) {
	if db.closed.Load() {
		return waflow.FlowToken{}, waflow.ErrClosed
	}
	t, err := scanToken(db.pool.QueryRow(ctx, "SELECT "+tokenCols+" FROM flow_tokens WHERE "+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.FlowToken{}, wrap(waflow.ErrNotFound, op)
	}
	if err != nil {
		return waflow.FlowToken{}, wrap(err, op)
	}
	t.State = t.StateAt(db.now())
	return t, nil
}

// SetTokenMessage implements waflow.TokenStore.
func (db *DB) SetTokenMessage(ctx context.Context, id, messageID string) error {
	if messageID == "" {
		return waflow.Invalidf("SetTokenMessage needs a message id")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "SetTokenMessage")
	}
	defer tx.Rollback(ctx)
	var current string
	err = tx.QueryRow(ctx, "SELECT coalesce(message_id, '') FROM flow_tokens WHERE id = $1 FOR UPDATE", id).Scan(&current)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return wrap(waflow.ErrNotFound, "SetTokenMessage")
	case err != nil:
		return wrap(err, "SetTokenMessage")
	case current == messageID:
		return nil
	case current != "":
		return wrap(waflow.ErrConflict, "SetTokenMessage: the token records another message")
	}
	if _, err := tx.Exec(ctx, "UPDATE flow_tokens SET message_id = $1 WHERE id = $2", messageID, id); err != nil {
		if isUniqueViolation(err) {
			return wrap(waflow.ErrConflict, "SetTokenMessage: the message is recorded for another token")
		}
		return wrap(err, "SetTokenMessage")
	}
	return wrap(tx.Commit(ctx), "SetTokenMessage")
}

// MarkTokenUsed implements waflow.TokenStore.
func (db *DB) MarkTokenUsed(ctx context.Context, id string, at time.Time) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	return wrap(useToken(ctx, db.pool, id, at), "MarkTokenUsed")
}

// useToken is the compare-and-set on a token's state. The UPDATE's WHERE is
// the whole condition and PostgreSQL re-checks it on the latest row version
// after waiting for a concurrent writer, so exactly one caller wins; the
// SELECT after a miss only says why.
func useToken(ctx context.Context, q querier, id string, at time.Time) error {
	tag, err := q.Exec(ctx, `UPDATE flow_tokens SET state = 'used', used_at = $1
		WHERE id = $2 AND state <> 'used' AND expires_at > $1`, at, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var state string
	err = q.QueryRow(ctx, "SELECT state FROM flow_tokens WHERE id = $1", id).Scan(&state)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return waflow.ErrNotFound
	case err != nil:
		return err
	case state == string(waflow.TokenUsed):
		return waflow.ErrTokenUsed
	default:
		return waflow.ErrTokenExpired
	}
}

// ExpireTokens implements waflow.TokenStore.
func (db *DB) ExpireTokens(ctx context.Context, now time.Time) (int64, error) {
	if db.closed.Load() {
		return 0, waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, "UPDATE flow_tokens SET state = 'expired' WHERE state = 'issued' AND expires_at <= $1", now)
	if err != nil {
		return 0, wrap(err, "ExpireTokens")
	}
	return tag.RowsAffected(), nil
}
