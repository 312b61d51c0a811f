package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/waflow/waflow"
)

// The deliveries of package events (waflow.DeliveryStore).

var _ waflow.DeliveryStore = (*DB)(nil)

const deliveryCols = `id, msg_id, target, type, order_key, payload, state, attempts, last_error,
	next_attempt_at, lease_owner, lease_until, created_at, delivered_at`

func scanDelivery(r rowScanner) (waflow.Delivery, error) {
	var d waflow.Delivery
	var state string
	err := r.Scan(&d.ID, &d.MsgID, &d.Target, &d.Type, &d.OrderKey, &d.Payload, &state, &d.Attempts, &d.LastError,
		timeCol{&d.NextAttemptAt}, &d.LeaseOwner, timeCol{&d.LeaseUntil}, timeCol{&d.CreatedAt}, timeCol{&d.DeliveredAt})
	d.State = waflow.DeliveryState(state)
	return d, err
}

// AddDeliveries implements waflow.DeliveryStore.
func (db *DB) AddDeliveries(ctx context.Context, ds []waflow.Delivery) (_ int, err error) {
	if db.isClosed() {
		return 0, waflow.ErrClosed
	}
	for _, d := range ds {
		if err := d.Validate(); err != nil {
			return 0, err
		}
	}
	if len(ds) == 0 {
		return 0, nil
	}
	now := micros(db.now())
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, wrap(err, "AddDeliveries")
	}
	defer tx.end(&err)
	wctx := context.WithoutCancel(ctx) // see opTx: a granted write runs to its end
	added := 0
	for _, d := range ds {
		res, err := tx.ExecContext(wctx, `INSERT INTO event_deliveries
			(msg_id, target, type, order_key, payload, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msg_id, target) DO NOTHING`,
			d.MsgID, d.Target, d.Type, d.OrderKey, d.Payload, now, now)
		if err != nil {
			return 0, wrap(err, "AddDeliveries")
		}
		n, _ := res.RowsAffected()
		added += int(n)
	}
	if err := tx.Commit(); err != nil {
		return 0, wrap(err, "AddDeliveries")
	}
	return added, nil
}

// ClaimDeliveries implements waflow.DeliveryStore.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, max int, lease time.Duration) (_ []waflow.Delivery, err error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	if err := waflow.ValidateClaim(owner, max, lease); err != nil {
		return nil, err
	}
	now := db.now()
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, wrap(err, "ClaimDeliveries")
	}
	defer tx.Rollback()
	wctx := context.WithoutCancel(ctx)
	rows, err := tx.QueryContext(wctx, `UPDATE event_deliveries
		SET state = 'sending', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
		WHERE id IN (
			SELECT d.id FROM event_deliveries AS d
			WHERE ((d.state = 'pending' AND d.next_attempt_at <= ?3) OR (d.state = 'sending' AND d.lease_until <= ?3))
			AND (d.order_key = '' OR NOT EXISTS (
				SELECT 1 FROM event_deliveries AS e
				WHERE e.order_key = d.order_key AND e.id < d.id AND e.state IN ('pending', 'sending') AND e.order_key <> ''))
			ORDER BY d.id LIMIT ?4)
		RETURNING `+deliveryCols, owner, micros(now.Add(lease)), micros(now), max)
	if err != nil {
		return nil, wrap(err, "ClaimDeliveries")
	}
	out, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, wrap(err, "ClaimDeliveries")
	}
	if err := tx.Commit(); err != nil {
		return nil, wrap(err, "ClaimDeliveries")
	}
	sortByID(out)
	return out, nil
}

