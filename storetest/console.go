package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console/consolestore"
)

// ConsoleStore is what the console suite needs of a driver: the core
// store (to record completions and enqueue messages), the catalog's (to
// book) and the console's.
type ConsoleStore interface {
	waflow.Store
	catalogstore.Store
	consolestore.Store
}

// RunConsole runs the conformance suite of consolestore.Store against
// stores open returns.
func RunConsole(t *testing.T, open func(t *testing.T, now func() time.Time) ConsoleStore) {
	t.Helper()
	RunCases(t, open, []Case[ConsoleStore]{
		{"Console/Users", testConsoleUsers},
		{"Console/Sessions", testConsoleSessions},
		{"Console/MinutesAddUp", testConsoleMinutesAddUp},
		{"Console/MinutesConcurrent", testConsoleMinutesConcurrent},
		{"Console/Answers", testConsoleAnswers},
		{"Console/CancelBooking", testConsoleCancelBooking},
		{"Console/OutboxRetry", testConsoleOutboxRetry},
	})
}

func testConsoleUsers(t *testing.T, s ConsoleStore, clock *Clock) {
	n, err := s.CountUsers(ctx)
	WantErr(t, "CountUsers", err, nil)
	if n != 0 {
		t.Fatalf("a new store has %d accounts", n)
	}
	WantErr(t, "AddUser", s.AddUser(ctx, consolestore.User{Name: "ada", PasswordHash: "h1"}), nil)
	WantErr(t, "AddUser again", s.AddUser(ctx, consolestore.User{Name: "ada", PasswordHash: "h2"}), waflow.ErrConflict)
	WantErr(t, "AddUser without a hash", s.AddUser(ctx, consolestore.User{Name: "bob"}), waflow.ErrInvalid)
	u, err := s.User(ctx, "ada")
	WantErr(t, "User", err, nil)
	if u.PasswordHash != "h1" || !u.CreatedAt.Equal(clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("User = %+v: the second AddUser changed it, or the time is not the clock's", u)
	}
	WantErr(t, "SetPassword", s.SetPassword(ctx, "ada", "h3"), nil)
	u, _ = s.User(ctx, "ada")
	if u.PasswordHash != "h3" {
		t.Fatalf("after SetPassword the hash is %q", u.PasswordHash)
	}
	WantErr(t, "SetPassword of nobody", s.SetPassword(ctx, "nobody", "h"), waflow.ErrNotFound)
	_, err = s.User(ctx, "nobody")
	WantErr(t, "User nobody", err, waflow.ErrNotFound)
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Fatalf("CountUsers = %d, want 1", n)
	}
}

