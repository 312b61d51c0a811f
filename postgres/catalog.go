package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

// The catalog flows' stores (waflow.CatalogStore). Every once-only write is
// an INSERT ... ON CONFLICT DO NOTHING against a unique index: PostgreSQL
// makes a concurrent insert of the same key wait for the first one's commit
// and then skip, whichever process it comes from, so no in-process lock is
// involved. Only after an insert skipped does a read say why (a replay, a
// taken id, a full slot).

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

// list is ss as a text[] parameter: pgx sends a nil slice as NULL.
func list(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// exists reports whether query finds a row.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// collect scans every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
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

// ---- bookings

const bookingCols = `ref, token_id, wa_id, start_at, seat, name, reason, reminder, created_at`

func scanBooking(r pgx.Row) (waflow.Booking, error) {
	var b waflow.Booking
	err := r.Scan(&b.Ref, &b.TokenID, &b.WAID, timeCol{&b.Start}, &b.Seat, &b.Name, &b.Reason, &b.Reminder,
		timeCol{&b.CreatedAt})
	return b, err
}

// BookingCounts implements waflow.BookingStore.
func (db *DB) BookingCounts(ctx context.Context, from, to time.Time) (map[time.Time]int, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, `SELECT start_at, count(*) FROM bookings
		WHERE start_at >= $1 AND start_at < $2 GROUP BY start_at`, from, to)
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
		counts[storedTime(start)] = n
	}
	return counts, wrap(rows.Err(), "BookingCounts")
}

// Book implements waflow.BookingStore. One statement picks the lowest seat
// nobody holds and inserts it; UNIQUE (start_at, seat) makes a concurrent
// Book that picked the same seat, in any process, wait for the winner and
// skip. A loser then tries the next free seat. Every lost race means a seat
// was taken for good, so the loop ends after at most capacity + 1 rounds.
func (db *DB) Book(ctx context.Context, b waflow.Booking, capacity int) (waflow.Booking, bool, error) {
	if b.Ref == "" || b.TokenID == "" || b.Start.IsZero() || capacity < 1 {
		return waflow.Booking{}, false, waflow.Invalidf("Book needs a Ref, a TokenID, a Start and a capacity of at least 1 (got %d)", capacity)
	}
	if db.closed.Load() {
		return waflow.Booking{}, false, waflow.ErrClosed
	}
	b.Start, b.CreatedAt = storedTime(b.Start), db.createdAt(b.CreatedAt)
	for range capacity + 1 {
		err := db.pool.QueryRow(ctx, `INSERT INTO bookings (`+bookingCols+`)
			SELECT $1, $2, $3, $4, s.seat, $5, $6, $7, $8 FROM generate_series(1, $9::integer) AS s(seat)
			WHERE NOT EXISTS (SELECT 1 FROM bookings t WHERE t.start_at = $4 AND t.seat = s.seat)
			ORDER BY s.seat LIMIT 1
			ON CONFLICT DO NOTHING RETURNING seat`,
			b.Ref, b.TokenID, b.WAID, b.Start, b.Name, b.Reason, b.Reminder, b.CreatedAt, capacity).Scan(&b.Seat)
		if err == nil {
			return b, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return waflow.Booking{}, false, wrap(err, "Book")
		}
		// Nothing inserted: the token has its booking, the ref is taken,
		// the slot is full, or another Book took the seat just chosen.
		existing, err := scanBooking(db.pool.QueryRow(ctx, "SELECT "+bookingCols+" FROM bookings WHERE token_id = $1", b.TokenID))
		if err == nil {
			return existing, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return waflow.Booking{}, false, wrap(err, "Book")
		}
		taken, err := exists(ctx, db.pool, "SELECT 1 FROM bookings WHERE ref = $1", b.Ref)
		if err != nil {
			return waflow.Booking{}, false, wrap(err, "Book")
		}
		if taken {
			return waflow.Booking{}, false, wrap(fmt.Errorf("%w: booking ref %s is taken", waflow.ErrConflict, b.Ref), "Book")
		}
		var held int
		if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM bookings WHERE start_at = $1 AND seat <= $2",
			b.Start, capacity).Scan(&held); err != nil {
			return waflow.Booking{}, false, wrap(err, "Book")
		}
		if held >= capacity {
			return waflow.Booking{}, false, wrap(fmt.Errorf("%w: %d of %d seats taken", waflow.ErrSlotFull, held, capacity), "Book")
		}
	}
	return waflow.Booking{}, false, wrap(errors.New("no seat after capacity + 1 attempts; the bookings table is changing under the store"), "Book")
}

