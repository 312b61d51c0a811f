package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/waflow/waflow"
)

// The catalog flows' stores (waflow.CatalogStore). Every write runs on the
// one writer connection; a read-then-write runs in one BEGIN IMMEDIATE
// transaction, so its check and its change are atomic across goroutines and
// processes. The unique indexes of migration/002_catalog.sql back every
// such check.

// storedTime is t as the database keeps it: UTC, microseconds.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// createdAt is t, or the store's clock when t is zero, as stored.
func (db *DB) createdAt(t time.Time) time.Time {
	if t.IsZero() {
		t = db.now()
	}
	return storedTime(t)
}

// inTx runs fn as one write of the shared transaction (commit.go) and
// returns once its changes are committed; when fn fails, they are undone.
func (db *DB) inTx(ctx context.Context, fn func(tx *opTx) error) (err error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.end(&err)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// exists reports whether query finds a row.
func exists(ctx context.Context, tx *opTx, query string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// jsonList is a list of ids in its stored form, a JSON array.
func jsonList(ss []string) string {
	if len(ss) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ss) // a []string always marshals
	return string(b)
}

// jsonCol scans a JSON array of strings.
type jsonCol struct{ ss *[]string }

func (c jsonCol) Scan(v any) error {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return fmt.Errorf("sqlite: list column holds %T, want TEXT", v)
	}
	*c.ss = []string{}
	return json.Unmarshal(b, c.ss)
}

// ---- bookings

const bookingCols = `ref, token_id, wa_id, start_at, seat, name, reason, reminder, created_at`

func scanBooking(r rowScanner) (waflow.Booking, error) {
	var b waflow.Booking
	err := r.Scan(&b.Ref, &b.TokenID, &b.WAID, timeCol{&b.Start}, &b.Seat, &b.Name, &b.Reason, &b.Reminder,
		timeCol{&b.CreatedAt})
	return b, err
}

// BookingCounts implements waflow.BookingStore.
func (db *DB) BookingCounts(ctx context.Context, from, to time.Time) (map[time.Time]int, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, `SELECT start_at, count(*) FROM bookings
		WHERE start_at >= ? AND start_at < ? GROUP BY start_at`, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, wrap(err, "BookingCounts")
	}
	defer rows.Close()
	counts := map[time.Time]int{}
	for rows.Next() {
		var start time.Time
		var n int
		if err := rows.Scan(timeCol{&start}, &n); err != nil {
			return nil, wrap(err, "BookingCounts")
		}
		counts[start] = n
	}
	return counts, wrap(rows.Err(), "BookingCounts")
}