func testConsoleSessions(t *testing.T, s ConsoleStore, clock *Clock) {
	WantErr(t, "AddUser", s.AddUser(ctx, consolestore.User{Name: "ada", PasswordHash: "h"}), nil)
	id := strings.Repeat("ab", 32)
	sess := consolestore.Session{ID: id, User: "ada", CSRF: "tok", ExpiresAt: clock.Now().Add(time.Hour)}
	WantErr(t, "CreateSession", s.CreateSession(ctx, sess), nil)
	WantErr(t, "CreateSession again", s.CreateSession(ctx, sess), waflow.ErrConflict)
	other := sess
	other.ID, other.User = strings.Repeat("cd", 32), "nobody"
	WantErr(t, "CreateSession for no account", s.CreateSession(ctx, other), waflow.ErrConflict)
	bad := sess
	bad.ID = "short"
	WantErr(t, "CreateSession with a short id", s.CreateSession(ctx, bad), waflow.ErrInvalid)

	got, err := s.Session(ctx, id, clock.Now())
	WantErr(t, "Session", err, nil)
	if got.User != "ada" || got.CSRF != "tok" {
		t.Fatalf("Session = %+v", got)
	}
	_, err = s.Session(ctx, id, clock.Now().Add(time.Hour))
	WantErr(t, "Session at its expiry", err, waflow.ErrNotFound)

	second := sess
	second.ID, second.ExpiresAt = strings.Repeat("ef", 32), clock.Now().Add(2*time.Hour)
	WantErr(t, "CreateSession second", s.CreateSession(ctx, second), nil)
	n, err := s.PruneSessions(ctx, clock.Now().Add(90*time.Minute))
	WantErr(t, "PruneSessions", err, nil)
	if n != 1 {
		t.Fatalf("PruneSessions removed %d, want the expired one", n)
	}
	WantErr(t, "DeleteSession", s.DeleteSession(ctx, second.ID), nil)
	_, err = s.Session(ctx, second.ID, clock.Now())
	WantErr(t, "Session after sign-out", err, waflow.ErrNotFound)
	WantErr(t, "DeleteSession again", s.DeleteSession(ctx, second.ID), nil)

	// A new password ends the account's sessions: a reset after a
	// password leaked must sign out whoever used it. Other accounts keep
	// theirs.
	WantErr(t, "AddUser bob", s.AddUser(ctx, consolestore.User{Name: "bob", PasswordHash: "h"}), nil)
	adas := sess
	adas.ID = strings.Repeat("12", 32)
	bobs := sess
	bobs.ID, bobs.User = strings.Repeat("34", 32), "bob"
	WantErr(t, "CreateSession ada", s.CreateSession(ctx, adas), nil)
	WantErr(t, "CreateSession bob", s.CreateSession(ctx, bobs), nil)
	WantErr(t, "SetPassword", s.SetPassword(ctx, "ada", "h2"), nil)
	_, err = s.Session(ctx, adas.ID, clock.Now())
	WantErr(t, "Session after the account's password was replaced", err, waflow.ErrNotFound)
	_, err = s.Session(ctx, bobs.ID, clock.Now())
	WantErr(t, "Session of another account after SetPassword", err, nil)
}