// BookingByRef implements waflow.BookingStore.
func (db *DB) BookingByRef(ctx context.Context, ref string) (waflow.Booking, error) {
	if db.closed.Load() {
		return waflow.Booking{}, waflow.ErrClosed
	}
	b, err := scanBooking(db.pool.QueryRow(ctx, "SELECT "+bookingCols+" FROM bookings WHERE ref = $1", ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.Booking{}, wrap(waflow.ErrNotFound, "BookingByRef")
	}
	return b, wrap(err, "BookingByRef")
}

// ---- expenses

const expenseCols = `id, token_id, wa_id, amount_cents, currency, category, description, created_at`

func scanExpense(r pgx.Row) (waflow.Expense, error) {
	var e waflow.Expense
	err := r.Scan(&e.ID, &e.TokenID, &e.WAID, &e.AmountCents, &e.Currency, &e.Category, &e.Description,
		timeCol{&e.CreatedAt})
	return e, err
}

// SaveExpense implements waflow.ExpenseStore.
func (db *DB) SaveExpense(ctx context.Context, e waflow.Expense) (waflow.Expense, bool, error) {
	if e.ID == "" || e.TokenID == "" || e.Currency == "" || e.AmountCents <= 0 {
		return waflow.Expense{}, false, waflow.Invalidf("SaveExpense needs an ID, a TokenID, a Currency and a positive AmountCents (got %d)", e.AmountCents)
	}
	if db.closed.Load() {
		return waflow.Expense{}, false, waflow.ErrClosed
	}
	e.CreatedAt = db.createdAt(e.CreatedAt)
	tag, err := db.pool.Exec(ctx, "INSERT INTO expenses ("+expenseCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`,
		e.ID, e.TokenID, e.WAID, e.AmountCents, e.Currency, e.Category, e.Description, e.CreatedAt)
	if err != nil {
		return waflow.Expense{}, false, wrap(err, "SaveExpense")
	}
	if tag.RowsAffected() == 1 {
		return e, true, nil
	}
	existing, err := scanExpense(db.pool.QueryRow(ctx, "SELECT "+expenseCols+" FROM expenses WHERE token_id = $1", e.TokenID))
	if errors.Is(err, pgx.ErrNoRows) {
		// The insert skipped and the token has no expense: the id is taken.
		return waflow.Expense{}, false, wrap(fmt.Errorf("%w: expense id %s is taken", waflow.ErrConflict, e.ID), "SaveExpense")
	}
	if err != nil {
		return waflow.Expense{}, false, wrap(err, "SaveExpense")
	}
	return existing, false, nil
}

// ExpensesByUser implements waflow.ExpenseStore.
func (db *DB) ExpensesByUser(ctx context.Context, waID string) ([]waflow.Expense, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, "SELECT "+expenseCols+" FROM expenses WHERE wa_id = $1 ORDER BY created_at, seq", waID)
	if err != nil {
		return nil, wrap(err, "ExpensesByUser")
	}
	out, err := collect(rows, scanExpense)
	return out, wrap(err, "ExpensesByUser")
}

// ---- survey responses

const surveyCols = `message_id, token_id, wa_id, rating, comments, follow_up, contact_method, contact_value,
	contact_time, created_at`

func scanSurvey(r pgx.Row) (waflow.SurveyResponse, error) {
	var s waflow.SurveyResponse
	err := r.Scan(&s.MessageID, &s.TokenID, &s.WAID, &s.Rating, &s.Comments, &s.FollowUp, &s.ContactMethod,
		&s.ContactValue, &s.ContactTime, timeCol{&s.CreatedAt})
	return s, err
}

// SaveSurveyResponse implements waflow.SurveyStore.
func (db *DB) SaveSurveyResponse(ctx context.Context, r waflow.SurveyResponse) (bool, error) {
	if r.MessageID == "" || r.Rating < 1 || r.Rating > 5 {
		return false, waflow.Invalidf("SaveSurveyResponse needs a MessageID and a Rating of 1 to 5 (got %d)", r.Rating)
	}
	if db.closed.Load() {
		return false, waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, "INSERT INTO survey_responses ("+surveyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (message_id) DO NOTHING`,
		r.MessageID, r.TokenID, r.WAID, r.Rating, r.Comments, r.FollowUp, r.ContactMethod, r.ContactValue,
		r.ContactTime, db.createdAt(r.CreatedAt))
	if err != nil {
		return false, wrap(err, "SaveSurveyResponse")
	}
	return tag.RowsAffected() == 1, nil
}

// SurveyResponses implements waflow.SurveyStore.
func (db *DB) SurveyResponses(ctx context.Context, from, to time.Time) ([]waflow.SurveyResponse, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, "SELECT "+surveyCols+` FROM survey_responses
		WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, seq`, from, to)
	if err != nil {
		return nil, wrap(err, "SurveyResponses")
	}
	out, err := collect(rows, scanSurvey)
	return out, wrap(err, "SurveyResponses")
}

