package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console/consolestore"
)

// The console's tables (migration/008_console.sql): accounts, sessions,
// per-minute figures, and the reads of other tables the console's pages
// make.

var _ consolestore.Store = (*DB)(nil)

// AddUser implements consolestore.Store.
func (db *DB) AddUser(ctx context.Context, u consolestore.User) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if err := u.Validate(); err != nil {
		return err
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.now()
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO console_users (name, password_hash, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`, u.Name, u.PasswordHash, u.CreatedAt)
	if err != nil {
		return wrap(err, "AddUser")
	}
	if tag.RowsAffected() == 0 {
		return wrap(fmt.Errorf("%w: console account %q exists", waflow.ErrConflict, u.Name), "AddUser")
	}
	return nil
}

// SetPassword implements consolestore.Store.
func (db *DB) SetPassword(ctx context.Context, name, hash string) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if hash == "" {
		return waflow.Invalidf("an empty password hash")
	}
	// One transaction: the new password and the end of the account's
	// sessions, so that a reset signs out whoever had the old one.
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "SetPassword")
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE console_users SET password_hash = $1 WHERE name = $2`, hash, name)
	if err != nil {
		return wrap(err, "SetPassword")
	}
	if tag.RowsAffected() == 0 {
		return wrap(waflow.ErrNotFound, "SetPassword")
	}
	if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_name = $1`, name); err != nil {
		return wrap(err, "SetPassword")
	}
	return wrap(tx.Commit(ctx), "SetPassword")
}

// User implements consolestore.Store.
func (db *DB) User(ctx context.Context, name string) (consolestore.User, error) {
	if db.closed.Load() {
		return consolestore.User{}, waflow.ErrClosed
	}
	var u consolestore.User
	err := db.pool.QueryRow(ctx, `SELECT name, password_hash, created_at FROM console_users WHERE name = $1`, name).
		Scan(&u.Name, &u.PasswordHash, timeCol{&u.CreatedAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return u, wrap(waflow.ErrNotFound, "User")
	}
	return u, wrap(err, "User")
}

// CountUsers implements consolestore.Store.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	if db.closed.Load() {
		return 0, waflow.ErrClosed
	}
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM console_users`).Scan(&n)
	return n, wrap(err, "CountUsers")
}