// SettleDelivery implements waflow.DeliveryStore.
func (db *DB) SettleDelivery(ctx context.Context, id int64, owner string, a waflow.DeliveryAttempt, state waflow.DeliveryState, next time.Time) (err error) {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if a.At.IsZero() {
		a.At = db.now()
	}
	var set string
	var args []any
	switch state {
	case waflow.DeliveryDelivered:
		set, args = "state = 'delivered', last_error = '', delivered_at = ?", []any{micros(a.At)}
	case waflow.DeliveryDead:
		set, args = "state = 'dead', last_error = ?", []any{a.Error}
	case waflow.DeliveryPending:
		set, args = "state = 'pending', last_error = ?, next_attempt_at = ?", []any{a.Error, micros(next)}
	default:
		return waflow.Invalidf("SettleDelivery: state %q is not pending, delivered or dead", state)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "SettleDelivery")
	}
	defer tx.end(&err)
	wctx := context.WithoutCancel(ctx)
	args = append(args, id, owner)
	res, err := tx.ExecContext(wctx, "UPDATE event_deliveries SET "+set+
		", lease_owner = '', lease_until = NULL WHERE id = ? AND state = 'sending' AND lease_owner = ?", args...)
	if err != nil {
		return wrap(err, "SettleDelivery")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leaseLost(wctx, tx, "SettleDelivery", "event_deliveries", id)
	}
	if _, err := tx.ExecContext(wctx, `INSERT INTO event_attempts (delivery_id, at, status, duration_us, error)
		VALUES (?, ?, ?, ?, ?)`, id, micros(a.At), a.Status, a.Duration.Microseconds(), a.Error); err != nil {
		return wrap(err, "SettleDelivery")
	}
	return wrap(tx.Commit(), "SettleDelivery")
}

// Redeliver implements waflow.DeliveryStore.
func (db *DB) Redeliver(ctx context.Context, id int64) (err error) {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "Redeliver")
	}
	defer tx.end(&err)
	wctx := context.WithoutCancel(ctx)
	var state string
	err = tx.QueryRowContext(wctx, "SELECT state FROM event_deliveries WHERE id = ?", id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return wrap(waflow.ErrNotFound, "Redeliver")
	}
	if err != nil {
		return wrap(err, "Redeliver")
	}
	if state == "pending" || state == "sending" {
		return wrap(waflow.ErrConflict, "Redeliver: delivery is "+state+", not delivered or dead")
	}
	if _, err := tx.ExecContext(wctx, `UPDATE event_deliveries SET state = 'pending', attempts = 0,
		next_attempt_at = ?, delivered_at = NULL WHERE id = ?`, micros(db.now()), id); err != nil {
		return wrap(err, "Redeliver")
	}
	return wrap(tx.Commit(), "Redeliver")
}

