package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
)

// The catalog assistant's store (catalogstore.AssistantStore), over
// migration/007_reminders.sql.

// CancelBooking implements catalogstore.AssistantStore.
func (db *DB) CancelBooking(ctx context.Context, ref string, at time.Time) (catalogstore.Booking, error) {
	if db.isClosed() {
		return catalogstore.Booking{}, waflow.ErrClosed
	}
	var b catalogstore.Booking
	err := db.inTx(ctx, func(tx *opTx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE bookings SET cancelled_at = ? WHERE ref = ? AND cancelled_at IS NULL",
			micros(db.createdAt(at)), ref); err != nil {
			return err
		}
		var err error
		b, err = scanBooking(tx.QueryRowContext(ctx, "SELECT "+bookingSelect+" FROM bookings WHERE ref = ?", ref))
		if errors.Is(err, sql.ErrNoRows) {
			return waflow.ErrNotFound
		}
		return err
	})
	if err != nil {
		return catalogstore.Booking{}, wrap(err, "CancelBooking")
	}
	return b, nil
}

// BookingsStarting implements catalogstore.AssistantStore.
func (db *DB) BookingsStarting(ctx context.Context, from, to time.Time) ([]catalogstore.Booking, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+bookingSelect+` FROM bookings
		WHERE start_at >= ? AND start_at < ? AND cancelled_at IS NULL ORDER BY start_at, seat`,
		from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, wrap(err, "BookingsStarting")
	}
	out, err := collect(rows, scanBooking)
	return out, wrap(err, "BookingsStarting")
}

// SessionsStarting implements catalogstore.AssistantStore.
func (db *DB) SessionsStarting(ctx context.Context, from, to time.Time) ([]catalogstore.Session, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, `SELECT o.schedule_id, o.start_at, o.end_at, s.wa_id, s.user_id, s.title, s.time_zone
		FROM schedule_occurrences AS o JOIN schedules AS s ON s.id = o.schedule_id
		WHERE o.start_at >= ? AND o.start_at < ? ORDER BY o.start_at, o.schedule_id`,
		from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, wrap(err, "SessionsStarting")
	}
	out, err := collect(rows, func(r rowScanner) (catalogstore.Session, error) {
		var s catalogstore.Session
		err := r.Scan(&s.ScheduleID, timeCol{&s.Start}, timeCol{&s.End}, &s.WAID, &s.UserID, &s.Title, &s.TimeZone)
		return s, err
	})
	return out, wrap(err, "SessionsStarting")
}

// DigestSubscribers implements catalogstore.AssistantStore.
func (db *DB) DigestSubscribers(ctx context.Context) ([]catalogstore.CalendarPreferences, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, `SELECT wa_id, notifications, lead_minutes, time_zone, digest, updated_at
		FROM calendar_preferences WHERE digest = 1 ORDER BY wa_id`)
	if err != nil {
		return nil, wrap(err, "DigestSubscribers")
	}
	out, err := collect(rows, func(r rowScanner) (catalogstore.CalendarPreferences, error) {
		var p catalogstore.CalendarPreferences
		err := r.Scan(&p.WAID, jsonCol{&p.Notifications}, &p.LeadMinutes, &p.TimeZone, &p.Digest, timeCol{&p.UpdatedAt})
		return p, err
	})
	return out, wrap(err, "DigestSubscribers")
}

// NoteInbound implements catalogstore.AssistantStore.
func (db *DB) NoteInbound(ctx context.Context, waID string, at time.Time) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if waID == "" || at.IsZero() {
		return waflow.Invalidf("NoteInbound needs a WhatsApp id and a time")
	}
	_, err := db.exec(ctx, `INSERT INTO contacts (wa_id, last_inbound_at) VALUES (?, ?)
		ON CONFLICT (wa_id) DO UPDATE SET last_inbound_at = max(last_inbound_at, excluded.last_inbound_at)`,
		waID, micros(catalogstore.StoredTime(at)))
	return wrap(err, "NoteInbound")
}

// LastInbound implements catalogstore.AssistantStore.
func (db *DB) LastInbound(ctx context.Context, waID string) (time.Time, error) {
	if db.isClosed() {
		return time.Time{}, waflow.ErrClosed
	}
	var at time.Time
	err := db.r.QueryRowContext(ctx, "SELECT last_inbound_at FROM contacts WHERE wa_id = ?", waID).Scan(timeCol{&at})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return at, wrap(err, "LastInbound")
}