// Book implements waflow.BookingStore. The transaction holds the write lock
// from its first read, so no other Book, in this process or another, runs
// between choosing a seat and taking it; UNIQUE (start_at, seat) would
// refuse a second holder anyway.
func (db *DB) Book(ctx context.Context, b waflow.Booking, capacity int) (waflow.Booking, bool, error) {
	if db.isClosed() {
		return waflow.Booking{}, false, waflow.ErrClosed
	}
	if b.Ref == "" || b.TokenID == "" || b.Start.IsZero() || capacity < 1 {
		return waflow.Booking{}, false, waflow.Invalidf("Book needs a Ref, a TokenID, a Start and a capacity of at least 1 (got %d)", capacity)
	}
	b.Start, b.CreatedAt = storedTime(b.Start), db.createdAt(b.CreatedAt)
	var stored waflow.Booking
	created := false
	err := db.inTx(ctx, func(tx *opTx) error {
		existing, err := scanBooking(tx.QueryRowContext(ctx, "SELECT "+bookingCols+" FROM bookings WHERE token_id = ?", b.TokenID))
		if err == nil {
			stored = existing // a replayed submission
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if taken, err := exists(ctx, tx, "SELECT 1 FROM bookings WHERE ref = ?", b.Ref); err != nil || taken {
			if taken {
				return fmt.Errorf("%w: booking ref %s is taken", waflow.ErrConflict, b.Ref)
			}
			return err
		}
		seat, err := firstFreeSeat(ctx, tx, b.Start, capacity)
		if err != nil {
			return err
		}
		b.Seat = seat
		if _, err := tx.ExecContext(ctx, "INSERT INTO bookings ("+bookingCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			b.Ref, b.TokenID, b.WAID, micros(b.Start), b.Seat, b.Name, b.Reason, b.Reminder, micros(b.CreatedAt)); err != nil {
			return err
		}
		stored, created = b, true
		return nil
	})
	if err != nil {
		return waflow.Booking{}, false, wrap(err, "Book")
	}
	return stored, created, nil
}

// firstFreeSeat returns the lowest seat in 1..capacity of the slot at start
// that nobody holds, or ErrSlotFull.
func firstFreeSeat(ctx context.Context, tx *opTx, start time.Time, capacity int) (int, error) {
	rows, err := tx.QueryContext(ctx, "SELECT seat FROM bookings WHERE start_at = ? AND seat <= ? ORDER BY seat",
		micros(start), capacity)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	free := 1
	for rows.Next() {
		var seat int
		if err := rows.Scan(&seat); err != nil {
			return 0, err
		}
		if seat != free {
			break // a gap: seat free is not held
		}
		free++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if free > capacity {
		return 0, fmt.Errorf("%w: %d of %d seats taken", waflow.ErrSlotFull, capacity, capacity)
	}
	return free, nil
}

// BookingByRef implements waflow.BookingStore.
func (db *DB) BookingByRef(ctx context.Context, ref string) (waflow.Booking, error) {
	if db.isClosed() {
		return waflow.Booking{}, waflow.ErrClosed
	}
	b, err := scanBooking(db.r.QueryRowContext(ctx, "SELECT "+bookingCols+" FROM bookings WHERE ref = ?", ref))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.Booking{}, wrap(waflow.ErrNotFound, "BookingByRef")
	}
	return b, wrap(err, "BookingByRef")
}

// ---- expenses

const expenseCols = `id, token_id, wa_id, amount_cents, currency, category, description, created_at`

func scanExpense(r rowScanner) (waflow.Expense, error) {
	var e waflow.Expense
	err := r.Scan(&e.ID, &e.TokenID, &e.WAID, &e.AmountCents, &e.Currency, &e.Category, &e.Description,
		timeCol{&e.CreatedAt})
	return e, err
}

// SaveExpense implements waflow.ExpenseStore.
func (db *DB) SaveExpense(ctx context.Context, e waflow.Expense) (waflow.Expense, bool, error) {
	if db.isClosed() {
		return waflow.Expense{}, false, waflow.ErrClosed
	}
	if e.ID == "" || e.TokenID == "" || e.Currency == "" || e.AmountCents <= 0 {
		return waflow.Expense{}, false, waflow.Invalidf("SaveExpense needs an ID, a TokenID, a Currency and a positive AmountCents (got %d)", e.AmountCents)
	}
	e.CreatedAt = db.createdAt(e.CreatedAt)
	var stored waflow.Expense
	created := false
	err := db.inTx(ctx, func(tx *opTx) error {
		existing, err := scanExpense(tx.QueryRowContext(ctx, "SELECT "+expenseCols+" FROM expenses WHERE token_id = ?", e.TokenID))
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO expenses ("+expenseCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
			e.ID, e.TokenID, e.WAID, e.AmountCents, e.Currency, e.Category, e.Description, micros(e.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: expense id %s is taken", waflow.ErrConflict, e.ID)
		}
		stored, created = e, true
		return nil
	})
	if err != nil {
		return waflow.Expense{}, false, wrap(err, "SaveExpense")
	}
	return stored, created, nil
}

// ExpensesByUser implements waflow.ExpenseStore.
func (db *DB) ExpensesByUser(ctx context.Context, waID string) ([]waflow.Expense, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+expenseCols+" FROM expenses WHERE wa_id = ? ORDER BY created_at, rowid", waID)
	if err != nil {
		return nil, wrap(err, "ExpensesByUser")
	}
	out, err := collect(rows, scanExpense)
	return out, wrap(err, "ExpensesByUser")
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ---- survey responses

const surveyCols = `message_id, token_id, wa_id, rating, comments, follow_up, contact_method, contact_value,
	contact_time, created_at`

func scanSurvey(r rowScanner) (waflow.SurveyResponse, error) {
	var s waflow.SurveyResponse
	err := r.Scan(&s.MessageID, &s.TokenID, &s.WAID, &s.Rating, &s.Comments, &s.FollowUp, &s.ContactMethod,
		&s.ContactValue, &s.ContactTime, timeCol{&s.CreatedAt})
	return s, err
}

// SaveSurveyResponse implements waflow.SurveyStore.
func (db *DB) SaveSurveyResponse(ctx context.Context, r waflow.SurveyResponse) (bool, error) {
	if db.isClosed() {
		return false, waflow.ErrClosed
	}
	if r.MessageID == "" || r.Rating < 1 || r.Rating > 5 {
		return false, waflow.Invalidf("SaveSurveyResponse needs a MessageID and a Rating of 1 to 5 (got %d)", r.Rating)
	}
	res, err := db.exec(ctx, "INSERT INTO survey_responses ("+surveyCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
		r.MessageID, r.TokenID, r.WAID, r.Rating, r.Comments, r.FollowUp, r.ContactMethod, r.ContactValue,
		r.ContactTime, micros(db.createdAt(r.CreatedAt)))
	if err != nil {
		return false, wrap(err, "SaveSurveyResponse")
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err, "SaveSurveyResponse")
}

// SurveyResponses implements waflow.SurveyStore.
func (db *DB) SurveyResponses(ctx context.Context, from, to time.Time) ([]waflow.SurveyResponse, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+surveyCols+` FROM survey_responses
		WHERE created_at >= ? AND created_at < ? ORDER BY created_at, rowid`, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, wrap(err, "SurveyResponses")
	}
	out, err := collect(rows, scanSurvey)
	return out, wrap(err, "SurveyResponses")
}

// ---- calendar preferences

// Preferences implements waflow.PreferencesStore.
func (db *DB) Preferences(ctx context.Context, waID string) (waflow.CalendarPreferences, error) {
	if db.isClosed() {
		return waflow.CalendarPreferences{}, waflow.ErrClosed
	}
	var p waflow.CalendarPreferences
	err := db.r.QueryRowContext(ctx, `SELECT wa_id, notifications, lead_minutes, time_zone, digest, updated_at
		FROM calendar_preferences WHERE wa_id = ?`, waID).
		Scan(&p.WAID, jsonCol{&p.Notifications}, &p.LeadMinutes, &p.TimeZone, &p.Digest, timeCol{&p.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.CalendarPreferences{}, wrap(waflow.ErrNotFound, "Preferences")
	}
	return p, wrap(err, "Preferences")
}

// SavePreferences implements waflow.PreferencesStore with one upsert.
func (db *DB) SavePreferences(ctx context.Context, p waflow.CalendarPreferences) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if p.WAID == "" || p.TimeZone == "" {
		return waflow.Invalidf("SavePreferences needs a WAID and a TimeZone")
	}
	_, err := db.exec(ctx, `INSERT INTO calendar_preferences
		(wa_id, notifications, lead_minutes, time_zone, digest, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (wa_id) DO UPDATE SET notifications = excluded.notifications, lead_minutes = excluded.lead_minutes,
			time_zone = excluded.time_zone, digest = excluded.digest, updated_at = excluded.updated_at`,
		p.WAID, jsonList(p.Notifications), p.LeadMinutes, p.TimeZone, p.Digest, micros(db.createdAt(p.UpdatedAt)))
	return wrap(err, "SavePreferences")
}

// ---- schedules

const scheduleCols = `id, message_id, token_id, wa_id, start_date, end_date, weekdays, time_of_day, duration_minutes,
	time_zone, title, notes, created_at`

func scanSchedule(r rowScanner) (waflow.Schedule, error) {
	var s waflow.Schedule
	err := r.Scan(&s.ID, &s.MessageID, &s.TokenID, &s.WAID, &s.StartDate, &s.EndDate, jsonCol{&s.Weekdays},
		&s.TimeOfDay, &s.DurationMinutes, &s.TimeZone, &s.Title, &s.Notes, timeCol{&s.CreatedAt})
	return s, err
}

// checkSchedule validates s and its occurrences and returns the occurrences
// as stored: under s.ID, times in UTC microseconds, in time order.
func checkSchedule(s waflow.Schedule, occurrences []waflow.Occurrence) ([]waflow.Occurrence, error) {
	if s.ID == "" || s.MessageID == "" || len(occurrences) == 0 {
		return nil, waflow.Invalidf("SaveSchedule needs an ID, a MessageID and at least one occurrence")
	}
	out := make([]waflow.Occurrence, len(occurrences))
	for i, o := range occurrences {
		if o.ScheduleID != "" && o.ScheduleID != s.ID {
			return nil, waflow.Invalidf("SaveSchedule: occurrence %d belongs to schedule %q, not %q", i, o.ScheduleID, s.ID)
		}
		if o.Start.IsZero() || o.End.Before(o.Start) {
			return nil, waflow.Invalidf("SaveSchedule: occurrence %d needs a Start and an End not before it", i)
		}
		out[i] = waflow.Occurrence{ScheduleID: s.ID, Start: storedTime(o.Start), End: storedTime(o.End)}
	}
	slices.SortFunc(out, func(a, b waflow.Occurrence) int { return a.Start.Compare(b.Start) })
	for i := 1; i < len(out); i++ {
		if out[i].Start.Equal(out[i-1].Start) {
			return nil, waflow.Invalidf("SaveSchedule: two occurrences start at %s", out[i].Start.Format(time.RFC3339Nano))
		}
	}
	return out, nil
}

// SaveSchedule implements waflow.ScheduleStore.
func (db *DB) SaveSchedule(ctx context.Context, s waflow.Schedule, occurrences []waflow.Occurrence) (waflow.Schedule, bool, error) {
	if db.isClosed() {
		return waflow.Schedule{}, false, waflow.ErrClosed
	}
	occ, err := checkSchedule(s, occurrences)
	if err != nil {
		return waflow.Schedule{}, false, err
	}
	s.CreatedAt = db.createdAt(s.CreatedAt)
	var stored waflow.Schedule
	created := false
	err = db.inTx(ctx, func(tx *opTx) error {
		existing, err := scanSchedule(tx.QueryRowContext(ctx, "SELECT "+scheduleCols+" FROM schedules WHERE message_id = ?", s.MessageID))
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO schedules ("+scheduleCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			s.ID, s.MessageID, s.TokenID, s.WAID, s.StartDate, s.EndDate, jsonList(s.Weekdays), s.TimeOfDay,
			s.DurationMinutes, s.TimeZone, s.Title, s.Notes, micros(s.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: schedule id %s is taken", waflow.ErrConflict, s.ID)
		}
		ins, err := tx.PrepareContext(ctx, "INSERT INTO schedule_occurrences (schedule_id, start_at, end_at) VALUES (?, ?, ?)")
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, o := range occ {
			if _, err := ins.ExecContext(context.WithoutCancel(ctx), s.ID, micros(o.Start), micros(o.End)); err != nil {
				return err
			}
		}
		stored, created = s, true
		return nil
	})
	if err != nil {
		return waflow.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	return stored, created, nil
}

// Occurrences implements waflow.ScheduleStore.
func (db *DB) Occurrences(ctx context.Context, scheduleID string) ([]waflow.Occurrence, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	// Every schedule has an occurrence, so no rows means no schedule.
	rows, err := db.r.QueryContext(ctx, `SELECT schedule_id, start_at, end_at FROM schedule_occurrences
		WHERE schedule_id = ? ORDER BY start_at`, scheduleID)
	if err != nil {
		return nil, wrap(err, "Occurrences")
	}
	out, err := collect(rows, func(r rowScanner) (waflow.Occurrence, error) {
		var o waflow.Occurrence
		err := r.Scan(&o.ScheduleID, timeCol{&o.Start}, timeCol{&o.End})
		return o, err
	})
	if err == nil && len(out) == 0 {
		err = waflow.ErrNotFound
	}
	if err != nil {
		return nil, wrap(err, "Occurrences")
	}
	return out, nil
}

// SchedulesByUser implements waflow.ScheduleStore.
func (db *DB) SchedulesByUser(ctx context.Context, waID string) ([]waflow.Schedule, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+scheduleCols+" FROM schedules WHERE wa_id = ? ORDER BY created_at, rowid", waID)
	if err != nil {
		return nil, wrap(err, "SchedulesByUser")
	}
	out, err := collect(rows, scanSchedule)
	return out, wrap(err, "SchedulesByUser")
}

// ---- budgets

const budgetCols = `id, token_id, wa_id, currency, period, total_cents, alert_threshold, alerts, created_at`

func scanBudget(r rowScanner) (waflow.Budget, error) {
	var b waflow.Budget
	err := r.Scan(&b.ID, &b.TokenID, &b.WAID, &b.Currency, &b.Period, &b.TotalCents, &b.AlertThreshold, &b.Alerts,
		timeCol{&b.CreatedAt})
	return b, err
}

// querier is what a read pool and a transaction have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// budgetsWhere returns the budgets matching where, oldest first, with their
// limits.
func budgetsWhere(ctx context.Context, q querier, where string, arg any) ([]waflow.Budget, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+budgetCols+" FROM budgets WHERE "+where+" ORDER BY created_at, rowid", arg)
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, scanBudget)
	if err != nil || len(out) == 0 {
		return out, err
	}
	index := make(map[string]*waflow.Budget, len(out))
	for i := range out {
		out[i].Limits = map[string]int64{}
		index[out[i].ID] = &out[i]
	}
	rows, err = q.QueryContext(ctx, `SELECT budget_id, category, limit_cents FROM budget_limits
		WHERE budget_id IN (SELECT id FROM budgets WHERE `+where+`)`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, category string
		var limit int64
		if err := rows.Scan(&id, &category, &limit); err != nil {
			return nil, err
		}
		index[id].Limits[category] = limit
	}
	return out, rows.Err()
}

