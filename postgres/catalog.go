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
	"github.com/waflow/waflow/catalog/catalogstore"
)

// The catalog flows' stores (catalogstore.Store). Every once-only write is
// an INSERT ... ON CONFLICT DO NOTHING against a unique index: PostgreSQL
// makes a concurrent insert of the same key wait for the first one's commit
// and then skip, whichever process it comes from, so no in-process lock is
// involved. Only after an insert skipped does a read say why (a replay, a
// taken id, a full slot).

// createdAt is t, or the store's clock when t is zero, as stored.
func (db *DB) createdAt(t time.Time) time.Time {
	if t.IsZero() {
		t = db.now()
	}
	return catalogstore.StoredTime(t)
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

// ---- bookings

const bookingCols = `ref, token_id, wa_id, start_at, seat, name, reason, reminder, created_at, user_id`

// bookingSelect is what scanBooking reads: the inserted columns and the
// cancellation (migration/*_reminders.sql).
const bookingSelect = bookingCols + `, cancelled_at`

func scanBooking(r pgx.Row) (catalogstore.Booking, error) {
	var b catalogstore.Booking
	err := r.Scan(&b.Ref, &b.TokenID, &b.WAID, timeCol{&b.Start}, &b.Seat, &b.Name, &b.Reason, &b.Reminder,
		timeCol{&b.CreatedAt}, &b.UserID, timeCol{&b.CancelledAt})
	return b, err
}

// BookingCounts implements catalogstore.BookingStore.
func (db *DB) BookingCounts(ctx context.Context, from, to time.Time) (map[time.Time]int, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, `SELECT start_at, count(*) FROM bookings
		WHERE start_at >= $1 AND start_at < $2 AND cancelled_at IS NULL GROUP BY start_at`, from, to)
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
		counts[catalogstore.StoredTime(start)] = n
	}
	return counts, wrap(rows.Err(), "BookingCounts")
}

// Book implements catalogstore.BookingStore. One statement picks the lowest seat
// nobody holds and inserts it; UNIQUE (start_at, seat) makes a concurrent
// Book that picked the same seat, in any process, wait for the winner and
// skip. A loser then tries the next free seat. Every lost race means a seat
// was taken for good, so the loop ends after at most capacity + 1 rounds.
func (db *DB) Book(ctx context.Context, b catalogstore.Booking, capacity int) (catalogstore.Booking, bool, error) {
	if err := b.Validate(); err != nil {
		return catalogstore.Booking{}, false, err
	}
	if err := catalogstore.ValidateCapacity(capacity); err != nil {
		return catalogstore.Booking{}, false, err
	}
	if db.closed.Load() {
		return catalogstore.Booking{}, false, waflow.ErrClosed
	}
	b.Start, b.CreatedAt = catalogstore.StoredTime(b.Start), db.createdAt(b.CreatedAt)
	for range capacity + 1 {
		err := db.pool.QueryRow(ctx, `INSERT INTO bookings (`+bookingCols+`)
			SELECT $1, $2, $3, $4, s.seat, $5, $6, $7, $8, $10 FROM generate_series(1, $9::integer) AS s(seat)
			WHERE NOT EXISTS (SELECT 1 FROM bookings t WHERE t.start_at = $4 AND t.seat = s.seat AND t.cancelled_at IS NULL)
			ORDER BY s.seat LIMIT 1
			ON CONFLICT DO NOTHING RETURNING seat`,
			b.Ref, b.TokenID, b.WAID, b.Start, b.Name, b.Reason, b.Reminder, b.CreatedAt, capacity, b.UserID).Scan(&b.Seat)
		if err == nil {
			return b, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return catalogstore.Booking{}, false, wrap(err, "Book")
		}
		// Nothing inserted: the token has its booking, the ref is taken,
		// the slot is full, or another Book took the seat just chosen.
		existing, err := scanBooking(db.pool.QueryRow(ctx, "SELECT "+bookingSelect+" FROM bookings WHERE token_id = $1", b.TokenID))
		if err == nil {
			return existing, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return catalogstore.Booking{}, false, wrap(err, "Book")
		}
		taken, err := exists(ctx, db.pool, "SELECT 1 FROM bookings WHERE ref = $1", b.Ref)
		if err != nil {
			return catalogstore.Booking{}, false, wrap(err, "Book")
		}
		if taken {
			return catalogstore.Booking{}, false, wrap(fmt.Errorf("%w: booking ref %s is taken", waflow.ErrConflict, b.Ref), "Book")
		}
		var held int
		if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM bookings WHERE start_at = $1 AND seat <= $2 AND cancelled_at IS NULL",
			b.Start, capacity).Scan(&held); err != nil {
			return catalogstore.Booking{}, false, wrap(err, "Book")
		}
		if held >= capacity {
			return catalogstore.Booking{}, false, wrap(fmt.Errorf("%w: %d of %d seats taken", catalogstore.ErrSlotFull, held, capacity), "Book")
		}
	}
	return catalogstore.Booking{}, false, wrap(errors.New("no seat after capacity + 1 attempts; the bookings table is changing under the store"), "Book")
}

