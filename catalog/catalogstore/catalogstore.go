// Package catalogstore is the storage contract of the catalog's flows
// (package catalog): what each flow keeps, and the store interface each one
// needs. It is not part of the core contract
// ([github.com/waflow/waflow.Store]): a flow that keeps nothing of its own
// needs none of it.
//
// The sqlite and postgres drivers implement [Store] next to the core tables,
// so that one migration sequence per database and SQLite's single writer
// serve both; package catalogtest is the conformance suite they run.
//
// Errors are the root's sentinels (waflow.ErrNotFound, ErrConflict,
// ErrInvalid, ErrClosed) and [ErrSlotFull].
package catalogstore

import (
	"context"
	"errors"
	"time"
)

// ErrSlotFull means every seat of an appointment slot is booked.
var ErrSlotFull = errors.New("waflow: appointment slot is fully booked")

// Booking is an appointment made with the appointment_booking flow.
type Booking struct {
	Ref     string // shown to the user, e.g. "BK-7F3K2Q"; unique
	TokenID string // the flow token of the session: one booking per token
	WAID    string // the user's WhatsApp id
	// UserID is the user's business-scoped user id (BSUID, protocol.md
	// §4.2) the session's token was bound to; a user known by it alone has
	// no WAID and is reminded at it.
	UserID    string
	Start     time.Time // the slot's start
	Seat      int       // 1..capacity, the seat of the slot this booking holds
	Name      string
	Reason    string
	Reminder  bool // the user wants a reminder before the appointment
	CreatedAt time.Time
	// CancelledAt is when the booking was cancelled (AssistantStore); zero
	// while it stands.
	CancelledAt time.Time
}

// BookingStore keeps appointments.
type BookingStore interface {
	// BookingCounts returns how many bookings each slot starting in
	// [from, to) holds, keyed by the slot's start in UTC (location UTC, no
	// monotonic reading, so time.Date(…, time.UTC) keys find them). Slots
	// without bookings are absent.
	BookingCounts(ctx context.Context, from, to time.Time) (map[time.Time]int, error)

	// Book stores b in the first free seat of slot b.Start, 1 to capacity,
	// atomically with every other Book on every process sharing the
	// database: a seat is never given twice. It returns the stored booking
	// and true. When a booking for b.TokenID exists it stores nothing and
	// returns that booking and false (a replayed submission gets the same
	// answer), whatever its other fields and even when the slot is full.
	// b.Seat is ignored: the store chooses the seat. It returns ErrSlotFull
	// when all capacity seats are taken, ErrConflict when b.Ref is taken,
	// and ErrInvalid when Ref, TokenID or Start is empty or capacity < 1.
	Book(ctx context.Context, b Booking, capacity int) (Booking, bool, error)

	// BookingByRef returns the booking with ref, or ErrNotFound.
	BookingByRef(ctx context.Context, ref string) (Booking, error)
}

// Expense is an expense logged with the expense_entry flow.
type Expense struct {
	ID          string // shown to the user, e.g. "EX-7F3K2Q"; unique
	TokenID     string // one expense per flow token
	WAID        string
	AmountCents int64 // in minor units of Currency, > 0
	Currency    string
	Category    string // the category id
	Description string
	CreatedAt   time.Time
}

// ExpenseStore keeps expenses.
type ExpenseStore interface {
	// SaveExpense stores e and returns it and true. When an expense for
	// e.TokenID exists it stores nothing and returns that one and false.
	// It returns ErrConflict when e.ID is taken and ErrInvalid when ID,
	// TokenID or Currency is empty or AmountCents <= 0.
	SaveExpense(ctx context.Context, e Expense) (Expense, bool, error)

	// ExpensesByUser returns the expenses of waID, oldest first.
	ExpensesByUser(ctx context.Context, waID string) ([]Expense, error)
}

// SurveyResponse is one answer to the feedback_survey flow, which arrives by
// the completion webhook only.
type SurveyResponse struct {
	MessageID     string // the completion's wamid; unique
	TokenID       string // empty when the completion carried no token
	WAID          string
	Rating        int // 1 to 5
	Comments      string
	FollowUp      bool
	ContactMethod string // empty unless FollowUp
	ContactValue  string
	ContactTime   string
	CreatedAt     time.Time
}

