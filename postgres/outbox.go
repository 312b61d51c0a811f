package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/waflow/waflow"
)

const outboxCols = `id, idempotency_key, recipient, coalesce(token_id, ''), payload, state, attempts, last_error,
	next_attempt_at, lease_owner, lease_until, coalesce(wamid, ''), created_at, sent_at, flow`

func scanOutbox(r pgx.Row) (waflow.OutboxMessage, error) {
	var m waflow.OutboxMessage
	var state string
	err := r.Scan(&m.ID, &m.IdempotencyKey, &m.To, &m.TokenID, &m.Payload, &state, &m.Attempts, &m.LastError,
		timeCol{&m.NextAttemptAt}, &m.LeaseOwner, timeCol{&m.LeaseUntil}, &m.WAMID, timeCol{&m.CreatedAt},
		timeCol{&m.SentAt}, &m.Flow)
	m.State = waflow.OutboxState(state)
	return m, err
}

// Enqueue implements waflow.OutboxStore.
func (db *DB) Enqueue(ctx context.Context, m waflow.OutboxMessage) (waflow.OutboxMessage, bool, error) {
	if err := m.Validate(); err != nil {
		return waflow.OutboxMessage{}, false, err
	}
	if db.closed.Load() {
		return waflow.OutboxMessage{}, false, waflow.ErrClosed
	}
	if m.TokenID != "" {
		var one int
		err := db.pool.QueryRow(ctx, "SELECT 1 FROM flow_tokens WHERE id = $1", m.TokenID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return waflow.OutboxMessage{}, false, wrap(waflow.ErrNotFound, "Enqueue: unknown flow token")
		}
		if err != nil {
			return waflow.OutboxMessage{}, false, wrap(err, "Enqueue")
		}
	}
	stored, err := scanOutbox(db.pool.QueryRow(ctx, `INSERT INTO outbox_messages
		(idempotency_key, recipient, token_id, payload, flow, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $7, coalesce($5, $6::timestamptz, now()), coalesce($5, $6::timestamptz, now()))
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING `+outboxCols,
		m.IdempotencyKey, m.To, nullIfEmpty(m.TokenID), m.Payload,
		// A zero CreatedAt is the database's clock: due at once whatever
		// this replica's clock says.
		pgtype.Timestamptz{Time: m.CreatedAt, Valid: !m.CreatedAt.IsZero()}, db.dbClock(), m.Flow))
	if err == nil {
		return stored, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return waflow.OutboxMessage{}, false, wrap(err, "Enqueue")
	}
	// The key exists: return that message.
	stored, err = db.OutboxMessageByKey(ctx, m.IdempotencyKey)
	return stored, false, err
}

// pausedFlowFilter leaves out the messages of a flow that Meta's flows
// webhooks reported BLOCKED or THROTTLED (waflow.FlowHealth): they stay
// pending until the flow is healthy again. A message whose lease ran out is
// still taken, to be settled.
const pausedFlowFilter = ` AND NOT EXISTS (SELECT 1 FROM flow_health AS h
	WHERE h.flow = outbox_messages.flow AND outbox_messages.flow <> '' AND h.paused)`

// ClaimOutbox implements waflow.OutboxStore (see claim).
func (db *DB) ClaimOutbox(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.OutboxMessage, error) {
	return claim(ctx, db, "ClaimOutbox", "outbox_messages", "sending", outboxCols, owner, max, lease, scanOutbox,
		func(m waflow.OutboxMessage) int64 { return m.ID }, pausedFlowFilter)
}

// MarkSent implements waflow.OutboxStore.
func (db *DB) MarkSent(ctx context.Context, id int64, owner, wamid string, at time.Time) error {
	if wamid == "" {
		return waflow.Invalidf("MarkSent needs the wamid")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "MarkSent")
	}
	defer tx.Rollback(ctx)
	var tokenID *string
	err = tx.QueryRow(ctx, `UPDATE outbox_messages
		SET state = 'sent', wamid = $1, sent_at = $2, lease_owner = '', lease_until = NULL
		WHERE id = $3 AND state = 'sending' AND lease_owner = $4 RETURNING token_id`,
		wamid, at, id, owner).Scan(&tokenID)
	if errors.Is(err, pgx.ErrNoRows) {
		return leaseLost(ctx, tx, "MarkSent", "outbox_messages", id)
	}
	if err != nil {
		return wrap(err, "MarkSent")
	}
	if tokenID != nil {
		if _, err := tx.Exec(ctx, `UPDATE flow_tokens SET message_id = $1
			WHERE id = $2 AND message_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM flow_tokens WHERE message_id = $1)`, wamid, *tokenID); err != nil {
			return wrap(err, "MarkSent")
		}
	}
	return wrap(tx.Commit(ctx), "MarkSent")
}

// RetryOutbox implements waflow.OutboxStore; next is read as RetryEvent
// reads it.
func (db *DB) RetryOutbox(ctx context.Context, id int64, owner, lastError string, next time.Time) error {
	return db.settle(ctx, "RetryOutbox", "outbox_messages", "sending", id, owner,
		"state = 'pending', last_error = $4, lease_owner = '', lease_until = NULL, "+
			"next_attempt_at = coalesce($6::timestamptz, now()) + $5::bigint * interval '1 microsecond'",
		lastError, db.fromNow(next), db.dbClock())
}

// FailOutbox implements waflow.OutboxStore.
func (db *DB) FailOutbox(ctx context.Context, id int64, owner, lastError string) error {
	return db.settle(ctx, "FailOutbox", "outbox_messages", "sending", id, owner,
		"state = 'dead', last_error = $4, lease_owner = '', lease_until = NULL", lastError)
}

// MarkUnknown implements waflow.OutboxStore.
func (db *DB) MarkUnknown(ctx context.Context, id int64, owner, lastError string) error {
	return db.settle(ctx, "MarkUnknown", "outbox_messages", "sending", id, owner,
		"state = 'unknown', last_error = $4, lease_owner = '', lease_until = NULL", lastError)
}

// OutboxMessage implements waflow.OutboxStore.
func (db *DB) OutboxMessage(ctx context.Context, id int64) (waflow.OutboxMessage, error) {
	return db.outboxWhere(ctx, "OutboxMessage", "id = $1", id)
}

// OutboxMessageByKey implements waflow.OutboxStore.
func (db *DB) OutboxMessageByKey(ctx context.Context, key string) (waflow.OutboxMessage, error) {
	return db.outboxWhere(ctx, "OutboxMessageByKey", "idempotency_key = $1", key)
}

func (db *DB) outboxWhere(ctx context.Context, op, where string, arg any) (waflow.OutboxMessage, error) {
	if db.closed.Load() {
		return waflow.OutboxMessage{}, waflow.ErrClosed
	}
	m, err := scanOutbox(db.pool.QueryRow(ctx, "SELECT "+outboxCols+" FROM outbox_messages WHERE "+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.OutboxMessage{}, wrap(waflow.ErrNotFound, op)
	}
	return m, wrap(err, op)
}
