package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/waflow/waflow"
)

const tokenCols = `id, flow, wa_id, user_id, issued_at, expires_at, state, used_at, message_id`

type rowScanner interface{ Scan(dest ...any) error }

func scanToken(r rowScanner) (waflow.FlowToken, error) {
	var t waflow.FlowToken
	var state string
	err := r.Scan(&t.ID, &t.Flow, &t.WAID, &t.UserID, timeCol{&t.IssuedAt}, timeCol{&t.ExpiresAt}, &state,
		timeCol{&t.UsedAt}, nullString{&t.MessageID})
	t.State = waflow.TokenState(state)
	return t, err
}

// CreateToken implements waflow.TokenStore.
func (db *DB) CreateToken(ctx context.Context, t waflow.FlowToken) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if err := t.Validate(); err != nil {
		return err
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = db.now()
	}
	res, err := db.exec(ctx, `INSERT INTO flow_tokens (id, flow, wa_id, user_id, issued_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		t.ID, t.Flow, t.WAID, t.UserID, micros(t.IssuedAt), micros(t.ExpiresAt))
	if err != nil {
		return wrap(err, "CreateToken")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return wrap(waflow.ErrConflict, "CreateToken: a token with this id exists")
	}
	return nil
}

// Token implements waflow.TokenStore.
func (db *DB) Token(ctx context.Context, id string) (waflow.FlowToken, error) {
	return db.tokenWhere(ctx, "Token", "id = ?", id)
}

// TokenByMessage implements waflow.TokenStore.
func (db *DB) TokenByMessage(ctx context.Context, messageID string) (waflow.FlowToken, error) {
	return db.tokenWhere(ctx, "TokenByMessage", "message_id = ?", messageID)
}

func (db *DB) tokenWhere(ctx context.Context, op, where string, arg any) (waflow.FlowToken, error) {
	if db.isClosed() {
		return waflow.FlowToken{}, waflow.ErrClosed
	}
	t, err := scanToken(db.r.QueryRowContext(ctx, "SELECT "+tokenCols+" FROM flow_tokens WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.FlowToken{}, wrap(waflow.ErrNotFound, op)
	}
	if err != nil {
		return waflow.FlowToken{}, wrap(err, op)
	}
	t.State = t.StateAt(db.now())
	return t, nil
}

// SetTokenMessage implements waflow.TokenStore.
func (db *DB) SetTokenMessage(ctx context.Context, id, messageID string) (err error) {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if messageID == "" {
		return waflow.Invalidf("SetTokenMessage needs a message id")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "SetTokenMessage")
	}
	defer tx.end(&err)
	var current string
	err = tx.QueryRowContext(ctx, "SELECT coalesce(message_id, '') FROM flow_tokens WHERE id = ?", id).Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return wrap(waflow.ErrNotFound, "SetTokenMessage")
	case err != nil:
		return wrap(err, "SetTokenMessage")
	case current == messageID:
		return nil
	case current != "":
		return wrap(waflow.ErrConflict, "SetTokenMessage: the token records another message")
	}
	var other string
	err = tx.QueryRowContext(ctx, "SELECT id FROM flow_tokens WHERE message_id = ?", messageID).Scan(&other)
	if err == nil {
		return wrap(waflow.ErrConflict, "SetTokenMessage: the message is recorded for another token")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return wrap(err, "SetTokenMessage")
	}
	if _, err := tx.ExecContext(ctx, "UPDATE flow_tokens SET message_id = ? WHERE id = ?", messageID, id); err != nil {
		return wrap(err, "SetTokenMessage")
	}
	return wrap(tx.Commit(), "SetTokenMessage")
}

// MarkTokenUsed implements waflow.TokenStore.
func (db *DB) MarkTokenUsed(ctx context.Context, id string, at time.Time) (err error) {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "MarkTokenUsed")
	}
	defer tx.end(&err)
	if err := useToken(ctx, tx, id, at); err != nil {
		return wrap(err, "MarkTokenUsed")
	}
	return wrap(tx.Commit(), "MarkTokenUsed")
}

// useToken is the compare-and-set on a token's state. The UPDATE's WHERE is
// the whole condition, so it is atomic on its own; the SELECT after a miss
// only says why.
func useToken(ctx context.Context, tx *opTx, id string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE flow_tokens SET state = 'used', used_at = ?
		WHERE id = ? AND state <> 'used' AND expires_at > ?`, micros(at), id, micros(at))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var state string
	err = tx.QueryRowContext(ctx, "SELECT state FROM flow_tokens WHERE id = ?", id).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	if db.isClosed() {
		return 0, waflow.ErrClosed
	}
	res, err := db.exec(ctx, "UPDATE flow_tokens SET state = 'expired' WHERE state = 'issued' AND expires_at <= ?", micros(now))
	if err != nil {
		return 0, wrap(err, "ExpireTokens")
	}
	return res.RowsAffected()
}
