package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console/consolestore"
)

// The console's tables (migration/007_console.sql): accounts, sessions,
// per-minute figures, and the reads of other tables the console's pages
// make.

var _ consolestore.Store = (*DB)(nil)

// AddUser implements consolestore.Store.
func (db *DB) AddUser(ctx context.Context, u consolestore.User) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if err := u.Validate(); err != nil {
		return err
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.now()
	}
	res, err := db.exec(ctx, `INSERT INTO console_users (name, password_hash, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, u.Name, u.PasswordHash, micros(u.CreatedAt))
	if err != nil {
		return wrap(err, "AddUser")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return wrap(fmt.Errorf("%w: console account %q exists", waflow.ErrConflict, u.Name), "AddUser")
	}
	return nil
}

// SetPassword implements consolestore.Store.
func (db *DB) SetPassword(ctx context.Context, name, hash string) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if hash == "" {
		return waflow.Invalidf("an empty password hash")
	}
	// One transaction: the new password and the end of the account's
	// sessions, so that a reset signs out whoever had the old one.
	err := db.inTx(ctx, func(tx *opTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE console_users SET password_hash = ? WHERE name = ?`, hash, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return waflow.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_name = ?`, name)
		return err
	})
	return wrap(err, "SetPassword")
}

// User implements consolestore.Store.
func (db *DB) User(ctx context.Context, name string) (consolestore.User, error) {
	if db.isClosed() {
		return consolestore.User{}, waflow.ErrClosed
	}
	var u consolestore.User
	err := db.r.QueryRowContext(ctx, `SELECT name, password_hash, created_at FROM console_users WHERE name = ?`, name).
		Scan(&u.Name, &u.PasswordHash, timeCol{&u.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return u, wrap(waflow.ErrNotFound, "User")
	}
	return u, wrap(err, "User")
}

// CountUsers implements consolestore.Store.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	if db.isClosed() {
		return 0, waflow.ErrClosed
	}
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM console_users`).Scan(&n)
	return n, wrap(err, "CountUsers")
}

// CreateSession implements consolestore.Store.
func (db *DB) CreateSession(ctx context.Context, s consolestore.Session) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	res, err := db.exec(ctx, `INSERT INTO console_sessions (id, user_name, csrf, created_at, expires_at)
		SELECT ?, name, ?, ?, ? FROM console_users WHERE name = ? ON CONFLICT (id) DO NOTHING`,
		s.ID, s.CSRF, micros(s.CreatedAt), micros(s.ExpiresAt), s.User)
	if err != nil {
		return wrap(err, "CreateSession")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return wrap(fmt.Errorf("%w: the session exists or its account does not", waflow.ErrConflict), "CreateSession")
	}
	return nil
}

// Session implements consolestore.Store.
func (db *DB) Session(ctx context.Context, id string, now time.Time) (consolestore.Session, error) {
	if db.isClosed() {
		return consolestore.Session{}, waflow.ErrClosed
	}
	var s consolestore.Session
	err := db.r.QueryRowContext(ctx, `SELECT id, user_name, csrf, created_at, expires_at FROM console_sessions
		WHERE id = ? AND expires_at > ?`, id, micros(now)).
		Scan(&s.ID, &s.User, &s.CSRF, timeCol{&s.CreatedAt}, timeCol{&s.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return s, wrap(waflow.ErrNotFound, "Session")
	}
	return s, wrap(err, "Session")
}

// DeleteSession implements consolestore.Store.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	_, err := db.exec(ctx, `DELETE FROM console_sessions WHERE id = ?`, id)
	return wrap(err, "DeleteSession")
}

// PruneSessions implements consolestore.Store.
func (db *DB) PruneSessions(ctx context.Context, now time.Time) (int64, error) {
	if db.isClosed() {
		return 0, waflow.ErrClosed
	}
	res, err := db.exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, wrap(err, "PruneSessions")
	}
	n, _ := res.RowsAffected()
	return n, nil
}

const minuteCounts = `requests, err_421, err_427, err_432, handler_failures, forward_failures, completions,
	l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11, l12`

// minuteSums is minuteCounts summed, column for column.
var minuteSums = func() string {
	cols := strings.Split(strings.Join(strings.Fields(minuteCounts), ""), ",")
	for i, c := range cols {
		cols[i] = "sum(" + c + ")"
	}
	return strings.Join(cols, ", ")
}()

