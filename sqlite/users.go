package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/waflow/waflow"
)

const userCols = `id, phone, bsuid, parent_bsuid, username, first_seen_at, last_seen_at`

func scanUser(r rowScanner) (waflow.User, error) {
	var u waflow.User
	err := r.Scan(&u.ID, &u.Phone, &u.BSUID, &u.ParentBSUID, &u.Username, timeCol{&u.FirstSeen}, timeCol{&u.LastSeen})
	return u, err
}

// SeeUser implements waflow.UserStore.
func (db *DB) SeeUser(ctx context.Context, s waflow.UserSighting) (waflow.User, error) {
	if db.isClosed() {
		return waflow.User{}, waflow.ErrClosed
	}
	if err := s.Validate(); err != nil {
		return waflow.User{}, err
	}
	if s.At.IsZero() {
		s.At = db.now()
	}
	// Most sightings are of a user already known as the webhook names
	// them: a read, without taking the writer's turn, tells.
	found, err := findUsers(ctx, db.r, s)
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
	defer tx.Rollback()
	if found, err = findUsers(ctx, tx, s); err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	found, others := waflow.SplitSighting(found, s)
	for _, u := range others {
		// The number is no longer theirs (their BSUID keeps the row valid).
		if _, err := tx.ExecContext(ctx, "UPDATE users SET phone = '' WHERE id = ?", u.ID); err != nil {
			return waflow.User{}, wrap(err, "SeeUser")
		}
	}
	keep, merged := waflow.MergeSighting(found, s)
	for _, id := range merged {
		if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", id); err != nil {
			return waflow.User{}, wrap(err, "SeeUser")
		}
	}
	if keep.ID == 0 {
		err = tx.QueryRowContext(ctx, `INSERT INTO users (phone, bsuid, parent_bsuid, username, first_seen_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, keep.Phone, keep.BSUID, keep.ParentBSUID, keep.Username,
			micros(keep.FirstSeen), micros(keep.LastSeen)).Scan(&keep.ID)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE users SET phone = ?, bsuid = ?, parent_bsuid = ?, username = ?,
			first_seen_at = ?, last_seen_at = ? WHERE id = ?`, keep.Phone, keep.BSUID, keep.ParentBSUID, keep.Username,
			micros(keep.FirstSeen), micros(keep.LastSeen), keep.ID)
	}
	if err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	if err := tx.Commit(); err != nil {
		return waflow.User{}, wrap(err, "SeeUser")
	}
	return keep, nil
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// findUsers returns the users s names, each once: by phone, BSUID and
// previous BSUID.
func findUsers(ctx context.Context, q rowQuerier, s waflow.UserSighting) ([]waflow.User, error) {
	var found []waflow.User
	for _, w := range []struct{ where, arg string }{{byPhone, s.Phone}, {byBSUID, s.BSUID}, {byBSUID, s.PreviousBSUID}} {
		if w.arg == "" {
			continue
		}
		u, err := scanUser(q.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE "+w.where, w.arg))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return nil, err
		}
		if !containsUser(found, u.ID) {
			found = append(found, u)
		}
	}
	return found, nil
}

func containsUser(us []waflow.User, id int64) bool {
	for _, u := range us {
		if u.ID == id {
			return true
		}
	}
	return false
}

// The lookups repeat the partial indexes' condition word for word: SQLite
// uses a partial index only for a query whose WHERE holds its condition.
const (
	byPhone  = "phone = ? AND phone <> ''"
	byBSUID  = "bsuid = ? AND bsuid <> ''"
	byParent = "parent_bsuid = ? AND parent_bsuid <> '' ORDER BY id LIMIT 1"
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
	if db.isClosed() {
		return waflow.User{}, waflow.ErrClosed
	}
	u, err := scanUser(db.r.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.User{}, wrap(waflow.ErrNotFound, op)
	}
	return u, wrap(err, op)
}

// SetFlowHealth implements waflow.FlowHealthStore.
func (db *DB) SetFlowHealth(ctx context.Context, h waflow.FlowHealth) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if err := h.Validate(); err != nil {
		return err
	}
	if h.UpdatedAt.IsZero() {
		h.UpdatedAt = db.now()
	}
	paused := 0
	if h.Paused {
		paused = 1
	}
	_, err := db.exec(ctx, `INSERT INTO flow_health (flow, flow_id, status, paused, message, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (flow) DO UPDATE SET flow_id = excluded.flow_id, status = excluded.status, paused = excluded.paused,
			message = excluded.message, updated_at = excluded.updated_at
		WHERE excluded.updated_at >= flow_health.updated_at`,
		h.Flow, h.FlowID, h.Status, paused, h.Message, micros(h.UpdatedAt))
	return wrap(err, "SetFlowHealth")
}

// FlowHealth implements waflow.FlowHealthStore.
func (db *DB) FlowHealth(ctx context.Context, flow string) (waflow.FlowHealth, error) {
	if db.isClosed() {
		return waflow.FlowHealth{}, waflow.ErrClosed
	}
	var h waflow.FlowHealth
	var paused int
	err := db.r.QueryRowContext(ctx, `SELECT flow, flow_id, status, paused, message, updated_at FROM flow_health WHERE flow = ?`, flow).
		Scan(&h.Flow, &h.FlowID, &h.Status, &paused, &h.Message, timeCol{&h.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.FlowHealth{}, wrap(waflow.ErrNotFound, "FlowHealth")
	}
	h.Paused = paused == 1
	return h, wrap(err, "FlowHealth")
}