// ---- calendar preferences

// Preferences implements waflow.PreferencesStore.
func (db *DB) Preferences(ctx context.Context, waID string) (waflow.CalendarPreferences, error) {
	if db.closed.Load() {
		return waflow.CalendarPreferences{}, waflow.ErrClosed
	}
	var p waflow.CalendarPreferences
	err := db.pool.QueryRow(ctx, `SELECT wa_id, notifications, lead_minutes, time_zone, digest, updated_at
		FROM calendar_preferences WHERE wa_id = $1`, waID).
		Scan(&p.WAID, &p.Notifications, &p.LeadMinutes, &p.TimeZone, &p.Digest, timeCol{&p.UpdatedAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.CalendarPreferences{}, wrap(waflow.ErrNotFound, "Preferences")
	}
	return p, wrap(err, "Preferences")
}

// SavePreferences implements waflow.PreferencesStore with one upsert, which
// PostgreSQL makes atomic against a concurrent insert of the same user.
func (db *DB) SavePreferences(ctx context.Context, p waflow.CalendarPreferences) error {
	if p.WAID == "" || p.TimeZone == "" {
		return waflow.Invalidf("SavePreferences needs a WAID and a TimeZone")
	}
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO calendar_preferences
		(wa_id, notifications, lead_minutes, time_zone, digest, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (wa_id) DO UPDATE SET notifications = excluded.notifications, lead_minutes = excluded.lead_minutes,
			time_zone = excluded.time_zone, digest = excluded.digest, updated_at = excluded.updated_at`,
		p.WAID, list(p.Notifications), p.LeadMinutes, p.TimeZone, p.Digest, db.createdAt(p.UpdatedAt))
	return wrap(err, "SavePreferences")
}

// ---- schedules

const scheduleCols = `id, message_id, token_id, wa_id, start_date, end_date, weekdays, time_of_day, duration_minutes,
	time_zone, title, notes, created_at`

func scanSchedule(r pgx.Row) (waflow.Schedule, error) {
	var s waflow.Schedule
	err := r.Scan(&s.ID, &s.MessageID, &s.TokenID, &s.WAID, &s.StartDate, &s.EndDate, &s.Weekdays,
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
	occ, err := checkSchedule(s, occurrences)
	if err != nil {
		return waflow.Schedule{}, false, err
	}
	s.CreatedAt = db.createdAt(s.CreatedAt)
	tx, err := db.begin(ctx)
	if err != nil {
		return waflow.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, "INSERT INTO schedules ("+scheduleCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
		s.ID, s.MessageID, s.TokenID, s.WAID, s.StartDate, s.EndDate, list(s.Weekdays), s.TimeOfDay,
		s.DurationMinutes, s.TimeZone, s.Title, s.Notes, s.CreatedAt)
	if err != nil {
		return waflow.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	if tag.RowsAffected() == 0 {
		// A statement after a skipped insert sees the row it collided with.
		existing, err := scanSchedule(tx.QueryRow(ctx, "SELECT "+scheduleCols+" FROM schedules WHERE message_id = $1", s.MessageID))
		if errors.Is(err, pgx.ErrNoRows) {
			return waflow.Schedule{}, false, wrap(fmt.Errorf("%w: schedule id %s is taken", waflow.ErrConflict, s.ID), "SaveSchedule")
		}
		if err != nil {
			return waflow.Schedule{}, false, wrap(err, "SaveSchedule")
		}
		return existing, false, nil
	}
	starts, ends := make([]time.Time, len(occ)), make([]time.Time, len(occ))
	for i, o := range occ {
		starts[i], ends[i] = o.Start, o.End
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schedule_occurrences (schedule_id, start_at, end_at)
		SELECT $1, o.start_at, o.end_at FROM unnest($2::timestamptz[], $3::timestamptz[]) AS o(start_at, end_at)`,
		s.ID, starts, ends); err != nil {
		return waflow.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	if err := tx.Commit(ctx); err != nil {
		return waflow.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	return s, true, nil
}

// Occurrences implements waflow.ScheduleStore.
func (db *DB) Occurrences(ctx context.Context, scheduleID string) ([]waflow.Occurrence, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	// Every schedule has an occurrence, so no rows means no schedule.
	rows, err := db.pool.Query(ctx, `SELECT schedule_id, start_at, end_at FROM schedule_occurrences
		WHERE schedule_id = $1 ORDER BY start_at`, scheduleID)
	if err != nil {
		return nil, wrap(err, "Occurrences")
	}
	out, err := collect(rows, func(r pgx.Row) (waflow.Occurrence, error) {
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
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, "SELECT "+scheduleCols+" FROM schedules WHERE wa_id = $1 ORDER BY created_at, seq", waID)
	if err != nil {
		return nil, wrap(err, "SchedulesByUser")
	}
	out, err := collect(rows, scanSchedule)
	return out, wrap(err, "SchedulesByUser")
}

// ---- budgets

const budgetCols = `id, token_id, wa_id, currency, period, total_cents, alert_threshold, alerts, created_at`

// budgetsWhere returns the budgets matching where, oldest first, with their
// limits, read in one statement so a budget never shows without them.
func budgetsWhere(ctx context.Context, q querier, where string, arg any) ([]waflow.Budget, error) {
	rows, err := q.Query(ctx, "SELECT "+budgetCols+`,
		coalesce((SELECT array_agg(category ORDER BY category) FROM budget_limits WHERE budget_id = budgets.id), '{}'),
		coalesce((SELECT array_agg(limit_cents ORDER BY category) FROM budget_limits WHERE budget_id = budgets.id), '{}')
		FROM budgets WHERE `+where+" ORDER BY created_at, seq", arg)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r pgx.Row) (waflow.Budget, error) {
		var b waflow.Budget
		var categories []string
		var limits []int64
		err := r.Scan(&b.ID, &b.TokenID, &b.WAID, &b.Currency, &b.Period, &b.TotalCents, &b.AlertThreshold, &b.Alerts,
			timeCol{&b.CreatedAt}, &categories, &limits)
		if err != nil {
			return b, err
		}
		if len(categories) != len(limits) {
			return b, fmt.Errorf("budget %s: %d limit categories for %d limits", b.ID, len(categories), len(limits))
		}
		b.Limits = make(map[string]int64, len(categories))
		for i, c := range categories {
			b.Limits[c] = limits[i]
		}
		return b, nil
	})
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

// SaveBudget implements waflow.BudgetStore: the budget and its limits in one
// transaction.
func (db *DB) SaveBudget(ctx context.Context, b waflow.Budget) (waflow.Budget, bool, error) {
	if err := checkBudget(b); err != nil {
		return waflow.Budget{}, false, err
	}
	b.CreatedAt = db.createdAt(b.CreatedAt)
	b.Limits = maps.Clone(b.Limits)
	tx, err := db.begin(ctx)
	if err != nil {
		return waflow.Budget{}, false, wrap(err, "SaveBudget")
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, "INSERT INTO budgets ("+budgetCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT DO NOTHING`,
		b.ID, b.TokenID, b.WAID, b.Currency, b.Period, b.TotalCents, b.AlertThreshold, b.Alerts, b.CreatedAt)
	if err != nil {
		return waflow.Budget{}, false, wrap(err, "SaveBudget")
	}
	if tag.RowsAffected() == 0 {
		existing, err := budgetsWhere(ctx, tx, "token_id = $1", b.TokenID)
		if err != nil {
			return waflow.Budget{}, false, wrap(err, "SaveBudget")
		}
		if len(existing) == 0 {
			return waflow.Budget{}, false, wrap(fmt.Errorf("%w: budget id %s is taken", waflow.ErrConflict, b.ID), "SaveBudget")
		}
		return existing[0], false, nil
	}
	categories := slices.Sorted(maps.Keys(b.Limits))
	limits := make([]int64, len(categories))
	for i, c := range categories {
		limits[i] = b.Limits[c]
	}
	if _, err := tx.Exec(ctx, `INSERT INTO budget_limits (budget_id, category, limit_cents)
		SELECT $1, l.category, l.limit_cents FROM unnest($2::text[], $3::bigint[]) AS l(category, limit_cents)`,
		b.ID, categories, limits); err != nil {
		return waflow.Budget{}, false, wrap(err, "SaveBudget")
	}
	if err := tx.Commit(ctx); err != nil {
		return waflow.Budget{}, false, wrap(err, "SaveBudget")
	}
	return b, true, nil
}

// BudgetsByUser implements waflow.BudgetStore.
func (db *DB) BudgetsByUser(ctx context.Context, waID string) ([]waflow.Budget, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	out, err := budgetsWhere(ctx, db.pool, "wa_id = $1", waID)
	return out, wrap(err, "BudgetsByUser")
}