// BookingByRef implements catalogstore.BookingStore.
func (db *DB) BookingByRef(ctx context.Context, ref string) (catalogstore.Booking, error) {
	if db.closed.Load() {
		return catalogstore.Booking{}, waflow.ErrClosed
	}
	b, err := scanBooking(db.pool.QueryRow(ctx, "SELECT "+bookingSelect+" FROM bookings WHERE ref = $1", ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return catalogstore.Booking{}, wrap(waflow.ErrNotFound, "BookingByRef")
	}
	return b, wrap(err, "BookingByRef")
}

// ---- expenses

const expenseCols = `id, token_id, wa_id, amount_cents, currency, category, description, created_at`

func scanExpense(r pgx.Row) (catalogstore.Expense, error) {
	var e catalogstore.Expense
	err := r.Scan(&e.ID, &e.TokenID, &e.WAID, &e.AmountCents, &e.Currency, &e.Category, &e.Description,
		timeCol{&e.CreatedAt})
	return e, err
}

// SaveExpense implements catalogstore.ExpenseStore.
func (db *DB) SaveExpense(ctx context.Context, e catalogstore.Expense) (catalogstore.Expense, bool, error) {
	if err := e.Validate(); err != nil {
		return catalogstore.Expense{}, false, err
	}
	if db.closed.Load() {
		return catalogstore.Expense{}, false, waflow.ErrClosed
	}
	e.CreatedAt = db.createdAt(e.CreatedAt)
	tag, err := db.pool.Exec(ctx, "INSERT INTO expenses ("+expenseCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`,
		e.ID, e.TokenID, e.WAID, e.AmountCents, e.Currency, e.Category, e.Description, e.CreatedAt)
	if err != nil {
		return catalogstore.Expense{}, false, wrap(err, "SaveExpense")
	}
	if tag.RowsAffected() == 1 {
		return e, true, nil
	}
	existing, err := scanExpense(db.pool.QueryRow(ctx, "SELECT "+expenseCols+" FROM expenses WHERE token_id = $1", e.TokenID))
	if errors.Is(err, pgx.ErrNoRows) {
		// The insert skipped and the token has no expense: the id is taken.
		return catalogstore.Expense{}, false, wrap(fmt.Errorf("%w: expense id %s is taken", waflow.ErrConflict, e.ID), "SaveExpense")
	}
	if err != nil {
		return catalogstore.Expense{}, false, wrap(err, "SaveExpense")
	}
	return existing, false, nil
}

// ExpensesByUser implements catalogstore.ExpenseStore.
func (db *DB) ExpensesByUser(ctx context.Context, waID string) ([]catalogstore.Expense, error) {
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

func scanSurvey(r pgx.Row) (catalogstore.SurveyResponse, error) {
	var s catalogstore.SurveyResponse
	err := r.Scan(&s.MessageID, &s.TokenID, &s.WAID, &s.Rating, &s.Comments, &s.FollowUp, &s.ContactMethod,
		&s.ContactValue, &s.ContactTime, timeCol{&s.CreatedAt})
	return s, err
}

// SaveSurveyResponse implements catalogstore.SurveyStore.
func (db *DB) SaveSurveyResponse(ctx context.Context, r catalogstore.SurveyResponse) (bool, error) {
	if err := r.Validate(); err != nil {
		return false, err
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

// SurveyResponses implements catalogstore.SurveyStore.
func (db *DB) SurveyResponses(ctx context.Context, from, to time.Time) ([]catalogstore.SurveyResponse, error) {
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

// Preferences implements catalogstore.PreferencesStore.
func (db *DB) Preferences(ctx context.Context, waID string) (catalogstore.CalendarPreferences, error) {
	if db.closed.Load() {
		return catalogstore.CalendarPreferences{}, waflow.ErrClosed
	}
	var p catalogstore.CalendarPreferences
	err := db.pool.QueryRow(ctx, `SELECT wa_id, notifications, lead_minutes, time_zone, digest, updated_at
		FROM calendar_preferences WHERE wa_id = $1`, waID).
		Scan(&p.WAID, &p.Notifications, &p.LeadMinutes, &p.TimeZone, &p.Digest, timeCol{&p.UpdatedAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return catalogstore.CalendarPreferences{}, wrap(waflow.ErrNotFound, "Preferences")
	}
	return p, wrap(err, "Preferences")
}

// SavePreferences implements catalogstore.PreferencesStore with one upsert, which
// PostgreSQL makes atomic against a concurrent insert of the same user.
func (db *DB) SavePreferences(ctx context.Context, p catalogstore.CalendarPreferences) error {
	if err := p.Validate(); err != nil {
		return err
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
	time_zone, title, notes, created_at, user_id`

func scanSchedule(r pgx.Row) (catalogstore.Schedule, error) {
	var s catalogstore.Schedule
	err := r.Scan(&s.ID, &s.MessageID, &s.TokenID, &s.WAID, &s.StartDate, &s.EndDate, &s.Weekdays,
		&s.TimeOfDay, &s.DurationMinutes, &s.TimeZone, &s.Title, &s.Notes, timeCol{&s.CreatedAt}, &s.UserID)
	return s, err
}

// SaveSchedule implements catalogstore.ScheduleStore.
func (db *DB) SaveSchedule(ctx context.Context, s catalogstore.Schedule, occurrences []catalogstore.Occurrence) (catalogstore.Schedule, bool, error) {
	occ, err := catalogstore.StoredOccurrences(s, occurrences)
	if err != nil {
		return catalogstore.Schedule{}, false, err
	}
	s.CreatedAt = db.createdAt(s.CreatedAt)
	tx, err := db.begin(ctx)
	if err != nil {
		return catalogstore.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, "INSERT INTO schedules ("+scheduleCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`,
		s.ID, s.MessageID, s.TokenID, s.WAID, s.StartDate, s.EndDate, list(s.Weekdays), s.TimeOfDay,
		s.DurationMinutes, s.TimeZone, s.Title, s.Notes, s.CreatedAt, s.UserID)
	if err != nil {
		return catalogstore.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	if tag.RowsAffected() == 0 {
		// A statement after a skipped insert sees the row it collided with.
		existing, err := scanSchedule(tx.QueryRow(ctx, "SELECT "+scheduleCols+" FROM schedules WHERE message_id = $1", s.MessageID))
		if errors.Is(err, pgx.ErrNoRows) {
			return catalogstore.Schedule{}, false, wrap(fmt.Errorf("%w: schedule id %s is taken", waflow.ErrConflict, s.ID), "SaveSchedule")
		}
		if err != nil {
			return catalogstore.Schedule{}, false, wrap(err, "SaveSchedule")
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
		return catalogstore.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	if err := tx.Commit(ctx); err != nil {
		return catalogstore.Schedule{}, false, wrap(err, "SaveSchedule")
	}
	return s, true, nil
}

// Occurrences implements catalogstore.ScheduleStore.
func (db *DB) Occurrences(ctx context.Context, scheduleID string) ([]catalogstore.Occurrence, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	// Every schedule has an occurrence, so no rows means no schedule.
	rows, err := db.pool.Query(ctx, `SELECT schedule_id, start_at, end_at FROM schedule_occurrences
		WHERE schedule_id = $1 ORDER BY start_at`, scheduleID)
	if err != nil {
		return nil, wrap(err, "Occurrences")
	}
	out, err := collect(rows, func(r pgx.Row) (catalogstore.Occurrence, error) {
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
func budgetsWhere(ctx context.Context, q querier, where string, arg any) ([]catalogstore.Budget, error) {
	rows, err := q.Query(ctx, "SELECT "+budgetCols+`,
		coalesce((SELECT array_agg(category ORDER BY category) FROM budget_limits WHERE budget_id = budgets.id), '{}'),
		coalesce((SELECT array_agg(limit_cents ORDER BY category) FROM budget_limits WHERE budget_id = budgets.id), '{}')
		FROM budgets WHERE `+where+" ORDER BY created_at, seq", arg)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r pgx.Row) (catalogstore.Budget, error) {
		var b catalogstore.Budget
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

// SaveBudget implements catalogstore.BudgetStore: the budget and its limits in one
// transaction.
func (db *DB) SaveBudget(ctx context.Context, b catalogstore.Budget) (catalogstore.Budget, bool, error) {
	if err := b.Validate(); err != nil {
		return catalogstore.Budget{}, false, err
	}
	b.CreatedAt = db.createdAt(b.CreatedAt)
	b.Limits = maps.Clone(b.Limits)
	tx, err := db.begin(ctx)
	if err != nil {
		return catalogstore.Budget{}, false, wrap(err, "SaveBudget")
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, "INSERT INTO budgets ("+budgetCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT DO NOTHING`,
		b.ID, b.TokenID, b.WAID, b.Currency, b.Period, b.TotalCents, b.AlertThreshold, b.Alerts, b.CreatedAt)
	if err != nil {
		return catalogstore.Budget{}, false, wrap(err, "SaveBudget")
	}
	if tag.RowsAffected() == 0 {
		existing, err := budgetsWhere(ctx, tx, "token_id = $1", b.TokenID)
		if err != nil {
			return catalogstore.Budget{}, false, wrap(err, "SaveBudget")
		}
		if len(existing) == 0 {
			return catalogstore.Budget{}, false, wrap(fmt.Errorf("%w: budget id %s is taken", waflow.ErrConflict, b.ID), "SaveBudget")
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
		return catalogstore.Budget{}, false, wrap(err, "SaveBudget")
	}
	if err := tx.Commit(ctx); err != nil {
		return catalogstore.Budget{}, false, wrap(err, "SaveBudget")
	}
	return b, true, nil
}

// BudgetsByUser implements catalogstore.BudgetStore.
func (db *DB) BudgetsByUser(ctx context.Context, waID string) ([]catalogstore.Budget, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	out, err := budgetsWhere(ctx, db.pool, "wa_id = $1", waID)
	return out, wrap(err, "BudgetsByUser")
}
