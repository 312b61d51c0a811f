package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

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
// FOR UPDATE SKIP LOCKED lets replicas claim side by side: each skips the
// rows another is claiming. The lease and the due times are read on the
// database's clock (dbClock).
func claim[T any](ctx context.Context, db *DB, op, table, leased, cols string, owner string, max int, lease time.Duration,
	scan func(pgx.Row) (T, error), id func(T) int64, pendingFilter string) ([]T, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	if err := waflow.ValidateClaim(owner, max, lease); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `UPDATE `+table+`
		SET state = '`+leased+`', lease_owner = $1, attempts = attempts + 1,
			lease_until = coalesce($3::timestamptz, now()) + $2::bigint * interval '1 microsecond'
		WHERE id IN (
			SELECT id FROM `+table+`
			WHERE (state = 'pending' AND next_attempt_at <= coalesce($3::timestamptz, now())`+pendingFilter+`)
				OR (state = '`+leased+`' AND lease_until <= coalesce($3::timestamptz, now()))
			ORDER BY id LIMIT $4
			FOR UPDATE SKIP LOCKED)
		RETURNING `+cols, owner, lease.Microseconds(), db.dbClock(), max)
	if err != nil {
		return nil, wrap(err, op)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, wrap(err, op)
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	return out, nil
}

// settle updates row id of table if it is in state leased under owner, and
// says why not otherwise (leaseLost), or ErrClosed after Close. The UPDATE is the check; the SELECT
// after a miss only tells ErrNotFound from ErrLeaseLost. set refers to args
// as $4...
func (db *DB) settle(ctx context.Context, op, table, leased string, id int64, owner, set string, args ...any) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	args = append([]any{id, leased, owner}, args...)
	tag, err := db.pool.Exec(ctx, "UPDATE "+table+" SET "+set+" WHERE id = $1 AND state = $2 AND lease_owner = $3", args...)
	if err != nil {
		return wrap(err, op)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return leaseLost(ctx, db.pool, op, table, id)
}

// leaseLost says why a settle of row id of table changed nothing:
// ErrNotFound when there is no such row, ErrLeaseLost otherwise.
func leaseLost(ctx context.Context, q querier, op, table string, id int64) error {
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM "+table+" WHERE id = $1", id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return wrap(waflow.ErrNotFound, op)
	}
	if err != nil {
		return wrap(err, op)
	}
	return wrap(waflow.ErrLeaseLost, op)
}
