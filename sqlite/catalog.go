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
	"github.com/waflow/waflow/catalog/catalogstore"
)

// The catalog flows' stores (catalogstore.Store). Every write runs on the
// one writer connection; a read-then-write runs in one BEGIN IMMEDIATE
// transaction, so its check and its change are atomic across goroutines and
// processes. The unique indexes of migration/002_catalog.sql back every
// such check.

// createdAt is t, or the store's clock when t is zero, as stored.
func (db *DB) createdAt(t time.Time) time.Time {
	if t.IsZero() {
		t = db.now()
	}
	return catalogstore.StoredTime(t)
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

const bookingCols = `ref, token_id, wa_id, start_at, seat, name, reason, reminder, created_at, user_id`

// bookingSelect is what scanBooking reads: the inserted columns and the
// cancellation (migration/*_reminders.sql).
const bookingSelect = bookingCols + `, cancelled_at`

func scanBooking(r rowScanner) (catalogstore.Booking, error) {
	var b catalogstore.Booking
	err := r.Scan(&b.Ref, &b.TokenID, &b.WAID, timeCol{&b.Start}, &b.Seat, &b.Name, &b.Reason, &b.Reminder,
		timeCol{&b.CreatedAt}, &b.UserID, timeCol{&b.CancelledAt})
	return b, err
}

// BookingCounts implements catalogstore.BookingStore.
func (db *DB) BookingCounts(ctx context.Context, from, to time.Time) (map[time.Time]int, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, `SELECT start_at, count(*) FROM bookings
		WHERE start_at >= ? AND start_at < ? AND cancelled_at IS NULL GROUP BY start_at`, from.UnixMicro(), to.UnixMicro())
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

// Book implements catalogstore.BookingStore. The transaction holds the write lock
// from its first read, so no other Book, in this process or another, runs
// between choosing a seat and taking it; UNIQUE (start_at, seat) would
// refuse a second holder anyway.
func (db *DB) Book(ctx context.Context, b catalogstore.Booking, capacity int) (catalogstore.Booking, bool, error) {
	if db.isClosed() {
		return catalogstore.Booking{}, false, waflow.ErrClosed
	}
	if err := b.Validate(); err != nil {
		return catalogstore.Booking{}, false, err
	}
	if err := catalogstore.ValidateCapacity(capacity); err != nil {
		return catalogstore.Booking{}, false, err
	}
	b.Start, b.CreatedAt = catalogstore.StoredTime(b.Start), db.createdAt(b.CreatedAt)
	var stored catalogstore.Booking
	created := false
	err := db.inTx(ctx, func(tx *opTx) error {
		existing, err := scanBooking(tx.QueryRowContext(ctx, "SELECT "+bookingSelect+" FROM bookings WHERE token_id = ?", b.TokenID))
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
		if _, err := tx.ExecContext(ctx, "INSERT INTO bookings ("+bookingCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			b.Ref, b.TokenID, b.WAID, micros(b.Start), b.Seat, b.Name, b.Reason, b.Reminder, micros(b.CreatedAt), b.UserID); err != nil {
			return err
		}
		stored, created = b, true
		return nil
	})
	if err != nil {
		return catalogstore.Booking{}, false, wrap(err, "Book")
	}
	return stored, created, nil
}

// firstFreeSeat returns the lowest seat in 1..capacity of the slot at start
// that nobody holds, or ErrSlotFull.
func firstFreeSeat(ctx context.Context, tx *opTx, start time.Time, capacity int) (int, error) {
	rows, err := tx.QueryContext(ctx, "SELECT seat FROM bookings WHERE start_at = ? AND seat <= ? AND cancelled_at IS NULL ORDER BY seat",
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
		return 0, fmt.Errorf("%w: %d of %d seats taken", catalogstore.ErrSlotFull, capacity, capacity)
	}
	return free, nil
}

// BookingByRef implements catalogstore.BookingStore.
func (db *DB) BookingByRef(ctx context.Context, ref string) (catalogstore.Booking, error) {
	if db.isClosed() {
		return catalogstore.Booking{}, waflow.ErrClosed
	}
	b, err := scanBooking(db.r.QueryRowContext(ctx, "SELECT "+bookingSelect+" FROM bookings WHERE ref = ?", ref))
	if errors.Is(err, sql.ErrNoRows) {
		return catalogstore.Booking{}, wrap(waflow.ErrNotFound, "BookingByRef")
	}
	return b, wrap(err, "BookingByRef")
}

// ---- expenses

const expenseCols = `id, token_id, wa_id, amount_cents, currency, category, description, created_at`

func scanExpense(r rowScanner) (catalogstore.Expense, error) {
	var e catalogstore.Expense
	err := r.Scan(&e.ID, &e.TokenID, &e.WAID, &e.AmountCents, &e.Currency, &e.Category, &e.Description,
		timeCol{&e.CreatedAt})
	return e, err
}

// SaveExpense implements catalogstore.ExpenseStore.
func (db *DB) SaveExpense(ctx context.Context, e catalogstore.Expense) (catalogstore.Expense, bool, error) {
	if db.isClosed() {
		return catalogstore.Expense{}, false, waflow.ErrClosed
	}
	if err := e.Validate(); err != nil {
		return catalogstore.Expense{}, false, err
	}
	e.CreatedAt = db.createdAt(e.CreatedAt)
	var stored catalogstore.Expense
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
		return catalogstore.Expense{}, false, wrap(err, "SaveExpense")
	}
	return stored, created, nil
}