func testConsoleMinutesAddUp(t *testing.T, s ConsoleStore, clock *Clock) {
	t0 := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	a := consolestore.Minute{Flow: "f", Start: t0.Add(10 * time.Second), Requests: 3, Err427: 1, Completions: 2}
	a.Latency[0], a.Latency[6] = 2, 1
	b := consolestore.Minute{Flow: "f", Start: t0, Requests: 2, HandlerFailures: 1}
	b.Latency[12] = 2
	c := consolestore.Minute{Flow: "f", Start: t0.Add(5 * time.Minute), Requests: 7, Err421: 1, Err432: 2, ForwardFailures: 3}
	c.Latency[3] = 7
	other := consolestore.Minute{Flow: "g", Start: t0, Requests: 100}
	WantErr(t, "AddMinutes", s.AddMinutes(ctx, []consolestore.Minute{a, other}), nil)
	WantErr(t, "AddMinutes (another replica)", s.AddMinutes(ctx, []consolestore.Minute{b, c}), nil)
	WantErr(t, "AddMinutes negative", s.AddMinutes(ctx, []consolestore.Minute{{Flow: "f", Start: t0, Requests: -1}}), waflow.ErrInvalid)

	got, err := s.Minutes(ctx, "f", t0, t0.Add(time.Hour), time.Minute)
	WantErr(t, "Minutes", err, nil)
	want0 := a
	want0.Start = t0
	want0.Add(b)
	want0.Requests, want0.Err427, want0.Completions, want0.HandlerFailures = 5, 1, 2, 1
	c.Start = t0.Add(5 * time.Minute)
	Diff(t, "Minutes by minute", []consolestore.Minute{want0, c}, got)

	got, err = s.Minutes(ctx, "f", t0, t0.Add(time.Hour), 10*time.Minute)
	WantErr(t, "Minutes by 10", err, nil)
	sum := want0
	sum.Add(c)
	Diff(t, "Minutes by 10 minutes", []consolestore.Minute{sum}, got)
	if sum.Errors() != 1+1+2+1 { // 421, 427, 432, 5xx; forward failures are among the 5xx
		t.Fatalf("Errors() = %d", sum.Errors())
	}
	// Whole hours from an hour read the hourly sums: the same figures.
	got, err = s.Minutes(ctx, "f", t0.Add(-time.Hour), t0.Add(2*time.Hour), time.Hour)
	WantErr(t, "Minutes by hour", err, nil)
	Diff(t, "Minutes by hour", []consolestore.Minute{sum}, got)
	_, err = s.Minutes(ctx, "f", t0, t0.Add(time.Hour), 90*time.Second)
	WantErr(t, "Minutes with a step that is not whole minutes", err, waflow.ErrInvalid)

	n, err := s.PruneMinutes(ctx, t0.Add(time.Minute))
	WantErr(t, "PruneMinutes", err, nil)
	if n != 2 { // f and g at t0
		t.Fatalf("PruneMinutes removed %d rows, want 2", n)
	}
	got, _ = s.Minutes(ctx, "f", t0, t0.Add(time.Hour), time.Minute)
	Diff(t, "Minutes after prune", []consolestore.Minute{c}, got)
	if _, err := s.PruneMinutes(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Minutes(ctx, "f", t0, t0.Add(time.Hour), time.Hour); len(got) != 0 {
		t.Fatalf("hours after prune: %+v", got)
	}
}

// Replicas flushing the same minute at once add up; none is lost.
func testConsoleMinutesConcurrent(t *testing.T, s ConsoleStore, clock *Clock) {
	t0 := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				ms := []consolestore.Minute{{Flow: "b", Start: t0, Requests: 1}, {Flow: "a", Start: t0, Requests: 1}}
				if err := s.AddMinutes(ctx, ms); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, f := range []string{"a", "b"} {
		got, err := s.Minutes(ctx, f, t0, t0.Add(time.Minute), time.Minute)
		WantErr(t, "Minutes", err, nil)
		if len(got) != 1 || got[0].Requests != 40 {
			t.Fatalf("flow %s: %+v, want 40 requests", f, got)
		}
	}
}

func testConsoleAnswers(t *testing.T, s ConsoleStore, clock *Clock) {
	base := clock.Now().Truncate(time.Second)
	for i, resp := range []string{`{"name":"Ada"}`, `{"name":"Bob"}`, `{"name":"Cy"}`, `{"name":"Ada Two"}`} {
		id := string(rune('a' + i))
		mustCreateToken(t, s, "tok-"+id, base.Add(time.Hour))
		_, err := s.RecordCompletion(ctx, waflow.Completion{MessageID: "wamid." + id, TokenID: "tok-" + id, Flow: "survey",
			WAID: "3161234567" + id, Response: []byte(resp), CompletedAt: base, ReceivedAt: base.Add(time.Duration(i) * time.Minute)})
		WantErr(t, "RecordCompletion", err, nil)
	}
	ids := func(cs []waflow.Completion) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.MessageID)
		}
		return strings.Join(out, " ")
	}
	got, err := s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey"})
	WantErr(t, "Answers", err, nil)
	Diff(t, "newest first", "wamid.d wamid.c wamid.b wamid.a", ids(got))
	got, _ = s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey", Text: "Ada"})
	Diff(t, "text filter", "wamid.d wamid.a", ids(got))
	got, _ = s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey", Text: "Ada", ScanLimit: 2})
	Diff(t, "text filter over the 2 newest", "wamid.d", ids(got))
	got, _ = s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey", Text: "Ada", ScanLimit: 2, Before: base.Add(2 * time.Minute), BeforeID: "wamid.c"})
	Diff(t, "text filter over the 2 before c", "wamid.a", ids(got))
	got, _ = s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey", Text: "3161234567b"})
	Diff(t, "phone filter", "wamid.b", ids(got))
	got, _ = s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey", Since: base.Add(time.Minute), Until: base.Add(3 * time.Minute)})
	Diff(t, "date filter", "wamid.c wamid.b", ids(got))
	got, _ = s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey", Limit: 2})
	Diff(t, "first page", "wamid.d wamid.c", ids(got))
	got, _ = s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey", Limit: 2, Before: got[1].ReceivedAt, BeforeID: got[1].MessageID})
	Diff(t, "second page", "wamid.b wamid.a", ids(got))
	got, _ = s.Answers(ctx, consolestore.AnswerQuery{Flow: "other"})
	Diff(t, "another flow", "", ids(got))
	_, err = s.Answers(ctx, consolestore.AnswerQuery{Flow: "survey", Limit: 501})
	WantErr(t, "limit too large", err, waflow.ErrInvalid)
}

