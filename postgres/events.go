package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/waflow/waflow"
)

// The deliveries of package events (waflow.DeliveryStore).

var _ waflow.DeliveryStore = (*DB)(nil)

const deliveryCols = `id, msg_id, target, type, order_key, payload, state, attempts, last_error,
	next_attempt_at, lease_owner, lease_until, created_at, delivered_at`

func scanDelivery(r pgx.Row) (waflow.Delivery, error) {
	var d waflow.Delivery
	var state string
	err := r.Scan(&d.ID, &d.MsgID, &d.Target, &d.Type, &d.OrderKey, &d.Payload, &state, &d.Attempts, &d.LastError,
		timeCol{&d.NextAttemptAt}, &d.LeaseOwner, timeCol{&d.LeaseUntil}, timeCol{&d.CreatedAt}, timeCol{&d.DeliveredAt})
	d.State = waflow.DeliveryState(state)
	return d, err
}

// AddDeliveries implements waflow.DeliveryStore.
func (db *DB) AddDeliveries(ctx context.Context, ds []waflow.Delivery) (int, error) {
	if db.closed.Load() {
		return 0, waflow.ErrClosed
	}
	n := len(ds)
	ids, targets, types, keys, payloads := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([][]byte, n)
	for i, d := range ds {
		if err := d.Validate(); err != nil {
			return 0, err
		}
		ids[i], targets[i], types[i], keys[i], payloads[i] = d.MsgID, d.Target, d.Type, d.OrderKey, d.Payload
	}
	if n == 0 {
		return 0, nil
	}
	// One statement: all or none. ON CONFLICT DO NOTHING also skips a pair
	// repeated within the batch.
	tag, err := db.pool.Exec(ctx, `INSERT INTO event_deliveries
		(msg_id, target, type, order_key, payload, next_attempt_at, created_at)
		SELECT m, t, ty, k, p, coalesce($6::timestamptz, now()), coalesce($6::timestamptz, now())
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS d(m, t, ty, k, p, o)
		ORDER BY o
		ON CONFLICT (msg_id, target) DO NOTHING`, ids, targets, types, keys, payloads, db.dbClock())
	if err != nil {
		return 0, wrap(err, "AddDeliveries")
	}
	return int(tag.RowsAffected()), nil
}

// ClaimDeliveries implements waflow.DeliveryStore. Under READ COMMITTED,
// a concurrent claimer sees an earlier delivery of the same key as pending
// (its row locked and skipped) or sending: either way the later one waits.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.Delivery, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	if err := waflow.ValidateClaim(owner, max, lease); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `UPDATE event_deliveries
		SET state = 'sending', lease_owner = $1, attempts = attempts + 1,
			lease_until = coalesce($3::timestamptz, now()) + $2::bigint * interval '1 microsecond'
		WHERE id IN (
			SELECT d.id FROM event_deliveries AS d
			WHERE ((d.state = 'pending' AND d.next_attempt_at <= coalesce($3::timestamptz, now()))
				OR (d.state = 'sending' AND d.lease_until <= coalesce($3::timestamptz, now())))
			AND (d.order_key = '' OR NOT EXISTS (
				SELECT 1 FROM event_deliveries AS e
				WHERE e.order_key = d.order_key AND e.id < d.id AND e.state IN ('pending', 'sending') AND e.order_key <> ''))
			ORDER BY d.id LIMIT $4
			FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryCols, owner, lease.Microseconds(), db.dbClock(), max)
	if err != nil {
		return nil, wrap(err, "ClaimDeliveries")
	}
	out, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, wrap(err, "ClaimDeliveries")
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b waflow.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// SettleDelivery implements waflow.DeliveryStore.
func (db *DB) SettleDelivery(ctx context.Context, id int64, owner string, a waflow.DeliveryAttempt, state waflow.DeliveryState, next time.Time) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	at := pgtype.Timestamptz{Time: a.At, Valid: !a.At.IsZero()}
	var set string
	args := []any{id, owner}
	switch state {
	case waflow.DeliveryDelivered:
		set, args = "state = 'delivered', last_error = '', delivered_at = coalesce($3::timestamptz, now())", append(args, at)
	case waflow.DeliveryDead:
		set, args = "state = 'dead', last_error = $3", append(args, a.Error)
	case waflow.DeliveryPending:
		set = "state = 'pending', last_error = $3, next_attempt_at = coalesce($5::timestamptz, now()) + $4::bigint * interval '1 microsecond'"
		args = append(args, a.Error, db.fromNow(next), db.dbClock())
	default:
		return waflow.Invalidf("SettleDelivery: state %q is not pending, delivered or dead", state)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "SettleDelivery")
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, "UPDATE event_deliveries SET "+set+
		", lease_owner = '', lease_until = NULL WHERE id = $1 AND state = 'sending' AND lease_owner = $2", args...)
	if err != nil {
		return wrap(err, "SettleDelivery")
	}
	if tag.RowsAffected() == 0 {
		return leaseLost(ctx, tx, "SettleDelivery", "event_deliveries", id)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO event_attempts (delivery_id, at, status, duration_us, error)
		VALUES ($1, coalesce($2::timestamptz, now()), $3, $4, $5)`, id, at, a.Status, a.Duration.Microseconds(), a.Error); err != nil {
		return wrap(err, "SettleDelivery")
	}
	return wrap(tx.Commit(ctx), "SettleDelivery")
}

// Redeliver implements waflow.DeliveryStore.
func (db *DB) Redeliver(ctx context.Context, id int64) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, `UPDATE event_deliveries SET state = 'pending', attempts = 0,
		next_attempt_at = coalesce($2::timestamptz, now()), delivered_at = NULL
		WHERE id = $1 AND state IN ('delivered', 'dead')`, id, db.dbClock())
	if err != nil {
		return wrap(err, "Redeliver")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	d, err := db.Delivery(ctx, id)
	if err != nil {
		return wrap(err, "Redeliver")
	}
	return wrap(waflow.ErrConflict, "Redeliver: delivery is "+string(d.State)+", not delivered or dead")
}

// Delivery implements waflow.DeliveryStore.
func (db *DB) Delivery(ctx context.Context, id int64) (waflow.Delivery, error) {
	if db.closed.Load() {
		return waflow.Delivery{}, waflow.ErrClosed
	}
	d, err := scanDelivery(db.pool.QueryRow(ctx, "SELECT "+deliveryCols+" FROM event_deliveries WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.Delivery{}, wrap(waflow.ErrNotFound, "Delivery")
	}
	return d, wrap(err, "Delivery")
}

// Deliveries implements waflow.DeliveryStore.
func (db *DB) Deliveries(ctx context.Context, f waflow.DeliveryFilter) ([]waflow.Delivery, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, "SELECT "+deliveryCols+` FROM event_deliveries
		WHERE id > $1 AND ($2 = '' OR state = $2) ORDER BY id LIMIT $3`, f.AfterID, string(f.State), limit)
	if err != nil {
		return nil, wrap(err, "Deliveries")
	}
	ds, err := collect(rows, scanDelivery)
	return ds, wrap(err, "Deliveries")
}

// PruneDeliveries implements waflow.DeliveryStore. Their attempts go with
// them (ON DELETE CASCADE).
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	if db.closed.Load() {
		return 0, waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, "DELETE FROM event_deliveries WHERE state = 'delivered' AND delivered_at < $1", before)
	if err != nil {
		return 0, wrap(err, "PruneDeliveries")
	}
	return tag.RowsAffected(), nil
}

// DeliveryAttempts implements waflow.DeliveryStore.
func (db *DB) DeliveryAttempts(ctx context.Context, id int64) ([]waflow.DeliveryAttempt, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, `SELECT delivery_id, at, status, duration_us, error
		FROM event_attempts WHERE delivery_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, wrap(err, "DeliveryAttempts")
	}
	as, err := collect(rows, func(r pgx.Row) (waflow.DeliveryAttempt, error) {
		var a waflow.DeliveryAttempt
		var us int64
		err := r.Scan(&a.DeliveryID, timeCol{&a.At}, &a.Status, &us, &a.Error)
		a.Duration = time.Duration(us) * time.Microsecond
		return a, err
	})
	return as, wrap(err, "DeliveryAttempts")
}

