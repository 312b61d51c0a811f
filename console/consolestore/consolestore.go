// Package consolestore holds what the browser console (package console)
// keeps in the database: its accounts, its sign-in sessions and the
// per-minute figures of each flow's data endpoint, and the store contract
// the drivers implement beside waflow.Store (packages sqlite and postgres;
// storetest.RunConsole is the conformance suite both pass).
//
// Everything lives in the database, not in a process, so that every
// replica of "waflow serve" sees the same sessions and adds its figures to
// the same minutes.
package consolestore

import (
	"context"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
)

// User is a console account.
type User struct {
	Name string
	// PasswordHash is the argon2id hash of the password in the PHC string
	// format (package console makes and checks it); never the password.
	PasswordHash string
	CreatedAt    time.Time
}

// Session is a signed-in browser. The cookie holds a random token; the
// store keeps only its SHA-256 (ID), so that a read of the database does
// not hand out sessions.
type Session struct {
	ID   string // hex SHA-256 of the cookie's token
	User string
	// CSRF is the synchronizer token every form of this session carries.
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LatencyBounds are the upper bounds of Minute.Latency's buckets; the last
// bucket, past 10 s, has none. Meta alerts when the p90 crosses 1 s, 5 s
// and 7 s (protocol.md 3.2): the fine buckets below 1 s say how close to
// the first alert a flow is.
var LatencyBounds = []time.Duration{
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, 750 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second,
	5 * time.Second, 7 * time.Second, 10 * time.Second,
}

// Buckets is the number of latency buckets: one per bound and one past the
// last.
const Buckets = 13

// Minute is what one flow's data endpoint did in one minute (or, read
// back with a step, in one step): counts that replicas add up.
type Minute struct {
	Flow  string
	Start time.Time // the minute (or step) it starts, UTC
	// Requests answered, and among them the refusals Meta's protocol names
	// (protocol.md 3.1): 421 (the payload could not be decrypted), 427
	// (the flow token is invalid), 432 (the signature is invalid).
	Requests, Err421, Err427, Err432 int64
	// HandlerFailures are requests answered 5xx (a handler's error, a
	// refused answer, a backend's failure); ForwardFailures says how many
	// of them were a folder flow's backend failing (package forward).
	HandlerFailures, ForwardFailures int64
	// Completions are completed flows handled by the webhook worker.
	Completions int64
	// Latency counts requests by duration, bucket i holding those up to
	// LatencyBounds[i] (and above the previous bound).
	Latency [Buckets]int64
}

// Add adds o's counts to m.
func (m *Minute) Add(o Minute) {
	m.Requests += o.Requests
	m.Err421 += o.Err421
	m.Err427 += o.Err427
	m.Err432 += o.Err432
	m.HandlerFailures += o.HandlerFailures
	m.ForwardFailures += o.ForwardFailures
	m.Completions += o.Completions
	for i := range m.Latency {
		m.Latency[i] += o.Latency[i]
	}
}

// Errors is the number of requests not answered with a screen: the
// refusals and the failures (ForwardFailures are among HandlerFailures).
func (m Minute) Errors() int64 {
	return m.Err421 + m.Err427 + m.Err432 + m.HandlerFailures
}

// Validate checks m for AddMinutes: a flow, a start, no negative count.
func (m Minute) Validate() error {
	if m.Flow == "" || m.Start.IsZero() {
		return waflow.Invalidf("a console minute needs a flow and a start")
	}
	for _, n := range append([]int64{m.Requests, m.Err421, m.Err427, m.Err432, m.HandlerFailures, m.ForwardFailures, m.Completions}, m.Latency[:]...) {
		if n < 0 {
			return waflow.Invalidf("a console minute's counts are never negative")
		}
	}
	return nil
}

// Validate checks u for AddUser.
func (u User) Validate() error {
	if u.Name == "" || len(u.Name) > 64 || u.PasswordHash == "" {
		return waflow.Invalidf("a console account needs a name (at most 64 bytes) and a password hash")
	}
	return nil
}

// Validate checks s for CreateSession.
func (s Session) Validate() error {
	if len(s.ID) != 64 || s.User == "" || s.CSRF == "" || s.ExpiresAt.IsZero() {
		return waflow.Invalidf("a console session needs a 64-hex-digit id, a user, a CSRF token and an expiry")
	}
	return nil
}

// AnswerQuery selects completions for Answers: one flow's, newest first.
type AnswerQuery struct {
	Flow string
	// Since and Until bound ReceivedAt (Since <= ReceivedAt < Until); zero
	// does not bound.
	Since, Until time.Time
	// Text, when set, keeps the completions whose response or phone number
	// holds it (case-sensitive substring).
	Text string
	// Before pages: only completions received before it (or at it with a
	// smaller MessageID than BeforeID).
	Before   time.Time
	BeforeID string
	Limit    int // 50 when zero, at most 500
	// ScanLimit, when set with Text, searches only the ScanLimit newest
	// completions the other fields select (before Before): a text search
	// then reads a bounded number of rows whatever the table holds, and
	// paging with Before moves the window to older ones.
	ScanLimit int
}

// Validate checks q.
func (q AnswerQuery) Validate() error {
	if q.Limit < 0 || q.Limit > 500 || q.ScanLimit < 0 {
		return waflow.Invalidf("an answer query's limit is 0 to 500 and its scan limit not negative")
	}
	return waflow.CompletionRange{Flow: q.Flow, Since: q.Since, Until: q.Until}.Validate()
}

// ByHour reports whether Minutes over [since, until) by step can be read
// from the hourly sums: step is whole hours and since starts an hour.
func ByHour(since, until time.Time, step time.Duration) bool {
	return step%time.Hour == 0 && since.Equal(since.Truncate(time.Hour)) && until.Equal(until.Truncate(time.Hour))
}

// FlowEvent is a flows webhook event Meta sent (status changes, endpoint
// health alerts), as kept in the inbox.
type FlowEvent struct {
	ID         int64
	ReceivedAt time.Time
	Payload    []byte // the event as the webhook receiver stored it
}

// Store is the console's storage contract.
type Store interface {
	// AddUser stores u; ErrConflict when the name is taken.
	AddUser(ctx context.Context, u User) error
	// SetPassword replaces the password hash of user name and deletes the
	// account's sessions (a reset signs out whoever knew the old
	// password); ErrNotFound when there is no such user.
	SetPassword(ctx context.Context, name, hash string) error
	// User returns the account name, or ErrNotFound.
	User(ctx context.Context, name string) (User, error)
	// CountUsers returns how many accounts exist.
	CountUsers(ctx context.Context) (int, error)

	// CreateSession stores s; ErrConflict when its ID exists.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session id that has not expired at now, or
	// ErrNotFound.
	Session(ctx context.Context, id string, now time.Time) (Session, error)
	// DeleteSession removes session id; removing a missing one does
	// nothing.
	DeleteSession(ctx context.Context, id string) error
	// PruneSessions removes the sessions expired at now.
	PruneSessions(ctx context.Context, now time.Time) (int64, error)

	// AddMinutes adds each minute's counts to what is stored for its flow
	// and minute (the start truncated to the minute), and to its hour's
	// sums, creating the rows if needed, in one transaction: replicas add
	// to the same rows.
	AddMinutes(ctx context.Context, ms []Minute) error
	// Minutes returns flow's minutes in [since, until) summed by step (a
	// whole number of minutes), one Minute per step that has any, by
	// increasing Start; each Start is since plus a multiple of step. When
	// ByHour, it reads the hourly sums AddMinutes keeps beside the minutes.
	Minutes(ctx context.Context, flow string, since, until time.Time, step time.Duration) ([]Minute, error)
	// PruneMinutes removes the minutes (and the hours) before cutoff and
	// returns how many minutes it removed.
	PruneMinutes(ctx context.Context, before time.Time) (int64, error)

	// Answers returns the completions q selects, newest received first.
	Answers(ctx context.Context, q AnswerQuery) ([]waflow.Completion, error)
	// FlowEvents returns the newest flows webhook events, newest first.
	FlowEvents(ctx context.Context, limit int) ([]FlowEvent, error)

	// Bookings returns the bookings whose slot starts in [from, to), by
	// start then seat.
	Bookings(ctx context.Context, from, to time.Time) ([]catalogstore.Booking, error)
	// BookingByRef is catalogstore.BookingStore's: the booking ref,
	// cancelled or not; ErrNotFound when there is none.
	BookingByRef(ctx context.Context, ref string) (catalogstore.Booking, error)
	// CancelBooking is catalogstore.AssistantStore's: it marks booking ref
	// cancelled at at, which frees its seat and stops its reminder, and
	// returns it (a second cancel returns it unchanged); ErrNotFound when
	// there is none.
	CancelBooking(ctx context.Context, ref string, at time.Time) (catalogstore.Booking, error)

	// OutboxMessages returns the outbox messages in state, newest first,
	// at most limit (100 when zero).
	OutboxMessages(ctx context.Context, state waflow.OutboxState, limit int) ([]waflow.OutboxMessage, error)
	// RetryOutboxMessage makes a dead message pending again (never an
	// unknown one: it may have been sent, protocol of package outbox),
	// due at at, with its attempts reset; ErrNotFound for a missing
	// message, ErrConflict for one in another state.
	RetryOutboxMessage(ctx context.Context, id int64, at time.Time) error
}
