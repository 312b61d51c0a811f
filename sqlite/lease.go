package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/waflow/waflow"
)

// The inbox and the outbox lease their rows alike: a claim takes the due
// pending rows and the rows whose lease expired, and a settle changes a row
// only while its caller holds the lease. These helpers are that shape once;
// the callers name the table, the leased state and what a settle sets. The
// table, state and column names are the callers' constants, written into the
// SQL so that the partial indexes on state apply.

// claim leases up to max due rows of table to owner for lease, putting them in
// state leased, and returns them (scanned by scan from cols) in id order;
// pendingFilter (SQL beginning with AND, or empty) narrows the pending rows
// it takes.
// The single UPDATE is atomic, and the one-writer rule orders it with every
// other write.
func claim[T any](ctx context.Context, db *DB, op, table, leased, cols string, owner string, max int, lease time.Duration,
	scan func(rowScanner) (T, error), id func(T) int64, pendingFilter string) ([]T, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	if err := waflow.ValidateClaim(owner, max, lease); err != nil {
		return nil, err
	}
	now := db.now()
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, wrap(err, op)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `UPDATE `+table+`
		SET state = '`+leased+`', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM `+table+` WHERE state = 'pending' AND next_attempt_at <= ?3`+pendingFilter+`
			UNION ALL
			SELECT id FROM `+table+` WHERE state = '`+leased+`' AND lease_until <= ?3
			ORDER BY id LIMIT ?4)
		RETURNING `+cols, owner, micros(now.Add(lease)), micros(now), max)
	if err != nil {
		return nil, wrap(err, op)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, wrap(err, op)
	}
	if err := tx.Commit(); err != nil {
		return nil, wrap(err, op)
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	return out, nil
}

// settle updates row id of table if it is in state leased under owner, and
// says why not otherwise (leaseLost), or ErrClosed after Close.
func (db *DB) settle(ctx context.Context, op, table, leased string, id int64, owner, set string, args ...any) (err error) {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, op)
	}
	defer tx.end(&err)
	args = append(args, id, leased, owner)
	res, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+set+" WHERE id = ? AND state = ? AND lease_owner = ?", args...)
	if err != nil {
		return wrap(err, op)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leaseLost(ctx, tx, op, table, id)
	}
	return wrap(tx.Commit(), op)
}

// leaseLost says why a settle of row id of table changed nothing:
// ErrNotFound when there is no such row, ErrLeaseLost otherwise.
func leaseLost(ctx context.Context, tx *opTx, op, table string, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return wrap(waflow.ErrNotFound, op)
	}
	if err != nil {
		return wrap(err, op)
	}
	return wrap(waflow.ErrLeaseLost, op)
}