func testConsoleCancelBooking(t *testing.T, s ConsoleStore, clock *Clock) {
	slot := time.Date(2025, 3, 20, 9, 0, 0, 0, time.UTC)
	book := func(ref string) catalogstore.Booking {
		t.Helper()
		b, _, err := s.Book(ctx, catalogstore.Booking{Ref: ref, TokenID: "tok-" + ref, Start: slot, Name: "N"}, 1)
		WantErr(t, "Book "+ref, err, nil)
		return b
	}
	book("BK-1")
	_, _, err := s.Book(ctx, catalogstore.Booking{Ref: "BK-2", TokenID: "tok-BK-2", Start: slot}, 1)
	WantErr(t, "Book a full slot", err, catalogstore.ErrSlotFull)
	got, err := s.Bookings(ctx, slot.Add(-time.Hour), slot.Add(time.Hour))
	WantErr(t, "Bookings", err, nil)
	if len(got) != 1 || got[0].Ref != "BK-1" || !got[0].Start.Equal(slot) {
		t.Fatalf("Bookings = %+v", got)
	}
	if got, _ := s.Bookings(ctx, slot.Add(time.Minute), slot.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("Bookings outside the range: %+v", got)
	}
	c, err := s.CancelBooking(ctx, "BK-1", clock.Now())
	WantErr(t, "CancelBooking", err, nil)
	if c.Ref != "BK-1" || c.Name != "N" || c.CancelledAt.IsZero() {
		t.Fatalf("CancelBooking returned %+v", c)
	}
	_, err = s.CancelBooking(ctx, "BK-404", clock.Now())
	WantErr(t, "CancelBooking unknown", err, waflow.ErrNotFound)
	if got, _ := s.Bookings(ctx, slot.Add(-time.Hour), slot.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("Bookings lists a cancelled booking: %+v", got)
	}
	counts, err := s.BookingCounts(ctx, slot, slot.Add(time.Minute))
	WantErr(t, "BookingCounts", err, nil)
	if counts[slot] != 0 {
		t.Fatalf("BookingCounts counts a cancelled booking: %v", counts)
	}
	b3 := book("BK-3") // the seat is free again
	if b3.Seat != 1 {
		t.Fatalf("the freed seat: BK-3 got seat %d, want 1", b3.Seat)
	}
	if _, _, err := s.Book(ctx, catalogstore.Booking{Ref: "BK-4", TokenID: "tok-BK-4", Start: slot}, 1); err == nil {
		t.Fatal("a second booking of the one seat after the cancel was accepted")
	}
}

func testConsoleOutboxRetry(t *testing.T, s ConsoleStore, clock *Clock) {
	m, _, err := s.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "k1", To: "316", Payload: []byte(`{}`)})
	WantErr(t, "Enqueue", err, nil)
	pending, err := s.OutboxMessages(ctx, waflow.OutboxPending, 0)
	WantErr(t, "OutboxMessages", err, nil)
	if len(pending) != 1 || pending[0].ID != m.ID {
		t.Fatalf("pending = %+v", pending)
	}
	WantErr(t, "retry a pending message", s.RetryOutboxMessage(ctx, m.ID, clock.Now()), waflow.ErrConflict)
	claimed, err := s.ClaimOutbox(ctx, "w", 1, time.Minute)
	WantErr(t, "ClaimOutbox", err, nil)
	if len(claimed) != 1 {
		t.Fatalf("claimed %d", len(claimed))
	}
	WantErr(t, "FailOutbox", s.FailOutbox(ctx, m.ID, "w", "the number is not on WhatsApp"), nil)
	dead, _ := s.OutboxMessages(ctx, waflow.OutboxDead, 0)
	if len(dead) != 1 || dead[0].LastError == "" {
		t.Fatalf("dead = %+v", dead)
	}
	WantErr(t, "RetryOutboxMessage", s.RetryOutboxMessage(ctx, m.ID, clock.Now()), nil)
	got, _ := s.OutboxMessage(ctx, m.ID)
	if got.State != waflow.OutboxPending || got.Attempts != 0 {
		t.Fatalf("after retry: %+v", got)
	}
	WantErr(t, "retry a missing message", s.RetryOutboxMessage(ctx, 9999, clock.Now()), waflow.ErrNotFound)
}