// ExpensesByUser implements catalogstore.ExpenseStore.
func (db *DB) ExpensesByUser(ctx context.Context, waID string) ([]catalogstore.Expense, error) {
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

// ---- survey responses

const surveyCols = `message_id, token_id, wa_id, rating, comments, follow_up, contact_method, contact_value,
	contact_time, created_at`

func scanSurvey(r rowScanner) (catalogstore.SurveyResponse, error) {
	var s catalogstore.SurveyResponse
	err := r.Scan(&s.MessageID, &s.TokenID, &s.WAID, &s.Rating, &s.Comments, &s.FollowUp, &s.ContactMethod,
		&s.ContactValue, &s.ContactTime, timeCol{&s.CreatedAt})
	return s, err
}

// SaveSurveyResponse implements catalogstore.SurveyStore.
func (db *DB) SaveSurveyResponse(ctx context.Context, r catalogstore.SurveyResponse) (bool, error) {
	if db.isClosed() {
		return false, waflow.ErrClosed
	}
	if err := r.Validate(); err != nil {
		return false, err
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

// SurveyResponses implements catalogstore.SurveyStore.
func (db *DB) SurveyResponses(ctx context.Context, from, to time.Time) ([]catalogstore.SurveyResponse, error) {
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

// Preferences implements catalogstore.PreferencesStore.
func (db *DB) Preferences(ctx context.Context, waID string) (catalogstore.CalendarPreferences, error) {
	if db.isClosed() {
		return catalogstore.CalendarPreferences{}, waflow.ErrClosed
	}
	var p catalogstore.CalendarPreferences
	err := db.r.QueryRowContext(ctx, `SELECT wa_id, notifications, lead_minutes, time_zone, digest, updated_at
		FROM calendar_preferences WHERE wa_id = ?`, waID).
		Scan(&p.WAID, jsonCol{&p.Notifications}, &p.LeadMinutes, &p.TimeZone, &p.Digest, timeCol{&p.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return catalogstore.CalendarPreferences{}, wrap(waflow.ErrNotFound, "Preferences")
	}
	return p, wrap(err, "Preferences")
}

// SavePreferences implements catalogstore.PreferencesStore with one upsert.
func (db *DB) SavePreferences(ctx context.Context, p catalogstore.CalendarPreferences) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if err := p.Validate(); err != nil {
		return err
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
	time_zone, title, notes, created_at, user_id`

func scanSchedule(r rowScanner) (catalogstore.Schedule, error) {
	var s catalogstore.Schedule
	err := r.Scan(&s.ID, &s.MessageID, &s.TokenID, &s.WAID, &s.StartDate, &s.EndDate, jsonCol{&s.Weekdays},
		&s.TimeOfDay, &s.DurationMinutes, &s.TimeZone, &s.Title, &s.Notes, timeCol{&s.CreatedAt}, &s.UserID)
	return s, err
}

// SaveSchedule implements catalogstore.ScheduleStore.
func (db *DB) SaveSchedule(ctx context.Context, s catalogstore.Schedule, occurrences []catalogstore.Occurrence) (catalogstore.Schedule, bool, error) {
	if db.isClosed() {
		return catalogstore.Schedule{}, false, waflow.ErrClosed
	}
	occ, err := catalogstore.StoredOccurrences(s, occurrences)
	if err != nil {
		return catalogstore.Schedule{}, false, err
	}
	s.CreatedAt = db.createdAt(s.CreatedAt)
	var stored catalogstore.Schedule
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
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			s.ID, s.MessageID, s.TokenID, s.WAID, s.StartDate, s.EndDate, jsonList(s.Weekdays), s.TimeOfDay,
			s.DurationMinutes, s.TimeZone, s.Title, s.Notes, micros(s.CreatedAt), s.UserID)
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
		return catalogstore.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	return stored, created, nil
}

// Occurrences implements catalogstore.ScheduleStore.
func (db *DB) Occurrences(ctx context.Context, scheduleID string) ([]catalogstore.Occurrence, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	// Every schedule has an occurrence, so no rows means no schedule.
	rows, err := db.r.QueryContext(ctx, `SELECT schedule_id, start_at, end_at FROM schedule_occurrences
		WHERE schedule_id = ? ORDER BY start_at`, scheduleID)
	if err != nil {
		return nil, wrap(err, "Occurrences")
	}
	out, err := collect(rows, func(r rowScanner) (catalogstore.Occurrence, error) {
		var o catalogstore.Occurrence
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

// SchedulesByUser implements catalogstore.ScheduleStore.
func (db *DB) SchedulesByUser(ctx context.Context, waID string) ([]catalogstore.Schedule, error) {
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

func scanBudget(r rowScanner) (catalogstore.Budget, error) {
	var b catalogstore.Budget
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
func budgetsWhere(ctx context.Context, q querier, where string, arg any) ([]catalogstore.Budget, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+budgetCols+" FROM budgets WHERE "+where+" ORDER BY created_at, rowid", arg)
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, scanBudget)
	if err != nil || len(out) == 0 {
		return out, err
	}
	index := make(map[string]*catalogstore.Budget, len(out))
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

// SaveBudget implements catalogstore.BudgetStore.
func (db *DB) SaveBudget(ctx context.Context, b catalogstore.Budget) (catalogstore.Budget, bool, error) {
	if db.isClosed() {
		return catalogstore.Budget{}, false, waflow.ErrClosed
	}
	if err := b.Validate(); err != nil {
		return catalogstore.Budget{}, false, err
	}
	b.CreatedAt = db.createdAt(b.CreatedAt)
	b.Limits = maps.Clone(b.Limits)
	var stored catalogstore.Budget
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
		return catalogstore.Budget{}, false, wrap(err, "SaveBudget")
	}
	return stored, created, nil
}

// BudgetsByUser implements catalogstore.BudgetStore.
func (db *DB) BudgetsByUser(ctx context.Context, waID string) ([]catalogstore.Budget, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	out, err := budgetsWhere(ctx, db.r, "wa_id = ?", waID)
	return out, wrap(err, "BudgetsByUser")
}