// SurveyStore keeps survey responses.
type SurveyStore interface {
	// SaveSurveyResponse stores r and returns true; when a response with
	// r.MessageID exists it stores nothing and returns false. It returns
	// ErrInvalid when MessageID is empty or Rating is not 1 to 5.
	SaveSurveyResponse(ctx context.Context, r SurveyResponse) (bool, error)

	// SurveyResponses returns the responses whose CreatedAt is in
	// [from, to), oldest first.
	SurveyResponses(ctx context.Context, from, to time.Time) ([]SurveyResponse, error)
}

// CalendarPreferences are one user's settings from the
// calendar_preferences flow.
type CalendarPreferences struct {
	WAID          string   // the key: one row per user
	Notifications []string // notification kind ids
	LeadMinutes   int      // reminder lead time
	TimeZone      string   // IANA name
	Digest        bool
	UpdatedAt     time.Time
}

// PreferencesStore keeps calendar preferences.
type PreferencesStore interface {
	// Preferences returns waID's preferences, or ErrNotFound.
	Preferences(ctx context.Context, waID string) (CalendarPreferences, error)

	// SavePreferences inserts or replaces p.WAID's preferences: one row per
	// user, never a duplicate. It returns ErrInvalid when WAID or TimeZone
	// is empty.
	SavePreferences(ctx context.Context, p CalendarPreferences) error
}

// Schedule is a recurring plan made with the multi_day_schedule flow.
type Schedule struct {
	ID        string // e.g. "SC-7F3K2Q"; unique
	MessageID string // the completion's wamid; unique
	TokenID   string
	WAID      string
	// UserID is the user's BSUID (protocol.md §4.2), when the completion
	// or its token carried one: a user known by it alone is reminded at it.
	UserID          string
	StartDate       string   // YYYY-MM-DD, first day included
	EndDate         string   // YYYY-MM-DD, last day included
	Weekdays        []string // "mon" … "sun"
	TimeOfDay       string   // HH:MM in TimeZone
	DurationMinutes int
	TimeZone        string
	Title           string
	Notes           string
	CreatedAt       time.Time
}

// Occurrence is one concrete session of a schedule.
type Occurrence struct {
	ScheduleID string
	Start      time.Time
	End        time.Time
}

// ScheduleStore keeps schedules and their occurrences.
type ScheduleStore interface {
	// SaveSchedule stores s with its occurrences in one transaction and
	// returns s and true; the occurrences are stored under s.ID. When a
	// schedule with s.MessageID exists it stores nothing and returns that
	// one and false. It returns ErrConflict when s.ID is taken and
	// ErrInvalid when ID or MessageID is empty, there is no occurrence, or
	// an occurrence has a zero Start, an End before its Start, a ScheduleID
	// other than "" or s.ID, or the Start of another one.
	SaveSchedule(ctx context.Context, s Schedule, occurrences []Occurrence) (Schedule, bool, error)

	// Occurrences returns the occurrences of schedule id in time order, or
	// ErrNotFound when there is no such schedule.
	Occurrences(ctx context.Context, scheduleID string) ([]Occurrence, error)

	// SchedulesByUser returns waID's schedules, oldest first.
	SchedulesByUser(ctx context.Context, waID string) ([]Schedule, error)
}

// Budget is a budget set up with the budget_setup flow.
type Budget struct {
	ID             string // e.g. "BU-7F3K2Q"; unique
	TokenID        string // one budget per flow token
	WAID           string
	Currency       string
	Period         string
	TotalCents     int64
	Limits         map[string]int64 // category id -> limit in cents
	AlertThreshold int              // percent
	Alerts         bool
	CreatedAt      time.Time
}

// BudgetStore keeps budgets.
type BudgetStore interface {
	// SaveBudget stores b and returns it and true. When a budget for
	// b.TokenID exists it stores nothing and returns that one and false.
	// It returns ErrConflict when b.ID is taken and ErrInvalid when ID,
	// TokenID or Currency is empty, TotalCents <= 0, or a limit is
	// negative or has an empty category id. The budget and its limits are
	// stored in one transaction.
	SaveBudget(ctx context.Context, b Budget) (Budget, bool, error)

	// BudgetsByUser returns waID's budgets, oldest first.
	BudgetsByUser(ctx context.Context, waID string) ([]Budget, error)
}

// Store is every store the catalog's flows need.
//
// Its methods keep times in UTC at microsecond precision and return them so,
// the value they return equal to what a later read gives; a zero CreatedAt
// or UpdatedAt is the store's clock. After Close every method returns
// ErrClosed.
type Store interface {
	BookingStore
	ExpenseStore
	SurveyStore
	PreferencesStore
	ScheduleStore
	BudgetStore
	AssistantStore
}
