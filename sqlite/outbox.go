package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/waflow/waflow"
)

const outboxCols = `id, idempotency_key, recipient, coalesce(token_id, ''), payload, state, attempts, last_error,
	next_attempt_at, lease_owner, lease_until, coalesce(wamid, ''), created_at, sent_at, flow`

func scanOutbox(r rowScanner) (waflow.OutboxMessage, error) {
	var m waflow.OutboxMessage
	var state string
	err := r.Scan(&m.ID, &m.IdempotencyKey, &m.To, &m.TokenID, &m.Payload, &state, &m.Attempts, &m.LastError,
		timeCol{&m.NextAttemptAt}, &m.LeaseOwner, timeCol{&m.LeaseUntil}, &m.WAMID, timeCol{&m.CreatedAt},
		timeCol{&m.SentAt}, &m.Flow)
	m.State = waflow.OutboxState(state)
	return m, err
}

// Enqueue implements waflow.OutboxStore.
func (db *DB) Enqueue(ctx context.Context, m waflow.OutboxMessage) (_ waflow.OutboxMessage, _ bool, err error) {
	if db.isClosed() {
		return waflow.OutboxMessage{}, false, waflow.ErrClosed
	}
	if err := m.Validate(); err != nil {
		return waflow.OutboxMessage{}, false, err
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = db.now()
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return waflow.OutboxMessage{}, false, wrap(err, "Enqueue")
	}
	defer tx.end(&err)
	stored, err := scanOutbox(tx.QueryRowContext(ctx, "SELECT "+outboxCols+" FROM outbox_messages WHERE idempotency_key = ?", m.IdempotencyKey))
	if err == nil {
		return stored, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return waflow.OutboxMessage{}, false, wrap(err, "Enqueue")
	}
	if m.TokenID != "" {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM flow_tokens WHERE id = ?", m.TokenID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return waflow.OutboxMessage{}, false, wrap(waflow.ErrNotFound, "Enqueue: unknown flow token")
		}
		if err != nil {
			return waflow.OutboxMessage{}, false, wrap(err, "Enqueue")
		}
	}
	m, err = scanOutbox(tx.QueryRowContext(ctx, `INSERT INTO outbox_messages
		(idempotency_key, recipient, token_id, payload, flow, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+outboxCols,
		m.IdempotencyKey, m.To, nullIfEmpty(m.TokenID), m.Payload, m.Flow, micros(m.CreatedAt), micros(m.CreatedAt)))
	if err != nil {
		return waflow.OutboxMessage{}, false, wrap(err, "Enqueue")
	}
	if err := tx.Commit(); err != nil {
		return waflow.OutboxMessage{}, false, wrap(err, "Enqueue")
	}
	return m, true, nil
}

// pausedFlowFilter leaves out the messages of a flow that Meta's flows
// webhooks reported BLOCKED or THROTTLED (waflow.FlowHealth): they stay
// pending until the flow is healthy again. A message whose lease ran out is
// still taken, to be settled.
const pausedFlowFilter = ` AND NOT EXISTS (SELECT 1 FROM flow_health AS h
	WHERE h.flow = outbox_messages.flow AND outbox_messages.flow <> '' AND h.paused = 1)`

// ClaimOutbox implements waflow.OutboxStore (see claim).
func (db *DB) ClaimOutbox(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.OutboxMessage, error) {
	return claim(ctx, db, "ClaimOutbox", "outbox_messages", "sending", outboxCols, owner, max, lease, scanOutbox,
		func(m waflow.OutboxMessage) int64 { return m.ID }, pausedFlowFilter)
}

// MarkSent implements waflow.OutboxStore.
func (db *DB) MarkSent(ctx context.Context, id int64, owner, wamid string, at time.Time) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if wamid == "" {
		return waflow.Invalidf("MarkSent needs the wamid")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "MarkSent")
	}
	defer tx.Rollback()
	var tokenID sql.NullString
	err = tx.QueryRowContext(ctx, `UPDATE outbox_messages
		SET state = 'sent', wamid = ?, sent_at = ?, lease_owner = '', lease_until = NULL
		WHERE id = ? AND state = 'sending' AND lease_owner = ? RETURNING token_id`,
		wamid, micros(at), id, owner).Scan(&tokenID)
	if errors.Is(err, sql.ErrNoRows) {
		return leaseLost(ctx, tx, "MarkSent", "outbox_messages", id)
	}
	if err != nil {
		return wrap(err, "MarkSent")
	}
	if tokenID.Valid {
		if _, err := tx.ExecContext(ctx, `UPDATE flow_tokens SET message_id = ?1
			WHERE id = ?2 AND message_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM flow_tokens WHERE message_id = ?1)`, wamid, tokenID.String); err != nil {
			return wrap(err, "MarkSent")
		}
	}
	return wrap(tx.Commit(), "MarkSent")
}

// RetryOutbox implements waflow.OutboxStore.
func (db *DB) RetryOutbox(ctx context.Context, id int64, owner, lastError string, next time.Time) error {
	return db.settle(ctx, "RetryOutbox", "outbox_messages", "sending", id, owner,
		"state = 'pending', last_error = ?, next_attempt_at = ?, lease_owner = '', lease_until = NULL",
		lastError, micros(next))
}

// FailOutbox implements waflow.OutboxStore.
func (db *DB) FailOutbox(ctx context.Context, id int64, owner, lastError string) error {
	return db.settle(ctx, "FailOutbox", "outbox_messages", "sending", id, owner,
		"state = 'dead', last_error = ?, lease_owner = '', lease_until = NULL", lastError)
}

// MarkUnknown implements waflow.OutboxStore.
func (db *DB) MarkUnknown(ctx context.Context, id int64, owner, lastError string) error {
	return db.settle(ctx, "MarkUnknown", "outbox_messages", "sending", id, owner,
		"state = 'unknown', last_error = ?, lease_owner = '', lease_until = NULL", lastError)
}

// OutboxMessage implements waflow.OutboxStore.
func (db *DB) OutboxMessage(ctx context.Context, id int64) (waflow.OutboxMessage, error) {
	return db.outboxWhere(ctx, "OutboxMessage", "id = ?", id)
}

// OutboxMessageByKey implements waflow.OutboxStore.
func (db *DB) OutboxMessageByKey(ctx context.Context, key string) (waflow.OutboxMessage, error) {
	return db.outboxWhere(ctx, "OutboxMessageByKey", "idempotency_key = ?", key)
}

func (db *DB) outboxWhere(ctx context.Context, op, where string, arg any) (waflow.OutboxMessage, error) {
	if db.isClosed() {
		return waflow.OutboxMessage{}, waflow.ErrClosed
	}
	m, err := scanOutbox(db.r.QueryRowContext(ctx, "SELECT "+outboxCols+" FROM outbox_messages WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.OutboxMessage{}, wrap(waflow.ErrNotFound, op)
	}
	return m, wrap(err, op)
}