// minuteUpdate adds excluded's counts to the stored row.
var minuteUpdate = func() string {
	cols := strings.Split(strings.Join(strings.Fields(minuteCounts), ""), ",")
	for i, c := range cols {
		cols[i] = c + " = " + c + " + excluded." + c
	}
	return strings.Join(cols, ", ")
}()

func minuteArgs(m *consolestore.Minute) []any {
	args := []any{m.Requests, m.Err421, m.Err427, m.Err432, m.HandlerFailures, m.ForwardFailures, m.Completions}
	for _, n := range m.Latency {
		args = append(args, n)
	}
	return args
}

func minuteDest(m *consolestore.Minute) []any {
	d := []any{&m.Requests, &m.Err421, &m.Err427, &m.Err432, &m.HandlerFailures, &m.ForwardFailures, &m.Completions}
	for i := range m.Latency {
		d = append(d, &m.Latency[i])
	}
	return d
}

// AddMinutes implements consolestore.Store.
func (db *DB) AddMinutes(ctx context.Context, ms []consolestore.Minute) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	if len(ms) == 0 {
		return nil
	}
	values := `VALUES (?, ?` + strings.Repeat(", ?", 7+consolestore.Buckets) + `)`
	qm := `INSERT INTO console_minutes (flow, minute, ` + minuteCounts + `) ` + values +
		` ON CONFLICT (flow, minute) DO UPDATE SET ` + minuteUpdate
	qh := `INSERT INTO console_hours (flow, hour, ` + minuteCounts + `) ` + values +
		` ON CONFLICT (flow, hour) DO UPDATE SET ` + minuteUpdate
	err := db.inTx(ctx, func(tx *opTx) error {
		for i := range ms {
			m := &ms[i]
			counts := minuteArgs(m)
			if _, err := tx.ExecContext(ctx, qm, append([]any{m.Flow, m.Start.UTC().Truncate(time.Minute).UnixMicro()}, counts...)...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, qh, append([]any{m.Flow, m.Start.UTC().Truncate(time.Hour).UnixMicro()}, counts...)...); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(err, "AddMinutes")
}

// Minutes implements consolestore.Store.
func (db *DB) Minutes(ctx context.Context, flow string, since, until time.Time, step time.Duration) ([]consolestore.Minute, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	if step < time.Minute || step%time.Minute != 0 || !until.After(since) {
		return nil, waflow.Invalidf("minutes: the step must be whole minutes and until after since")
	}
	from, stepUS := since.UnixMicro(), step.Microseconds()
	table, col := "console_minutes", "minute"
	if consolestore.ByHour(since, until, step) {
		table, col = "console_hours", "hour"
	}
	rows, err := db.r.QueryContext(ctx, `SELECT (`+col+` - ?) / ? AS n, `+minuteSums+` FROM `+table+`
		WHERE flow = ? AND `+col+` >= ? AND `+col+` < ? GROUP BY n ORDER BY n`,
		from, stepUS, flow, from, until.UnixMicro())
	if err != nil {
		return nil, wrap(err, "Minutes")
	}
	defer rows.Close()
	var out []consolestore.Minute
	for rows.Next() {
		m := consolestore.Minute{Flow: flow}
		var n int64
		if err := rows.Scan(append([]any{&n}, minuteDest(&m)...)...); err != nil {
			return nil, wrap(err, "Minutes")
		}
		m.Start = time.UnixMicro(from + n*stepUS).UTC()
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "Minutes")
}

// PruneMinutes implements consolestore.Store.
func (db *DB) PruneMinutes(ctx context.Context, before time.Time) (int64, error) {
	if db.isClosed() {
		return 0, waflow.ErrClosed
	}
	var n int64
	err := db.inTx(ctx, func(tx *opTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_minutes WHERE minute < ?`, before.UnixMicro())
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM console_hours WHERE hour < ?`, before.Truncate(time.Hour).UnixMicro())
		return err
	})
	return n, wrap(err, "PruneMinutes")
}

// Answers implements consolestore.Store.
func (db *DB) Answers(ctx context.Context, q consolestore.AnswerQuery) ([]waflow.Completion, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	where, args := []string{"flow = ?"}, []any{q.Flow}
	if !q.Since.IsZero() {
		where, args = append(where, "received_at >= ?"), append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "received_at < ?"), append(args, micros(q.Until))
	}
	if !q.Before.IsZero() {
		where = append(where, "(received_at < ? OR (received_at = ? AND message_id < ?))")
		args = append(args, micros(q.Before), micros(q.Before), q.BeforeID)
	}
	query := "SELECT " + completionCols + " FROM completions WHERE " + strings.Join(where, " AND ")
	if q.Text != "" {
		// Bytes against bytes: no conversion of each response.
		text := "(instr(response, CAST(? AS BLOB)) > 0 OR instr(wa_id, ?) > 0)"
		if q.ScanLimit > 0 {
			query = "SELECT " + completionCols + " FROM completions WHERE message_id IN (SELECT message_id FROM completions WHERE " +
				strings.Join(where, " AND ") + " ORDER BY received_at DESC, message_id DESC LIMIT ?) AND " + text
			args = append(args, q.ScanLimit)
		} else {
			query += " AND " + text
		}
		args = append(args, q.Text, q.Text)
	}
	rows, err := db.r.QueryContext(ctx, query+" ORDER BY received_at DESC, message_id DESC LIMIT ?", append(args, q.Limit)...)
	if err != nil {
		return nil, wrap(err, "Answers")
	}
	defer rows.Close()
	out := []waflow.Completion{}
	for rows.Next() {
		c, err := scanCompletion(rows)
		if err != nil {
			return nil, wrap(err, "Answers")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "Answers")
}

// FlowEvents implements consolestore.Store.
func (db *DB) FlowEvents(ctx context.Context, limit int) ([]consolestore.FlowEvent, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	if limit <= 0 || limit > 500 {
		limit = 20
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, received_at, payload FROM inbox_events WHERE kind = ?
		ORDER BY id DESC LIMIT ?`, string(waflow.EventFlows), limit)
	if err != nil {
		return nil, wrap(err, "FlowEvents")
	}
	defer rows.Close()
	out := []consolestore.FlowEvent{}
	for rows.Next() {
		var e consolestore.FlowEvent
		if err := rows.Scan(&e.ID, timeCol{&e.ReceivedAt}, &e.Payload); err != nil {
			return nil, wrap(err, "FlowEvents")
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "FlowEvents")
}

// Bookings implements consolestore.Store.
func (db *DB) Bookings(ctx context.Context, from, to time.Time) ([]catalogstore.Booking, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+bookingSelect+" FROM bookings WHERE start_at >= ? AND start_at < ? AND cancelled_at IS NULL ORDER BY start_at, seat",
		micros(from), micros(to))
	if err != nil {
		return nil, wrap(err, "Bookings")
	}
	defer rows.Close()
	out := []catalogstore.Booking{}
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return nil, wrap(err, "Bookings")
		}
		out = append(out, b)
	}
	return out, wrap(rows.Err(), "Bookings")
}

// OutboxMessages implements consolestore.Store.
func (db *DB) OutboxMessages(ctx context.Context, state waflow.OutboxState, limit int) ([]waflow.OutboxMessage, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+outboxCols+" FROM outbox_messages WHERE state = ? ORDER BY id DESC LIMIT ?",
		string(state), limit)
	if err != nil {
		return nil, wrap(err, "OutboxMessages")
	}
	defer rows.Close()
	out := []waflow.OutboxMessage{}
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, wrap(err, "OutboxMessages")
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "OutboxMessages")
}

// RetryOutboxMessage implements consolestore.Store.
func (db *DB) RetryOutboxMessage(ctx context.Context, id int64, at time.Time) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	err := db.inTx(ctx, func(tx *opTx) error {
		var state string
		err := tx.QueryRowContext(ctx, "SELECT state FROM outbox_messages WHERE id = ?", id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return waflow.ErrNotFound
		}
		if err != nil {
			return err
		}
		if state != string(waflow.OutboxDead) {
			return fmt.Errorf("%w: outbox message %d is %s, not dead", waflow.ErrConflict, id, state)
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox_messages SET state = 'pending', attempts = 0, next_attempt_at = ?,
			lease_owner = '', lease_until = NULL WHERE id = ?`, micros(at), id)
		return err
	})
	return wrap(err, "RetryOutboxMessage")
}