// CreateSession implements consolestore.Store.
func (db *DB) CreateSession(ctx context.Context, s consolestore.Session) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO console_sessions (id, user_name, csrf, created_at, expires_at)
		SELECT $1, name, $2, $3, $4 FROM console_users WHERE name = $5 ON CONFLICT (id) DO NOTHING`,
		s.ID, s.CSRF, s.CreatedAt, s.ExpiresAt, s.User)
	if err != nil {
		return wrap(err, "CreateSession")
	}
	if tag.RowsAffected() == 0 {
		return wrap(fmt.Errorf("%w: the session exists or its account does not", waflow.ErrConflict), "CreateSession")
	}
	return nil
}

// Session implements consolestore.Store.
func (db *DB) Session(ctx context.Context, id string, now time.Time) (consolestore.Session, error) {
	if db.closed.Load() {
		return consolestore.Session{}, waflow.ErrClosed
	}
	var s consolestore.Session
	err := db.pool.QueryRow(ctx, `SELECT id, user_name, csrf, created_at, expires_at FROM console_sessions
		WHERE id = $1 AND expires_at > $2`, id, now).
		Scan(&s.ID, &s.User, &s.CSRF, timeCol{&s.CreatedAt}, timeCol{&s.ExpiresAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return s, wrap(waflow.ErrNotFound, "Session")
	}
	return s, wrap(err, "Session")
}

// DeleteSession implements consolestore.Store.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	_, err := db.pool.Exec(ctx, `DELETE FROM console_sessions WHERE id = $1`, id)
	return wrap(err, "DeleteSession")
}

// PruneSessions implements consolestore.Store.
func (db *DB) PruneSessions(ctx context.Context, now time.Time) (int64, error) {
	if db.closed.Load() {
		return 0, waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, wrap(err, "PruneSessions")
	}
	return tag.RowsAffected(), nil
}

var minuteColumns = strings.Split("requests,err_421,err_427,err_432,handler_failures,forward_failures,completions,l0,l1,l2,l3,l4,l5,l6,l7,l8,l9,l10,l11,l12", ",")

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
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	if len(ms) == 0 {
		return nil
	}
	upsert := func(table, col string) string {
		params, sets := []string{"$1", "$2"}, []string{}
		for i, c := range minuteColumns {
			params = append(params, "$"+strconv.Itoa(i+3))
			sets = append(sets, c+" = "+table+"."+c+" + excluded."+c)
		}
		return `INSERT INTO ` + table + ` (flow, ` + col + `, ` + strings.Join(minuteColumns, ", ") + `) VALUES (` +
			strings.Join(params, ", ") + `) ON CONFLICT (flow, ` + col + `) DO UPDATE SET ` + strings.Join(sets, ", ")
	}
	qm, qh := upsert("console_minutes", "minute"), upsert("console_hours", "hour")
	tx, err := db.begin(ctx)
	if err != nil {
		return wrap(err, "AddMinutes")
	}
	defer tx.Rollback(ctx)
	// Rows in a fixed order, so that two replicas adding the same minutes
	// lock them in the same order and never deadlock.
	sorted := slices.Clone(ms)
	slices.SortFunc(sorted, func(a, b consolestore.Minute) int {
		return cmp.Or(strings.Compare(a.Flow, b.Flow), a.Start.Compare(b.Start))
	})
	for i := range sorted {
		m := &sorted[i]
		counts := minuteArgs(m)
		if _, err := tx.Exec(ctx, qm, append([]any{m.Flow, m.Start.UTC().Truncate(time.Minute)}, counts...)...); err != nil {
			return wrap(err, "AddMinutes")
		}
	}
	// The hours after all the minutes, in the same order: the same lock
	// order in every replica.
	for i := range sorted {
		m := &sorted[i]
		if _, err := tx.Exec(ctx, qh, append([]any{m.Flow, m.Start.UTC().Truncate(time.Hour)}, minuteArgs(m)...)...); err != nil {
			return wrap(err, "AddMinutes")
		}
	}
	return wrap(tx.Commit(ctx), "AddMinutes")
}

// Minutes implements consolestore.Store.
func (db *DB) Minutes(ctx context.Context, flow string, since, until time.Time, step time.Duration) ([]consolestore.Minute, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	if step < time.Minute || step%time.Minute != 0 || !until.After(since) {
		return nil, waflow.Invalidf("minutes: the step must be whole minutes and until after since")
	}
	sums := make([]string, len(minuteColumns))
	for i, c := range minuteColumns {
		sums[i] = "sum(" + c + ")::bigint"
	}
	table, col := "console_minutes", "minute"
	if consolestore.ByHour(since, until, step) {
		table, col = "console_hours", "hour"
	}
	rows, err := db.pool.Query(ctx, `SELECT floor(extract(epoch FROM `+col+` - $1::timestamptz) / $2)::bigint AS n, `+
		strings.Join(sums, ", ")+` FROM `+table+`
		WHERE flow = $3 AND `+col+` >= $1 AND `+col+` < $4 GROUP BY n ORDER BY n`,
		since, step.Seconds(), flow, until)
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
		m.Start = since.Add(time.Duration(n) * step).UTC()
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "Minutes")
}

// PruneMinutes implements consolestore.Store.
func (db *DB) PruneMinutes(ctx context.Context, before time.Time) (int64, error) {
	if db.closed.Load() {
		return 0, waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM console_minutes WHERE minute < $1`, before)
	if err != nil {
		return 0, wrap(err, "PruneMinutes")
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM console_hours WHERE hour < $1`, before.Truncate(time.Hour)); err != nil {
		return 0, wrap(err, "PruneMinutes")
	}
	return tag.RowsAffected(), nil
}

// Answers implements consolestore.Store.
func (db *DB) Answers(ctx context.Context, q consolestore.AnswerQuery) ([]waflow.Completion, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	where, args := []string{"flow = $1"}, []any{q.Flow}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !q.Since.IsZero() {
		where = append(where, "received_at >= "+arg(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "received_at < "+arg(q.Until))
	}
	if !q.Before.IsZero() {
		b := arg(q.Before)
		where = append(where, "(received_at < "+b+" OR (received_at = "+b+" AND message_id < "+arg(q.BeforeID)+"))")
	}
	query := "SELECT " + completionCols + " FROM completions WHERE " + strings.Join(where, " AND ")
	if q.Text != "" {
		if q.ScanLimit > 0 {
			query = "SELECT " + completionCols + " FROM completions WHERE message_id IN (SELECT message_id FROM completions WHERE " +
				strings.Join(where, " AND ") + " ORDER BY received_at DESC, message_id DESC LIMIT " + arg(q.ScanLimit) + ")"
		}
		t := arg(q.Text)
		query += " AND (position(convert_to(" + t + "::text, 'UTF8') IN response) > 0 OR strpos(wa_id, " + t + ") > 0)"
	}
	rows, err := db.pool.Query(ctx, query+" ORDER BY received_at DESC, message_id DESC LIMIT "+arg(q.Limit), args...)
	if err != nil {
		return nil, wrap(err, "Answers")
	}
	out, err := collect(rows, scanCompletion)
	return out, wrap(err, "Answers")
}

// FlowEvents implements consolestore.Store.
func (db *DB) FlowEvents(ctx context.Context, limit int) ([]consolestore.FlowEvent, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	if limit <= 0 || limit > 500 {
		limit = 20
	}
	rows, err := db.pool.Query(ctx, `SELECT id, received_at, payload FROM inbox_events WHERE kind = $1
		ORDER BY id DESC LIMIT $2`, string(waflow.EventFlows), limit)
	if err != nil {
		return nil, wrap(err, "FlowEvents")
	}
	out, err := collect(rows, func(r pgx.Row) (consolestore.FlowEvent, error) {
		var e consolestore.FlowEvent
		err := r.Scan(&e.ID, timeCol{&e.ReceivedAt}, &e.Payload)
		return e, err
	})
	return out, wrap(err, "FlowEvents")
}

// Bookings implements consolestore.Store.
func (db *DB) Bookings(ctx context.Context, from, to time.Time) ([]catalogstore.Booking, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, "SELECT "+bookingSelect+" FROM bookings WHERE start_at >= $1 AND start_at < $2 AND cancelled_at IS NULL ORDER BY start_at, seat",
		from, to)
	if err != nil {
		return nil, wrap(err, "Bookings")
	}
	out, err := collect(rows, scanBooking)
	return out, wrap(err, "Bookings")
}

// OutboxMessages implements consolestore.Store.
func (db *DB) OutboxMessages(ctx context.Context, state waflow.OutboxState, limit int) ([]waflow.OutboxMessage, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, "SELECT "+outboxCols+" FROM outbox_messages WHERE state = $1 ORDER BY id DESC LIMIT $2",
		string(state), limit)
	if err != nil {
		return nil, wrap(err, "OutboxMessages")
	}
	out, err := collect(rows, scanOutbox)
	return out, wrap(err, "OutboxMessages")
}

// RetryOutboxMessage implements consolestore.Store.
func (db *DB) RetryOutboxMessage(ctx context.Context, id int64, at time.Time) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	var state string
	err := db.pool.QueryRow(ctx, `WITH old AS (SELECT state FROM outbox_messages WHERE id = $1 FOR UPDATE),
		upd AS (UPDATE outbox_messages SET state = 'pending', attempts = 0, next_attempt_at = $2, lease_owner = '',
			lease_until = NULL WHERE id = $1 AND state = 'dead' RETURNING id)
		SELECT state FROM old`, id, at).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return wrap(waflow.ErrNotFound, "RetryOutboxMessage")
	}
	if err != nil {
		return wrap(err, "RetryOutboxMessage")
	}
	if state != string(waflow.OutboxDead) {
		return wrap(fmt.Errorf("%w: outbox message %d is %s, not dead", waflow.ErrConflict, id, state), "RetryOutboxMessage")
	}
	return nil
}
