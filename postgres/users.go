package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

const userCols = `id, phone, bsuid, parent_bsuid, username, first_seen_at, last_seen_at`

func scanUser(r pgx.Row) (waflow.User, error) {
	var u waflow.User
	err := r.Scan(&u.ID, &u.Phone, &u.BSUID, &u.ParentBSUID, &u.Username, timeCol{&u.FirstSeen}, timeCol{&u.LastSeen})
	return u, err
}

// usersLock is the advisory lock key that orders SeeUser transactions: a
// sighting reads up to three users and may merge them, which two replicas
// doing at once could leave half done (or trip the unique indexes).
const usersLock = 0x7761666c6f777531 // "waflowu1"

// SeeUser implements waflow.UserStore.
func (db *DB) SeeUser(ctx context.Context, s waflow.UserSighting) (_ waflow.User, err error) {
	if db.closed.Load() {
		return waflow.User{}, waflow.ErrClosed
	}
	if err := s.Validate(); err != nil {
		return waflow.User{}, err
	}
	if s.At.IsZero() {
		s.At = db.now()
	}
	// Most sightings are of a user already known as the webhook names
	// them: a read, without the lock, tells.
	found, err := findUsers(ctx, db.pool, s)
	if err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	if same, others := waflow.SplitSighting(found, s); len(others) == 0 {
		if keep, merged := waflow.MergeSighting(same, s); !waflow.SightingNeedsWrite(same, keep, merged) {
			return same[0], nil
		}
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(usersLock)); err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	if found, err = findUsers(ctx, tx, s); err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	found, others := waflow.SplitSighting(found, s)
	for _, u := range others {
		// The number is no longer theirs (their BSUID keeps the row valid).
		if _, err := tx.Exec(ctx, "UPDATE users SET phone = '' WHERE id = $1", u.ID); err != nil {
			return waflow.User{}, wrap(err, "SeeUser")
		}
	}
	keep, merged := waflow.MergeSighting(found, s)
	for _, id := range merged {
		if _, err := tx.Exec(ctx, "DELETE FROM users WHERE id = $1", id); err != nil {
			return waflow.User{}, wrap(err, "SeeUser")
		}
	}
	if keep.ID == 0 {
		err = tx.QueryRow(ctx, `INSERT INTO users (phone, bsuid, parent_bsuid, username, first_seen_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, keep.Phone, keep.BSUID, keep.ParentBSUID, keep.Username,
			keep.FirstSeen, keep.LastSeen).Scan(&keep.ID)
	} else {
		_, err = tx.Exec(ctx, `UPDATE users SET phone = $1, bsuid = $2, parent_bsuid = $3, username = $4,
			first_seen_at = $5, last_seen_at = $6 WHERE id = $7`, keep.Phone, keep.BSUID, keep.ParentBSUID, keep.Username,
			keep.FirstSeen, keep.LastSeen, keep.ID)
	}
	if err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	if err := tx.Commit(ctx); err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	keep.FirstSeen, keep.LastSeen = keep.FirstSeen.UTC().Truncate(1000), keep.LastSeen.UTC().Truncate(1000)
	return keep, nil
}

// findUsers returns the users s names, each once: by phone, BSUID and
// previous BSUID.
func findUsers(ctx context.Context, q querier, s waflow.UserSighting) ([]waflow.User, error) {
	var found []waflow.User
	for _, w := range []struct{ where, arg string }{{byPhone, s.Phone}, {byBSUID, s.BSUID}, {byBSUID, s.PreviousBSUID}} {
		if w.arg == "" {
			continue
		}
		u, err := scanUser(q.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE "+w.where, w.arg))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue
		case err != nil:
			return nil, err
		}
		dup := false
		for _, f := range found {
			dup = dup || f.ID == u.ID
		}
		if !dup {
			found = append(found, u)
		}
	}
	return found, nil
}

// The lookups repeat the partial indexes' condition word for word, so that
// the planner can use them whatever the parameter.
const (
	byPhone  = "phone = $1 AND phone <> ''"
	byBSUID  = "bsuid = $1 AND bsuid <> ''"
	byParent = "parent_bsuid = $1 AND parent_bsuid <> '' ORDER BY id LIMIT 1"
)

// UserByPhone implements waflow.UserStore.
func (db *DB) UserByPhone(ctx context.Context, phone string) (waflow.User, error) {
	return db.userWhere(ctx, "UserByPhone", byPhone, phone)
}

// UserByBSUID implements waflow.UserStore.
func (db *DB) UserByBSUID(ctx context.Context, id string) (waflow.User, error) {
	u, err := db.userWhere(ctx, "UserByBSUID", byBSUID, id)
	if errors.Is(err, waflow.ErrNotFound) {
		return db.userWhere(ctx, "UserByBSUID", byParent, id)
	}
	return u, err
}

func (db *DB) userWhere(ctx context.Context, op, where, arg string) (waflow.User, error) {
	if db.closed.Load() {
		return waflow.User{}, waflow.ErrClosed
	}
	u, err := scanUser(db.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE "+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.User{}, wrap(waflow.ErrNotFound, op)
	}
	return u, wrap(err, op)
}

// SetFlowHealth implements waflow.FlowHealthStore.
func (db *DB) SetFlowHealth(ctx context.Context, h waflow.FlowHealth) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if err := h.Validate(); err != nil {
		return err
	}
	if h.UpdatedAt.IsZero() {
		h.UpdatedAt = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO flow_health (flow, flow_id, status, paused, message, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (flow) DO UPDATE SET flow_id = excluded.flow_id, status = excluded.status, paused = excluded.paused,
			message = excluded.message, updated_at = excluded.updated_at
		WHERE excluded.updated_at >= flow_health.updated_at`,
		h.Flow, h.FlowID, h.Status, h.Paused, h.Message, h.UpdatedAt)
	return wrap(err, "SetFlowHealth")
}

// FlowHealth implements waflow.FlowHealthStore.
func (db *DB) FlowHealth(ctx context.Context, flow string) (waflow.FlowHealth, error) {
	if db.closed.Load() {
		return waflow.FlowHealth{}, waflow.ErrClosed
	}
	var h waflow.FlowHealth
	err := db.pool.QueryRow(ctx, `SELECT flow, flow_id, status, paused, message, updated_at FROM flow_health WHERE flow = $1`, flow).
		Scan(&h.Flow, &h.FlowID, &h.Status, &h.Paused, &h.Message, timeCol{&h.UpdatedAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.FlowHealth{}, wrap(waflow.ErrNotFound, "FlowHealth")
	}
	return h, wrap(err, "FlowHealth")
}
