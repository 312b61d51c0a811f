package catalogstore

import (
	"context"
	"time"
)

// Session is one occurrence of a schedule with what a reminder or a digest
// says of it: whose it is, its title and the schedule's time zone.
type Session struct {
	Occurrence
	WAID     string
	UserID   string // the schedule's BSUID; a user without WAID is reminded at it
	Title    string
	TimeZone string
}

// AssistantStore is what the catalog's assistant (package reminders) reads
// and keeps to send what the flows promise: reminders before bookings and
// sessions, budget alerts and the weekly digest.
type AssistantStore interface {
	// CancelBooking marks booking ref cancelled at at and returns it: it is
	// left out of BookingsStarting from then on, so it gets no reminder. A
	// booking already cancelled keeps its first CancelledAt. It returns
	// ErrNotFound when there is no such booking. Its seat is free again:
	// BookingCounts and Book leave cancelled bookings out.
	CancelBooking(ctx context.Context, ref string, at time.Time) (Booking, error)

	// BookingsStarting returns the bookings not cancelled whose Start is in
	// [from, to), in Start order.
	BookingsStarting(ctx context.Context, from, to time.Time) ([]Booking, error)

	// SessionsStarting returns the schedule occurrences whose Start is in
	// [from, to), in Start order, with their schedule's user, title and
	// time zone.
	SessionsStarting(ctx context.Context, from, to time.Time) ([]Session, error)

	// DigestSubscribers returns the preferences of every user whose Digest
	// is on, by WAID.
	DigestSubscribers(ctx context.Context) ([]CalendarPreferences, error)

	// NoteInbound records that waID sent a message at at, keeping the
	// latest time it was told. It returns ErrInvalid for an empty waID or
	// a zero at.
	NoteInbound(ctx context.Context, waID string, at time.Time) error

	// LastInbound returns the latest time NoteInbound recorded for waID,
	// or the zero time when none was.
	LastInbound(ctx context.Context, waID string) (time.Time, error)
}