// checkBudget validates b.
func checkBudget(b waflow.Budget) error {
	if b.ID == "" || b.TokenID == "" || b.Currency == "" || b.TotalCents <= 0 {
		return waflow.Invalidf("SaveBudget needs an ID, a TokenID, a Currency and a positive TotalCents (got %d)", b.TotalCents)
	}
	for category, limit := range b.Limits {
		if category == "" || limit < 0 {
			return waflow.Invalidf("SaveBudget: limit %d for category %q: want a category id and a limit of at least 0", limit, category)
		}
	}
	return nil
}

// SaveBudget implements waflow.BudgetStore.
func (db *DB) SaveBudget(ctx context.Context, b waflow.Budget) (waflow.Budget, bool, error) {
	if db.isClosed() {
		return waflow.Budget{}, false, waflow.ErrClosed
	}
	if err := checkBudget(b); err != nil {
		return waflow.Budget{}, false, err
	}
	b.CreatedAt = db.createdAt(b.CreatedAt)
	b.Limits = maps.Clone(b.Limits)
	var stored waflow.Budget
	created := false
	err := db.inTx(ctx, func(tx *opTx) error {
		existing, err := budgetsWhere(ctx, tx, "token_id = ?", b.TokenID)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			stored = existing[0]
			return nil
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO budgets ("+budgetCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
			b.ID, b.TokenID, b.WAID, b.Currency, b.Period, b.TotalCents, b.AlertThreshold, b.Alerts, micros(b.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: budget id %s is taken", waflow.ErrConflict, b.ID)
		}
		for _, category := range slices.Sorted(maps.Keys(b.Limits)) {
			if _, err := tx.ExecContext(ctx, "INSERT INTO budget_limits (budget_id, category, limit_cents) VALUES (?, ?, ?)",
				b.ID, category, b.Limits[category]); err != nil {
				return err
			}
		}
		stored, created = b, true
		return nil
	})
	if err != nil {
		return waflow.Budget{}, false, wrap(err, "SaveBudget")
	}
	return stored, created, nil
}

// BudgetsByUser implements waflow.BudgetStore.
func (db *DB) BudgetsByUser(ctx context.Context, waID string) ([]waflow.Budget, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	out, err := budgetsWhere(ctx, db.r, "wa_id = ?", waID)
	return out, wrap(err, "BudgetsByUser")
}