// Delivery implements waflow.DeliveryStore.
func (db *DB) Delivery(ctx context.Context, id int64) (waflow.Delivery, error) {
	if db.isClosed() {
		return waflow.Delivery{}, waflow.ErrClosed
	}
	d, err := scanDelivery(db.r.QueryRowContext(ctx, "SELECT "+deliveryCols+" FROM event_deliveries WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.Delivery{}, wrap(waflow.ErrNotFound, "Delivery")
	}
	return d, wrap(err, "Delivery")
}

// Deliveries implements waflow.DeliveryStore.
func (db *DB) Deliveries(ctx context.Context, f waflow.DeliveryFilter) ([]waflow.Delivery, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	where, args := "id > ?", []any{f.AfterID}
	if f.State != "" {
		where += " AND state = ?"
		args = append(args, string(f.State))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, "SELECT "+deliveryCols+" FROM event_deliveries WHERE "+where+" ORDER BY id LIMIT ?", args...)
	if err != nil {
		return nil, wrap(err, "Deliveries")
	}
	ds, err := collect(rows, scanDelivery)
	return ds, wrap(err, "Deliveries")
}

// DeliveryAttempts implements waflow.DeliveryStore.
func (db *DB) DeliveryAttempts(ctx context.Context, id int64) ([]waflow.DeliveryAttempt, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, `SELECT delivery_id, at, status, duration_us, error
		FROM event_attempts WHERE delivery_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, wrap(err, "DeliveryAttempts")
	}
	as, err := collect(rows, func(r rowScanner) (waflow.DeliveryAttempt, error) {
		var a waflow.DeliveryAttempt
		var us int64
		err := r.Scan(&a.DeliveryID, timeCol{&a.At}, &a.Status, &us, &a.Error)
		a.Duration = time.Duration(us) * time.Microsecond
		return a, err
	})
	return as, wrap(err, "DeliveryAttempts")
}

// PruneDeliveries implements waflow.DeliveryStore. Their attempts go with
// them (ON DELETE CASCADE).
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	if db.isClosed() {
		return 0, waflow.ErrClosed
	}
	res, err := db.exec(ctx, "DELETE FROM event_deliveries WHERE state = 'delivered' AND delivered_at < ?", micros(before))
	if err != nil {
		return 0, wrap(err, "PruneDeliveries")
	}
	n, err := res.RowsAffected()
	return n, wrap(err, "PruneDeliveries")
}

const subscriptionCols = "id, url, secret, types, created_at"

func scanSubscription(r rowScanner) (waflow.Subscription, error) {
	var s waflow.Subscription
	var types string
	err := r.Scan(&s.ID, &s.URL, &s.Secret, &types, timeCol{&s.CreatedAt})
	if types != "" {
		s.Types = strings.Split(types, ",")
	}
	return s, err
}

// PutSubscription implements waflow.DeliveryStore.
func (db *DB) PutSubscription(ctx context.Context, s waflow.Subscription) (_ waflow.Subscription, err error) {
	if db.isClosed() {
		return waflow.Subscription{}, waflow.ErrClosed
	}
	if err := s.Validate(); err != nil {
		return waflow.Subscription{}, err
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return waflow.Subscription{}, wrap(err, "PutSubscription")
	}
	defer tx.end(&err)
	wctx := context.WithoutCancel(ctx)
	out, err := scanSubscription(tx.QueryRowContext(wctx, `INSERT INTO event_subscriptions (id, url, secret, types, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, types = excluded.types
		RETURNING `+subscriptionCols, s.ID, s.URL, s.Secret, strings.Join(s.Types, ","), micros(s.CreatedAt)))
	if err != nil {
		return waflow.Subscription{}, wrap(err, "PutSubscription")
	}
	return out, wrap(tx.Commit(), "PutSubscription")
}

// Subscriptions implements waflow.DeliveryStore.
func (db *DB) Subscriptions(ctx context.Context) ([]waflow.Subscription, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+subscriptionCols+" FROM event_subscriptions ORDER BY id")
	if err != nil {
		return nil, wrap(err, "Subscriptions")
	}
	ss, err := collect(rows, scanSubscription)
	return ss, wrap(err, "Subscriptions")
}

// Subscription implements waflow.DeliveryStore.
func (db *DB) Subscription(ctx context.Context, id string) (waflow.Subscription, error) {
	if db.isClosed() {
		return waflow.Subscription{}, waflow.ErrClosed
	}
	s, err := scanSubscription(db.r.QueryRowContext(ctx, "SELECT "+subscriptionCols+" FROM event_subscriptions WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.Subscription{}, wrap(waflow.ErrNotFound, "Subscription")
	}
	return s, wrap(err, "Subscription")
}

// DeleteSubscription implements waflow.DeliveryStore.
func (db *DB) DeleteSubscription(ctx context.Context, id string) (err error) {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "DeleteSubscription")
	}
	defer tx.end(&err)
	res, err := tx.ExecContext(context.WithoutCancel(ctx), "DELETE FROM event_subscriptions WHERE id = ?", id)
	if err != nil {
		return wrap(err, "DeleteSubscription")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return wrap(waflow.ErrNotFound, "DeleteSubscription")
	}
	return wrap(tx.Commit(), "DeleteSubscription")
}

// sortByID orders claimed deliveries: RETURNING gives no order.
func sortByID(ds []waflow.Delivery) {
	slices.SortFunc(ds, func(a, b waflow.Delivery) int { return cmp.Compare(a.ID, b.ID) })
}
