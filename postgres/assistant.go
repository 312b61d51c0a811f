package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
)

// The catalog assistant's store (catalogstore.AssistantStore), over
// migration/008_reminders.sql.

// CancelBooking implements catalogstore.AssistantStore: one UPDATE that
// keeps the first cancellation time, then the row.
func (db *DB) CancelBooking(ctx context.Context, ref string, at time.Time) (catalogstore.Booking, error) {
	if db.closed.Load() {
		return catalogstore.Booking{}, waflow.ErrClosed
	}
	b, err := scanBooking(db.pool.QueryRow(ctx, `UPDATE bookings SET cancelled_at = coalesce(cancelled_at, $2)
		WHERE ref = $1 RETURNING `+bookingSelect, ref, db.createdAt(at)))
	if errors.Is(err, pgx.ErrNoRows) {
		return catalogstore.Booking{}, wrap(waflow.ErrNotFound, "CancelBooking")
	}
	if err != nil {
		return catalogstore.Booking{}, wrap(err, "CancelBooking")
	}
	return b, nil
}

// BookingsStarting implements catalogstore.AssistantStore.
func (db *DB) BookingsStarting(ctx context.Context, from, to time.Time) ([]catalogstore.Booking, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, "SELECT "+bookingSelect+` FROM bookings
		WHERE start_at >= $1 AND start_at < $2 AND cancelled_at IS NULL ORDER BY start_at, seat`, from, to)
	if err != nil {
		return nil, wrap(err, "BookingsStarting")
	}
	out, err := collect(rows, scanBooking)
	return out, wrap(err, "BookingsStarting")
}

// SessionsStarting implements catalogstore.AssistantStore.
func (db *DB) SessionsStarting(ctx context.Context, from, to time.Time) ([]catalogstore.Session, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, `SELECT o.schedule_id, o.start_at, o.end_at, s.wa_id, s.user_id, s.title, s.time_zone
		FROM schedule_occurrences AS o JOIN schedules AS s ON s.id = o.schedule_id
		WHERE o.start_at >= $1 AND o.start_at < $2 ORDER BY o.start_at, o.schedule_id`, from, to)
	if err != nil {
		return nil, wrap(err, "SessionsStarting")
	}
	out, err := collect(rows, func(r pgx.Row) (catalogstore.Session, error) {
		var s catalogstore.Session
		err := r.Scan(&s.ScheduleID, timeCol{&s.Start}, timeCol{&s.End}, &s.WAID, &s.UserID, &s.Title, &s.TimeZone)
		return s, err
	})
	return out, wrap(err, "SessionsStarting")
}

// DigestSubscribers implements catalogstore.AssistantStore.
func (db *DB) DigestSubscribers(ctx context.Context) ([]catalogstore.CalendarPreferences, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, `SELECT wa_id, notifications, lead_minutes, time_zone, digest, updated_at
		FROM calendar_preferences WHERE digest ORDER BY wa_id`)
	if err != nil {
		return nil, wrap(err, "DigestSubscribers")
	}
	out, err := collect(rows, func(r pgx.Row) (catalogstore.CalendarPreferences, error) {
		var p catalogstore.CalendarPreferences
		err := r.Scan(&p.WAID, &p.Notifications, &p.LeadMinutes, &p.TimeZone, &p.Digest, timeCol{&p.UpdatedAt})
		return p, err
	})
	return out, wrap(err, "DigestSubscribers")
}

// NoteInbound implements catalogstore.AssistantStore.
func (db *DB) NoteInbound(ctx context.Context, waID string, at time.Time) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if waID == "" || at.IsZero() {
		return waflow.Invalidf("NoteInbound needs a WhatsApp id and a time")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO contacts (wa_id, last_inbound_at) VALUES ($1, $2)
		ON CONFLICT (wa_id) DO UPDATE SET last_inbound_at = greatest(contacts.last_inbound_at, excluded.last_inbound_at)`,
		waID, catalogstore.StoredTime(at))
	return wrap(err, "NoteInbound")
}

// LastInbound implements catalogstore.AssistantStore.
func (db *DB) LastInbound(ctx context.Context, waID string) (time.Time, error) {
	if db.closed.Load() {
		return time.Time{}, waflow.ErrClosed
	}
	var at time.Time
	err := db.pool.QueryRow(ctx, "SELECT last_inbound_at FROM contacts WHERE wa_id = $1", waID).Scan(timeCol{&at})
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	return at, wrap(err, "LastInbound")
}