const subscriptionCols = "id, url, secret, types, created_at"

func scanSubscription(r pgx.Row) (waflow.Subscription, error) {
	var s waflow.Subscription
	var types string
	err := r.Scan(&s.ID, &s.URL, &s.Secret, &types, timeCol{&s.CreatedAt})
	if types != "" {
		s.Types = strings.Split(types, ",")
	}
	return s, err
}

// PutSubscription implements waflow.DeliveryStore.
func (db *DB) PutSubscription(ctx context.Context, s waflow.Subscription) (waflow.Subscription, error) {
	if db.closed.Load() {
		return waflow.Subscription{}, waflow.ErrClosed
	}
	if err := s.Validate(); err != nil {
		return waflow.Subscription{}, err
	}
	out, err := scanSubscription(db.pool.QueryRow(ctx, `INSERT INTO event_subscriptions (id, url, secret, types, created_at)
		VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, $6::timestamptz, now()))
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, types = excluded.types
		RETURNING `+subscriptionCols, s.ID, s.URL, s.Secret, strings.Join(s.Types, ","),
		pgtype.Timestamptz{Time: s.CreatedAt, Valid: !s.CreatedAt.IsZero()}, db.dbClock()))
	return out, wrap(err, "PutSubscription")
}

// Subscriptions implements waflow.DeliveryStore.
func (db *DB) Subscriptions(ctx context.Context) ([]waflow.Subscription, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, "SELECT "+subscriptionCols+" FROM event_subscriptions ORDER BY id")
	if err != nil {
		return nil, wrap(err, "Subscriptions")
	}
	ss, err := collect(rows, scanSubscription)
	return ss, wrap(err, "Subscriptions")
}

// Subscription implements waflow.DeliveryStore.
func (db *DB) Subscription(ctx context.Context, id string) (waflow.Subscription, error) {
	if db.closed.Load() {
		return waflow.Subscription{}, waflow.ErrClosed
	}
	s, err := scanSubscription(db.pool.QueryRow(ctx, "SELECT "+subscriptionCols+" FROM event_subscriptions WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.Subscription{}, wrap(waflow.ErrNotFound, "Subscription")
	}
	return s, wrap(err, "Subscription")
}

// DeleteSubscription implements waflow.DeliveryStore.
func (db *DB) DeleteSubscription(ctx context.Context, id string) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, "DELETE FROM event_subscriptions WHERE id = $1", id)
	if err != nil {
		return wrap(err, "DeleteSubscription")
	}
	if tag.RowsAffected() == 0 {
		return wrap(waflow.ErrNotFound, "DeleteSubscription")
	}
	return nil
}
