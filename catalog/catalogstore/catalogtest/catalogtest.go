// Package catalogtest is the conformance suite of the catalog flows' storage
// contract ([catalogstore.Store]): round trips, every documented error,
// idempotency and concurrency. Every driver that implements the contract
// runs it from its own tests, next to the core suite (package storetest):
//
//	func TestCatalogConformance(t *testing.T) {
//		catalogtest.Run(t, func(t *testing.T, now func() time.Time) catalogtest.Store {
//			return openEmptyStore(t, now) // closed and dropped by t.Cleanup
//		})
//	}
//
// It sits with the contract rather than in storetest so that the core's
// suite knows nothing of one set of flows. Like storetest, each subtest opens
// its own store, runs in parallel with the others, and drives the store's
// clock (storetest.Clock).
package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/storetest"
)

// Store is what the suite checks: the catalog's stores, and Close, after
// which every one of their methods returns waflow.ErrClosed.
type Store interface {
	catalogstore.Store
	Close() error
}

// Opener opens a new, empty store whose clock is now. It registers with
// t.Cleanup whatever closes and removes the store.
type Opener func(t *testing.T, now func() time.Time) Store

// Run runs the catalog's conformance suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	t.Helper()
	storetest.RunCases(t, open, []storetest.Case[Store]{
		{Name: "Booking/RoundTrip", Check: testBookingRoundTrip},
		{Name: "Booking/Seats", Check: testBookingSeats},
		{Name: "Booking/Replay", Check: testBookingReplay},
		{Name: "Booking/Errors", Check: testBookingErrors},
		{Name: "Booking/ConcurrentOneSeat", Check: testBookingConcurrentOneSeat},
		{Name: "Booking/ConcurrentThreeSeats", Check: testBookingConcurrentThreeSeats},
		{Name: "Booking/ConcurrentAllSeats", Check: testBookingConcurrentAllSeats},
		{Name: "Booking/ConcurrentReplay", Check: testBookingConcurrentReplay},
		{Name: "Expense/RoundTrip", Check: testExpenseRoundTrip},
		{Name: "Expense/Idempotent", Check: testExpenseIdempotent},
		{Name: "Expense/Errors", Check: testExpenseErrors},
		{Name: "Expense/Concurrent", Check: testExpenseConcurrent},
		{Name: "Survey/RoundTrip", Check: testSurveyRoundTrip},
		{Name: "Survey/Errors", Check: testSurveyErrors},
		{Name: "Survey/Concurrent", Check: testSurveyConcurrent},
		{Name: "Preferences/Upsert", Check: testPreferencesUpsert},
		{Name: "Preferences/Errors", Check: testPreferencesErrors},
		{Name: "Preferences/Concurrent", Check: testPreferencesConcurrent},
		{Name: "Schedule/RoundTrip", Check: testScheduleRoundTrip},
		{Name: "Schedule/Idempotent", Check: testScheduleIdempotent},
		{Name: "Schedule/Errors", Check: testScheduleErrors},
		{Name: "Schedule/Atomic", Check: testScheduleAtomic},
		{Name: "Schedule/Concurrent", Check: testScheduleConcurrent},
		{Name: "Budget/RoundTrip", Check: testBudgetRoundTrip},
		{Name: "Budget/Idempotent", Check: testBudgetIdempotent},
		{Name: "Budget/Errors", Check: testBudgetErrors},
		{Name: "Budget/Concurrent", Check: testBudgetConcurrent},
		{Name: "Assistant/Cancel", Check: testAssistantCancel},
		{Name: "Assistant/Sessions", Check: testAssistantSessions},
		{Name: "Assistant/Digest", Check: testAssistantDigest},
		{Name: "Assistant/Inbound", Check: testAssistantInbound},
		{Name: "Catalog/Closed", Check: testCatalogClosed},
	})
}

var ctx = context.Background()

var (
	wantErr = storetest.WantErr
	diff    = storetest.Diff
)

// slot is the start of an appointment slot the booking tests use.
var slot = time.Date(2025, 3, 17, 9, 0, 0, 0, time.UTC)

func booking(ref, token string, start time.Time) catalogstore.Booking {
	return catalogstore.Booking{Ref: ref, TokenID: token, WAID: "15551234567", Start: start, Name: "Zoë Faure",
		Reason: "Check-up ✓", Reminder: true}
}

func mustBook(t *testing.T, s Store, b catalogstore.Booking, capacity int) catalogstore.Booking {
	t.Helper()
	got, created, err := s.Book(ctx, b, capacity)
	if err != nil || !created {
		t.Fatalf("Book(%s, token %s, capacity %d) = created %v, %v; want a new booking", b.Ref, b.TokenID, capacity, created, err)
	}
	return got
}

func counts(t *testing.T, s catalogstore.Store, from, to time.Time) map[time.Time]int {
	t.Helper()
	c, err := s.BookingCounts(ctx, from, to)
	if err != nil {
		t.Fatalf("BookingCounts: %v", err)
	}
	return c
}

func testBookingRoundTrip(t *testing.T, s Store, clock *storetest.Clock) {
	// A start in another zone, below a microsecond, comes back as the same
	// instant in UTC at microsecond precision; Seat is the store's to give.
	b := booking("BK-1", "tok-1", slot.In(time.FixedZone("CET", 3600)).Add(999*time.Nanosecond))
	b.Seat = 7
	got := mustBook(t, s, b, 2)
	want := booking("BK-1", "tok-1", slot)
	want.Seat, want.CreatedAt = 1, storetest.Epoch
	diff(t, "booking", want, got)
	if got.Start.Location() != time.UTC || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("Book returned times outside UTC: %v, %v", got.Start, got.CreatedAt)
	}
	stored, err := s.BookingByRef(ctx, "BK-1")
	wantErr(t, "BookingByRef", err, nil)
	diff(t, "BookingByRef", want, stored)
	if stored.Start.Location() != time.UTC {
		t.Fatalf("BookingByRef: Start %v is not in UTC", stored.Start)
	}

	// An explicit CreatedAt is kept, and so is the BSUID of a user known
	// by it alone (no phone number).
	at := storetest.Epoch.Add(-time.Hour)
	b2 := booking("BK-2", "tok-2", slot.Add(time.Hour))
	b2.CreatedAt, b2.Reminder, b2.Reason = at, false, ""
	b2.WAID, b2.UserID = "", bsuid
	if got := mustBook(t, s, b2, 2); !got.CreatedAt.Equal(at) {
		t.Fatalf("explicit CreatedAt: got %v, want %v", got.CreatedAt, at)
	}
	b2.Seat = 1
	got2, err := s.BookingByRef(ctx, "BK-2")
	wantErr(t, "BookingByRef(BK-2)", err, nil)
	diff(t, "BookingByRef(BK-2)", b2, got2)

	mustBook(t, s, booking("BK-3", "tok-3", slot.Add(time.Hour)), 2)
	mustBook(t, s, booking("BK-4", "tok-4", slot.Add(2*time.Hour)), 2)
	mustBook(t, s, booking("BK-5", "tok-5", slot.Add(-time.Minute)), 2)
	// [from, to): the slot at from counts, the slot at to does not. Keys are
	// the starts in UTC, so a caller's time.Date(…, time.UTC) finds them.
	c := counts(t, s, slot, slot.Add(2*time.Hour))
	// cmp compares map keys with ==, so this also checks the keys' form.
	diff(t, "BookingCounts", map[time.Time]int{slot: 1, slot.Add(time.Hour): 2}, c)
	diff(t, "BookingCounts(empty range)", map[time.Time]int{}, counts(t, s, slot.Add(3*time.Hour), slot.Add(9*time.Hour)))
}

func testBookingSeats(t *testing.T, s Store, clock *storetest.Clock) {
	for i := 1; i <= 3; i++ {
		got := mustBook(t, s, booking(fmt.Sprintf("BK-%d", i), fmt.Sprintf("tok-%d", i), slot), 3)
		if got.Seat != i {
			t.Fatalf("booking %d got seat %d, want %d", i, got.Seat, i)
		}
	}
	_, _, err := s.Book(ctx, booking("BK-4", "tok-4", slot), 3)
	wantErr(t, "Book(fourth of three)", err, catalogstore.ErrSlotFull)
	_, err = s.BookingByRef(ctx, "BK-4")
	wantErr(t, "BookingByRef(refused booking)", err, waflow.ErrNotFound)
	_, _, err = s.Book(ctx, booking("BK-4", "tok-4", slot), 2)
	wantErr(t, "Book(capacity lowered below the bookings)", err, catalogstore.ErrSlotFull)
	// A larger capacity opens the next seat; another slot starts at seat 1.
	if got := mustBook(t, s, booking("BK-4", "tok-4", slot), 4); got.Seat != 4 {
		t.Fatalf("after raising the capacity: seat %d, want 4", got.Seat)
	}
	if got := mustBook(t, s, booking("BK-5", "tok-5", slot.Add(30*time.Minute)), 1); got.Seat != 1 {
		t.Fatalf("another slot: seat %d, want 1", got.Seat)
	}
	diff(t, "BookingCounts", map[time.Time]int{slot: 4, slot.Add(30 * time.Minute): 1}, counts(t, s, slot, slot.Add(time.Hour)))
}

func testBookingReplay(t *testing.T, s Store, clock *storetest.Clock) {
	first := mustBook(t, s, booking("BK-1", "tok-r", slot), 1)
	clock.Advance(time.Minute)
	// The same session again, even with another ref and time, gets its
	// booking back, though the slot is now full.
	for name, capacity := range map[string]int{"full slot": 1, "free seats": 5} {
		again, created, err := s.Book(ctx, booking("BK-2", "tok-r", slot.Add(time.Hour)), capacity)
		wantErr(t, "Book(replay, "+name+")", err, nil)
		if created {
			t.Fatalf("Book(replay, %s) created a second booking for one token", name)
		}
		diff(t, "booking returned to a replay ("+name+")", first, again)
	}
	_, err := s.BookingByRef(ctx, "BK-2")
	wantErr(t, "BookingByRef(ref of a replay)", err, waflow.ErrNotFound)
	_, _, err = s.Book(ctx, booking("BK-3", "tok-other", slot), 1)
	wantErr(t, "Book(another token, full slot)", err, catalogstore.ErrSlotFull)
	diff(t, "BookingCounts", map[time.Time]int{slot: 1}, counts(t, s, slot, slot.Add(2*time.Hour)))
}

func testBookingErrors(t *testing.T, s Store, clock *storetest.Clock) {
	for name, tc := range map[string]struct {
		b        catalogstore.Booking
		capacity int
	}{
		"no ref":            {booking("", "tok", slot), 1},
		"no token":          {booking("BK-X", "", slot), 1},
		"no start":          {booking("BK-X", "tok", time.Time{}), 1},
		"capacity 0":        {booking("BK-X", "tok", slot), 0},
		"negative capacity": {booking("BK-X", "tok", slot), -3},
	} {
		_, _, err := s.Book(ctx, tc.b, tc.capacity)
		wantErr(t, "Book("+name+")", err, waflow.ErrInvalid)
	}
	diff(t, "BookingCounts after refused bookings", map[time.Time]int{}, counts(t, s, slot.Add(-time.Hour), slot.Add(time.Hour)))

	mustBook(t, s, booking("BK-1", "tok-1", slot), 5)
	_, _, err := s.Book(ctx, booking("BK-1", "tok-2", slot.Add(time.Hour)), 5)
	wantErr(t, "Book(ref taken)", err, waflow.ErrConflict)
	if errors.Is(err, catalogstore.ErrSlotFull) {
		t.Fatalf("Book(ref taken) also matches ErrSlotFull: %v", err)
	}
	diff(t, "BookingCounts after a taken ref", map[time.Time]int{slot: 1}, counts(t, s, slot, slot.Add(2*time.Hour)))
	// Nothing of the refused booking was kept: the token books afresh.
	if got := mustBook(t, s, booking("BK-2", "tok-2", slot.Add(time.Hour)), 5); got.Ref != "BK-2" {
		t.Fatalf("booking after a refused ref: %+v", got)
	}
	_, err = s.BookingByRef(ctx, "BK-none")
	wantErr(t, "BookingByRef(unknown)", err, waflow.ErrNotFound)
}

// bookConcurrently books slot from n goroutines, each with its own token,
// and returns the bookings made; every other caller must get ErrSlotFull.
func bookConcurrently(t *testing.T, s Store, n, capacity int) []catalogstore.Booking {
	t.Helper()
	var mu sync.Mutex
	var made []catalogstore.Booking
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			b, created, err := s.Book(ctx, booking(fmt.Sprintf("BK-%02d", i), fmt.Sprintf("tok-%02d", i), slot), capacity)
			switch {
			case err == nil && created:
				mu.Lock()
				made = append(made, b)
				mu.Unlock()
			case errors.Is(err, catalogstore.ErrSlotFull):
			default:
				t.Errorf("caller %d: created %v, %v; want a booking or ErrSlotFull", i, created, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return made
}

func testBookingConcurrentOneSeat(t *testing.T, s Store, clock *storetest.Clock) {
	made := bookConcurrently(t, s, 50, 1)
	if len(made) != 1 || made[0].Seat != 1 {
		t.Fatalf("50 callers booking one seat made %d bookings (%+v), want exactly 1 on seat 1 and 49 ErrSlotFull", len(made), made)
	}
	diff(t, "BookingCounts", map[time.Time]int{slot: 1}, counts(t, s, slot, slot.Add(time.Hour)))
}

func testBookingConcurrentThreeSeats(t *testing.T, s Store, clock *storetest.Clock) {
	made := bookConcurrently(t, s, 50, 3)
	seats := map[int]string{}
	for _, b := range made {
		if other, dup := seats[b.Seat]; dup {
			t.Fatalf("seat %d given to %s and %s", b.Seat, other, b.Ref)
		}
		seats[b.Seat] = b.Ref
		stored, err := s.BookingByRef(ctx, b.Ref)
		wantErr(t, "BookingByRef("+b.Ref+")", err, nil)
		diff(t, "stored booking "+b.Ref, b, stored)
	}
	if len(made) != 3 || seats[1] == "" || seats[2] == "" || seats[3] == "" {
		t.Fatalf("50 callers booking three seats made %d bookings on seats %v, want seats 1, 2 and 3", len(made), seats)
	}
	diff(t, "BookingCounts", map[time.Time]int{slot: 3}, counts(t, s, slot, slot.Add(time.Hour)))
}

// testBookingConcurrentAllSeats checks that a caller who loses a race for a
// seat gets the next free one: with as many seats as callers, nobody is
// turned away.
func testBookingConcurrentAllSeats(t *testing.T, s Store, clock *storetest.Clock) {
	const n = 20
	made := bookConcurrently(t, s, n, n)
	seats := map[int]bool{}
	for _, b := range made {
		seats[b.Seat] = true
	}
	if len(made) != n || len(seats) != n {
		t.Fatalf("%d callers booking %d seats made %d bookings on %d distinct seats, want %d", n, n, len(made), len(seats), n)
	}
	for seat := 1; seat <= n; seat++ {
		if !seats[seat] {
			t.Fatalf("seat %d not given; seats given: %v", seat, seats)
		}
	}
}

func testBookingConcurrentReplay(t *testing.T, s Store, clock *storetest.Clock) {
	const n = 20
	got := make([]catalogstore.Booking, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			got[i], created[i], err = s.Book(ctx, booking(fmt.Sprintf("BK-%02d", i), "tok-same", slot), 10)
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if created[i] {
			winners++
		}
		if got[i].Ref != got[0].Ref || got[i].Seat != 1 {
			t.Errorf("caller %d got booking %s seat %d, caller 0 got %s: one token, one booking", i, got[i].Ref, got[i].Seat, got[0].Ref)
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent Book calls for one token created a booking, want 1", winners, n)
	}
	diff(t, "BookingCounts", map[time.Time]int{slot: 1}, counts(t, s, slot, slot.Add(time.Hour)))
}

func expense(id, token, waID string, cents int64) catalogstore.Expense {
	return catalogstore.Expense{ID: id, TokenID: token, WAID: waID, AmountCents: cents, Currency: "EUR",
		Category: "food", Description: "Déjeuner ✓"}
}

func mustExpenses(t *testing.T, s Store, waID string) []catalogstore.Expense {
	t.Helper()
	list, err := s.ExpensesByUser(ctx, waID)
	if err != nil {
		t.Fatalf("ExpensesByUser(%s): %v", waID, err)
	}
	return list
}

func testExpenseRoundTrip(t *testing.T, s Store, clock *storetest.Clock) {
	e1 := expense("EX-1", "tok-1", "u1", 1250)
	got, created, err := s.SaveExpense(ctx, e1)
	wantErr(t, "SaveExpense", err, nil)
	e1.CreatedAt = storetest.Epoch
	if !created {
		t.Fatal("SaveExpense of a new expense returned false")
	}
	diff(t, "saved expense", e1, got)
	clock.Advance(time.Minute)
	e2 := expense("EX-2", "tok-2", "u1", 1)
	e2.CreatedAt = storetest.Epoch.Add(-time.Hour) // older than e1, saved after it
	e2.Description, e2.Category = "", ""
	e3 := expense("EX-3", "tok-3", "u1", 99999999999)
	e4 := expense("EX-4", "tok-4", "u2", 300)
	for _, e := range []catalogstore.Expense{e2, e3, e4} {
		if _, created, err := s.SaveExpense(ctx, e); err != nil || !created {
			t.Fatalf("SaveExpense(%s): created %v, %v", e.ID, created, err)
		}
	}
	e3.CreatedAt, e4.CreatedAt = clock.Now(), clock.Now()
	diff(t, "ExpensesByUser(u1), oldest first", []catalogstore.Expense{e2, e1, e3}, mustExpenses(t, s, "u1"))
	diff(t, "ExpensesByUser(u2)", []catalogstore.Expense{e4}, mustExpenses(t, s, "u2"))
	diff(t, "ExpensesByUser(unknown)", []catalogstore.Expense{}, mustExpenses(t, s, "nobody"))
}

func testExpenseIdempotent(t *testing.T, s Store, clock *storetest.Clock) {
	first, _, err := s.SaveExpense(ctx, expense("EX-1", "tok-1", "u1", 500))
	wantErr(t, "SaveExpense", err, nil)
	clock.Advance(time.Minute)
	again, created, err := s.SaveExpense(ctx, expense("EX-2", "tok-1", "u1", 700))
	wantErr(t, "SaveExpense(same token)", err, nil)
	if created {
		t.Fatal("SaveExpense stored a second expense for one token")
	}
	diff(t, "expense returned for the same token", first, again)
	diff(t, "ExpensesByUser", []catalogstore.Expense{first}, mustExpenses(t, s, "u1"))
}

func testExpenseErrors(t *testing.T, s Store, clock *storetest.Clock) {
	for name, e := range map[string]catalogstore.Expense{
		"no id":           expense("", "tok", "u1", 100),
		"no token":        expense("EX-X", "", "u1", 100),
		"no currency":     func() catalogstore.Expense { e := expense("EX-X", "tok", "u1", 100); e.Currency = ""; return e }(),
		"zero amount":     expense("EX-X", "tok", "u1", 0),
		"negative amount": expense("EX-X", "tok", "u1", -100),
	} {
		_, _, err := s.SaveExpense(ctx, e)
		wantErr(t, "SaveExpense("+name+")", err, waflow.ErrInvalid)
	}
	diff(t, "ExpensesByUser after refused saves", []catalogstore.Expense{}, mustExpenses(t, s, "u1"))

	first, _, err := s.SaveExpense(ctx, expense("EX-1", "tok-1", "u1", 100))
	wantErr(t, "SaveExpense", err, nil)
	_, _, err = s.SaveExpense(ctx, expense("EX-1", "tok-2", "u2", 200))
	wantErr(t, "SaveExpense(id taken)", err, waflow.ErrConflict)
	diff(t, "ExpensesByUser(u1)", []catalogstore.Expense{first}, mustExpenses(t, s, "u1"))
	diff(t, "ExpensesByUser(u2) after a taken id", []catalogstore.Expense{}, mustExpenses(t, s, "u2"))
}

func testExpenseConcurrent(t *testing.T, s Store, clock *storetest.Clock) {
	const n = 30
	got := make([]catalogstore.Expense, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			got[i], created[i], err = s.SaveExpense(ctx, expense(fmt.Sprintf("EX-%02d", i), "tok-same", "u1", int64(100+i)))
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if created[i] {
			winners++
		}
		if got[i].ID != got[0].ID {
			t.Errorf("caller %d got expense %s, caller 0 got %s", i, got[i].ID, got[0].ID)
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent SaveExpense calls for one token stored an expense, want 1", winners, n)
	}
	if list := mustExpenses(t, s, "u1"); len(list) != 1 {
		t.Fatalf("%d expenses stored for one token, want 1", len(list))
	}
}

func surveyResponse(msg string, rating int) catalogstore.SurveyResponse {
	return catalogstore.SurveyResponse{MessageID: msg, TokenID: "tok-" + msg, WAID: "15551234567", Rating: rating,
		Comments: "Très bien ✓", FollowUp: true, ContactMethod: "email", ContactValue: "zoe@example.com",
		ContactTime: "morning"}
}

func mustSurveys(t *testing.T, s Store, from, to time.Time) []catalogstore.SurveyResponse {
	t.Helper()
	list, err := s.SurveyResponses(ctx, from, to)
	if err != nil {
		t.Fatalf("SurveyResponses: %v", err)
	}
	return list
}

func testSurveyRoundTrip(t *testing.T, s Store, clock *storetest.Clock) {
	r1 := surveyResponse("wamid.1", 5)
	created, err := s.SaveSurveyResponse(ctx, r1)
	wantErr(t, "SaveSurveyResponse", err, nil)
	if !created {
		t.Fatal("SaveSurveyResponse of a new response returned false")
	}
	r1.CreatedAt = storetest.Epoch
	clock.Advance(time.Minute)
	r2 := catalogstore.SurveyResponse{MessageID: "wamid.2", Rating: 1} // no token, no follow-up
	r3 := surveyResponse("wamid.3", 3)
	r3.CreatedAt = storetest.Epoch.Add(2 * time.Minute)
	for _, r := range []catalogstore.SurveyResponse{r2, r3} {
		if created, err := s.SaveSurveyResponse(ctx, r); err != nil || !created {
			t.Fatalf("SaveSurveyResponse(%s): %v, %v", r.MessageID, created, err)
		}
	}
	r2.CreatedAt = clock.Now()
	diff(t, "SurveyResponses(all)", []catalogstore.SurveyResponse{r1, r2, r3}, mustSurveys(t, s, storetest.Epoch, storetest.Epoch.Add(time.Hour)))
	// [from, to): a response at from is in, one at to is out.
	diff(t, "SurveyResponses([+1m, +2m))", []catalogstore.SurveyResponse{r2}, mustSurveys(t, s, storetest.Epoch.Add(time.Minute), storetest.Epoch.Add(2*time.Minute)))
	diff(t, "SurveyResponses(before any)", []catalogstore.SurveyResponse{}, mustSurveys(t, s, storetest.Epoch.Add(-time.Hour), storetest.Epoch))

	// The same message again stores nothing and changes nothing.
	again := surveyResponse("wamid.1", 1)
	again.Comments = "changed"
	created, err = s.SaveSurveyResponse(ctx, again)
	wantErr(t, "SaveSurveyResponse(same message)", err, nil)
	if created {
		t.Fatal("SaveSurveyResponse stored a second response for one message")
	}
	diff(t, "SurveyResponses after a duplicate", []catalogstore.SurveyResponse{r1, r2, r3}, mustSurveys(t, s, storetest.Epoch, storetest.Epoch.Add(time.Hour)))
}

func testSurveyErrors(t *testing.T, s Store, clock *storetest.Clock) {
	for name, r := range map[string]catalogstore.SurveyResponse{
		"no message id": surveyResponse("", 3),
		"rating 0":      surveyResponse("wamid.x", 0),
		"rating 6":      surveyResponse("wamid.x", 6),
		"rating -1":     surveyResponse("wamid.x", -1),
	} {
		_, err := s.SaveSurveyResponse(ctx, r)
		wantErr(t, "SaveSurveyResponse("+name+")", err, waflow.ErrInvalid)
	}
	diff(t, "SurveyResponses after refused saves", []catalogstore.SurveyResponse{}, mustSurveys(t, s, storetest.Epoch.Add(-time.Hour), storetest.Epoch.Add(time.Hour)))
}

func testSurveyConcurrent(t *testing.T, s Store, clock *storetest.Clock) {
	const n = 20
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			created[i], err = s.SaveSurveyResponse(ctx, surveyResponse("wamid.same", 1+i%5))
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	winners := 0
	for _, c := range created {
		if c {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent saves of one message returned true, want 1", winners, n)
	}
	if list := mustSurveys(t, s, storetest.Epoch, storetest.Epoch.Add(time.Hour)); len(list) != 1 {
		t.Fatalf("%d responses stored for one message, want 1", len(list))
	}
}

func mustPreferences(t *testing.T, s Store, waID string) catalogstore.CalendarPreferences {
	t.Helper()
	p, err := s.Preferences(ctx, waID)
	if err != nil {
		t.Fatalf("Preferences(%s): %v", waID, err)
	}
	return p
}

func testPreferencesUpsert(t *testing.T, s Store, clock *storetest.Clock) {
	_, err := s.Preferences(ctx, "u1")
	wantErr(t, "Preferences(never saved)", err, waflow.ErrNotFound)

	p := catalogstore.CalendarPreferences{WAID: "u1", Notifications: []string{"email", "whatsapp"}, LeadMinutes: 30,
		TimeZone: "Europe/Paris", Digest: true}
	wantErr(t, "SavePreferences", s.SavePreferences(ctx, p), nil)
	p.UpdatedAt = storetest.Epoch
	diff(t, "Preferences", p, mustPreferences(t, s, "u1"))

	other := catalogstore.CalendarPreferences{WAID: "u2", TimeZone: "UTC", UpdatedAt: storetest.Epoch.Add(-time.Hour)}
	wantErr(t, "SavePreferences(u2)", s.SavePreferences(ctx, other), nil)

	// Saving again replaces every field, including emptying the list.
	clock.Advance(time.Minute)
	p2 := catalogstore.CalendarPreferences{WAID: "u1", LeadMinutes: 1440, TimeZone: "America/Sao_Paulo"}
	wantErr(t, "SavePreferences(again)", s.SavePreferences(ctx, p2), nil)
	p2.UpdatedAt = clock.Now()
	diff(t, "Preferences after replacing", p2, mustPreferences(t, s, "u1"))
	diff(t, "Preferences of another user", other, mustPreferences(t, s, "u2"))
}

func testPreferencesErrors(t *testing.T, s Store, clock *storetest.Clock) {
	for name, p := range map[string]catalogstore.CalendarPreferences{
		"no wa id":     {TimeZone: "UTC"},
		"no time zone": {WAID: "u1"},
	} {
		wantErr(t, "SavePreferences("+name+")", s.SavePreferences(ctx, p), waflow.ErrInvalid)
	}
	_, err := s.Preferences(ctx, "u1")
	wantErr(t, "Preferences after a refused save", err, waflow.ErrNotFound)
}

func testPreferencesConcurrent(t *testing.T, s Store, clock *storetest.Clock) {
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := catalogstore.CalendarPreferences{WAID: "u1", LeadMinutes: i, TimeZone: "UTC", Notifications: []string{fmt.Sprint(i)}}
			if err := s.SavePreferences(ctx, p); err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	p := mustPreferences(t, s, "u1")
	// One caller's save, whole: never a mix of two.
	if len(p.Notifications) != 1 || p.Notifications[0] != fmt.Sprint(p.LeadMinutes) {
		t.Fatalf("after concurrent saves: %+v, want one caller's preferences", p)
	}
}

// bsuid is the business-scoped user id of the tests' users (protocol.md 4.2).
const bsuid = "US.13491208655302741918"

// schedule is a schedule of user waID, with a BSUID that the store keeps
// (SchedulesByUser and duplicates read it back).
func schedule(id, msg, waID string) catalogstore.Schedule {
	return catalogstore.Schedule{ID: id, MessageID: msg, TokenID: "tok-" + msg, WAID: waID, UserID: bsuid, StartDate: "2025-03-17",
		EndDate: "2025-03-30", Weekdays: []string{"mon", "wed", "fri"}, TimeOfDay: "18:30", DurationMinutes: 45,
		TimeZone: "Europe/Paris", Title: "Natation 🏊", Notes: "Bring a towel"}
}

// occurrences returns n weekly sessions of 45 minutes from slot, newest
// first, so that a store must sort them.
func occurrences(n int) []catalogstore.Occurrence {
	out := make([]catalogstore.Occurrence, n)
	for i := range n {
		start := slot.Add(time.Duration(n-1-i) * 7 * 24 * time.Hour)
		out[i] = catalogstore.Occurrence{Start: start, End: start.Add(45 * time.Minute)}
	}
	return out
}

func mustOccurrences(t *testing.T, s Store, id string) []catalogstore.Occurrence {
	t.Helper()
	occ, err := s.Occurrences(ctx, id)
	if err != nil {
		t.Fatalf("Occurrences(%s): %v", id, err)
	}
	return occ
}

func mustSchedules(t *testing.T, s Store, waID string) []catalogstore.Schedule {
	t.Helper()
	list, err := s.SchedulesByUser(ctx, waID)
	if err != nil {
		t.Fatalf("SchedulesByUser(%s): %v", waID, err)
	}
	return list
}

func testScheduleRoundTrip(t *testing.T, s Store, clock *storetest.Clock) {
	sc := schedule("SC-1", "wamid.1", "u1")
	occ := occurrences(3)
	occ[0].ScheduleID = "SC-1" // set or left empty: both mean this schedule
	occ[1].Start = occ[1].Start.In(time.FixedZone("BRT", -3*3600))
	got, created, err := s.SaveSchedule(ctx, sc, occ)
	wantErr(t, "SaveSchedule", err, nil)
	if !created {
		t.Fatal("SaveSchedule of a new schedule returned false")
	}
	sc.CreatedAt = storetest.Epoch
	diff(t, "saved schedule", sc, got)

	stored := mustOccurrences(t, s, "SC-1")
	var want []catalogstore.Occurrence
	for i := range 3 {
		start := slot.Add(time.Duration(i) * 7 * 24 * time.Hour)
		want = append(want, catalogstore.Occurrence{ScheduleID: "SC-1", Start: start, End: start.Add(45 * time.Minute)})
	}
	diff(t, "Occurrences, in time order", want, stored)
	for _, o := range stored {
		if o.Start.Location() != time.UTC || o.End.Location() != time.UTC {
			t.Fatalf("occurrence times outside UTC: %+v", o)
		}
	}

	clock.Advance(time.Minute)
	sc2 := schedule("SC-2", "wamid.2", "u1")
	sc2.Weekdays, sc2.Notes = nil, ""
	sc0 := schedule("SC-0", "wamid.0", "u1")
	sc0.CreatedAt = storetest.Epoch.Add(-time.Hour)
	sc3 := schedule("SC-3", "wamid.3", "u2")
	for _, x := range []catalogstore.Schedule{sc2, sc0, sc3} {
		if _, created, err := s.SaveSchedule(ctx, x, occurrences(1)); err != nil || !created {
			t.Fatalf("SaveSchedule(%s): %v, %v", x.ID, created, err)
		}
	}
	sc2.CreatedAt, sc3.CreatedAt = clock.Now(), clock.Now()
	diff(t, "SchedulesByUser(u1), oldest first", []catalogstore.Schedule{sc0, sc, sc2}, mustSchedules(t, s, "u1"))
	diff(t, "SchedulesByUser(u2)", []catalogstore.Schedule{sc3}, mustSchedules(t, s, "u2"))
	diff(t, "SchedulesByUser(unknown)", []catalogstore.Schedule{}, mustSchedules(t, s, "nobody"))
}

func testScheduleIdempotent(t *testing.T, s Store, clock *storetest.Clock) {
	first, _, err := s.SaveSchedule(ctx, schedule("SC-1", "wamid.1", "u1"), occurrences(2))
	wantErr(t, "SaveSchedule", err, nil)
	firstOcc := mustOccurrences(t, s, "SC-1")
	clock.Advance(time.Minute)
	// A redelivered completion, processed again with a fresh id.
	again, created, err := s.SaveSchedule(ctx, schedule("SC-2", "wamid.1", "u1"), occurrences(5))
	wantErr(t, "SaveSchedule(same message)", err, nil)
	if created {
		t.Fatal("SaveSchedule stored a second schedule for one message")
	}
	diff(t, "schedule returned for the same message", first, again)
	diff(t, "Occurrences after a duplicate", firstOcc, mustOccurrences(t, s, "SC-1"))
	_, err = s.Occurrences(ctx, "SC-2")
	wantErr(t, "Occurrences(id of a duplicate)", err, waflow.ErrNotFound)
	diff(t, "SchedulesByUser", []catalogstore.Schedule{first}, mustSchedules(t, s, "u1"))
}

func testScheduleErrors(t *testing.T, s Store, clock *storetest.Clock) {
	one := occurrences(1)
	withOcc := func(edit func(o []catalogstore.Occurrence)) []catalogstore.Occurrence {
		o := occurrences(2)
		edit(o)
		return o
	}
	for name, tc := range map[string]struct {
		s   catalogstore.Schedule
		occ []catalogstore.Occurrence
	}{
		"no id":                    {schedule("", "wamid.x", "u1"), one},
		"no message id":            {schedule("SC-X", "", "u1"), one},
		"no occurrence":            {schedule("SC-X", "wamid.x", "u1"), nil},
		"occurrence without start": {schedule("SC-X", "wamid.x", "u1"), withOcc(func(o []catalogstore.Occurrence) { o[1].Start = time.Time{} })},
		"end before start":         {schedule("SC-X", "wamid.x", "u1"), withOcc(func(o []catalogstore.Occurrence) { o[0].End = o[0].Start.Add(-time.Minute) })},
		"two at one start":         {schedule("SC-X", "wamid.x", "u1"), withOcc(func(o []catalogstore.Occurrence) { o[1] = o[0] })},
		"another schedule's":       {schedule("SC-X", "wamid.x", "u1"), withOcc(func(o []catalogstore.Occurrence) { o[0].ScheduleID = "SC-Y" })},
	} {
		_, _, err := s.SaveSchedule(ctx, tc.s, tc.occ)
		wantErr(t, "SaveSchedule("+name+")", err, waflow.ErrInvalid)
	}
	diff(t, "SchedulesByUser after refused saves", []catalogstore.Schedule{}, mustSchedules(t, s, "u1"))
	_, err := s.Occurrences(ctx, "SC-X")
	wantErr(t, "Occurrences(refused schedule)", err, waflow.ErrNotFound)

	first, _, err := s.SaveSchedule(ctx, schedule("SC-1", "wamid.1", "u1"), occurrences(2))
	wantErr(t, "SaveSchedule", err, nil)
	_, _, err = s.SaveSchedule(ctx, schedule("SC-1", "wamid.2", "u2"), occurrences(4))
	wantErr(t, "SaveSchedule(id taken)", err, waflow.ErrConflict)
	diff(t, "SchedulesByUser(u2) after a taken id", []catalogstore.Schedule{}, mustSchedules(t, s, "u2"))
	diff(t, "SchedulesByUser(u1)", []catalogstore.Schedule{first}, mustSchedules(t, s, "u1"))
	if occ := mustOccurrences(t, s, "SC-1"); len(occ) != 2 {
		t.Fatalf("a refused SaveSchedule changed SC-1's occurrences: %d, want 2", len(occ))
	}
	_, err = s.Occurrences(ctx, "SC-none")
	wantErr(t, "Occurrences(unknown)", err, waflow.ErrNotFound)
}

// testScheduleAtomic checks that a schedule and its occurrences appear
// together: a reader that sees a schedule finds all its occurrences.
func testScheduleAtomic(t *testing.T, s Store, clock *storetest.Clock) {
	const schedules, each = 8, 60
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := range 2 {
		wg.Go(func() {
			for {
				list, err := s.SchedulesByUser(ctx, "u1")
				if err != nil {
					t.Errorf("reader %d: SchedulesByUser: %v", r, err)
					return
				}
				for _, sc := range list {
					occ, err := s.Occurrences(ctx, sc.ID)
					if err != nil || len(occ) != each {
						t.Errorf("reader %d saw schedule %s with %d of its %d occurrences (%v)", r, sc.ID, len(occ), each, err)
						return
					}
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	for i := range schedules {
		if _, _, err := s.SaveSchedule(ctx, schedule(fmt.Sprintf("SC-%d", i), fmt.Sprintf("wamid.%d", i), "u1"), occurrences(each)); err != nil {
			t.Errorf("SaveSchedule(SC-%d): %v", i, err)
		}
	}
	close(done)
	wg.Wait()
}

func testScheduleConcurrent(t *testing.T, s Store, clock *storetest.Clock) {
	const n = 12
	got := make([]catalogstore.Schedule, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			got[i], created[i], err = s.SaveSchedule(ctx, schedule(fmt.Sprintf("SC-%02d", i), "wamid.same", "u1"), occurrences(1+i))
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if created[i] {
			if winner >= 0 {
				t.Fatalf("callers %d and %d both stored a schedule for one message", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no concurrent SaveSchedule stored the schedule")
	}
	for i := range n {
		if got[i].ID != got[winner].ID {
			t.Errorf("caller %d got schedule %s, the stored one is %s", i, got[i].ID, got[winner].ID)
		}
	}
	if occ := mustOccurrences(t, s, got[winner].ID); len(occ) != 1+winner {
		t.Fatalf("the stored schedule has %d occurrences, want the winner's %d", len(occ), 1+winner)
	}
	if list := mustSchedules(t, s, "u1"); len(list) != 1 {
		t.Fatalf("%d schedules stored for one message, want 1", len(list))
	}
}

func budget(id, token, waID string) catalogstore.Budget {
	return catalogstore.Budget{ID: id, TokenID: token, WAID: waID, Currency: "BRL", Period: "monthly", TotalCents: 500000,
		Limits: map[string]int64{"food": 150000, "transport": 80000, "fun": 0}, AlertThreshold: 80, Alerts: true}
}

func mustBudgets(t *testing.T, s Store, waID string) []catalogstore.Budget {
	t.Helper()
	list, err := s.BudgetsByUser(ctx, waID)
	if err != nil {
		t.Fatalf("BudgetsByUser(%s): %v", waID, err)
	}
	return list
}

func testBudgetRoundTrip(t *testing.T, s Store, clock *storetest.Clock) {
	b1 := budget("BU-1", "tok-1", "u1")
	got, created, err := s.SaveBudget(ctx, b1)
	wantErr(t, "SaveBudget", err, nil)
	if !created {
		t.Fatal("SaveBudget of a new budget returned false")
	}
	b1.CreatedAt = storetest.Epoch
	diff(t, "saved budget", b1, got)
	b1.Limits["food"] = 1 // the store keeps its own copy
	if got.Limits["food"] != 150000 {
		t.Fatal("SaveBudget returned the caller's Limits map, not a copy")
	}
	b1.Limits["food"] = 150000

	clock.Advance(time.Minute)
	b2 := budget("BU-2", "tok-2", "u1")
	b2.Limits, b2.Alerts, b2.Period = nil, false, ""
	b0 := budget("BU-0", "tok-0", "u1")
	b0.CreatedAt = storetest.Epoch.Add(-time.Hour)
	b0.Limits = map[string]int64{"rent": 250000}
	b3 := budget("BU-3", "tok-3", "u2")
	for _, b := range []catalogstore.Budget{b2, b0, b3} {
		if _, created, err := s.SaveBudget(ctx, b); err != nil || !created {
			t.Fatalf("SaveBudget(%s): %v, %v", b.ID, created, err)
		}
	}
	b2.CreatedAt, b3.CreatedAt = clock.Now(), clock.Now()
	diff(t, "BudgetsByUser(u1), oldest first", []catalogstore.Budget{b0, b1, b2}, mustBudgets(t, s, "u1"))
	diff(t, "BudgetsByUser(u2)", []catalogstore.Budget{b3}, mustBudgets(t, s, "u2"))
	diff(t, "BudgetsByUser(unknown)", []catalogstore.Budget{}, mustBudgets(t, s, "nobody"))
}

func testBudgetIdempotent(t *testing.T, s Store, clock *storetest.Clock) {
	first, _, err := s.SaveBudget(ctx, budget("BU-1", "tok-1", "u1"))
	wantErr(t, "SaveBudget", err, nil)
	clock.Advance(time.Minute)
	other := budget("BU-2", "tok-1", "u1")
	other.TotalCents, other.Limits = 1, map[string]int64{"x": 1}
	again, created, err := s.SaveBudget(ctx, other)
	wantErr(t, "SaveBudget(same token)", err, nil)
	if created {
		t.Fatal("SaveBudget stored a second budget for one token")
	}
	diff(t, "budget returned for the same token, with its limits", first, again)
	diff(t, "BudgetsByUser", []catalogstore.Budget{first}, mustBudgets(t, s, "u1"))
}

func testBudgetErrors(t *testing.T, s Store, clock *storetest.Clock) {
	edit := func(f func(b *catalogstore.Budget)) catalogstore.Budget {
		b := budget("BU-X", "tok-x", "u1")
		f(&b)
		return b
	}
	for name, b := range map[string]catalogstore.Budget{
		"no id":          edit(func(b *catalogstore.Budget) { b.ID = "" }),
		"no token":       edit(func(b *catalogstore.Budget) { b.TokenID = "" }),
		"no currency":    edit(func(b *catalogstore.Budget) { b.Currency = "" }),
		"zero total":     edit(func(b *catalogstore.Budget) { b.TotalCents = 0 }),
		"negative total": edit(func(b *catalogstore.Budget) { b.TotalCents = -5 }),
		"negative limit": edit(func(b *catalogstore.Budget) { b.Limits["food"] = -1 }),
		"empty category": edit(func(b *catalogstore.Budget) { b.Limits[""] = 100 }),
	} {
		_, _, err := s.SaveBudget(ctx, b)
		wantErr(t, "SaveBudget("+name+")", err, waflow.ErrInvalid)
	}
	diff(t, "BudgetsByUser after refused saves", []catalogstore.Budget{}, mustBudgets(t, s, "u1"))

	first, _, err := s.SaveBudget(ctx, budget("BU-1", "tok-1", "u1"))
	wantErr(t, "SaveBudget", err, nil)
	_, _, err = s.SaveBudget(ctx, budget("BU-1", "tok-2", "u2"))
	wantErr(t, "SaveBudget(id taken)", err, waflow.ErrConflict)
	diff(t, "BudgetsByUser(u2) after a taken id", []catalogstore.Budget{}, mustBudgets(t, s, "u2"))
	diff(t, "BudgetsByUser(u1)", []catalogstore.Budget{first}, mustBudgets(t, s, "u1"))
}

func testBudgetConcurrent(t *testing.T, s Store, clock *storetest.Clock) {
	const n = 20
	got := make([]catalogstore.Budget, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b := budget(fmt.Sprintf("BU-%02d", i), "tok-same", "u1")
			b.Limits = map[string]int64{fmt.Sprintf("cat-%02d", i): int64(i)}
			var err error
			got[i], created[i], err = s.SaveBudget(ctx, b)
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if created[i] {
			winners++
		}
		diff(t, fmt.Sprintf("budget returned to caller %d", i), got[0], got[i])
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent SaveBudget calls for one token stored a budget, want 1", winners, n)
	}
	diff(t, "BudgetsByUser", []catalogstore.Budget{got[0]}, mustBudgets(t, s, "u1"))
}

func testCatalogClosed(t *testing.T, s Store, clock *storetest.Clock) {
	mustBook(t, s, booking("BK-1", "tok-1", slot), 1)
	wantErr(t, "Close", s.Close(), nil)
	for name, call := range map[string]func() error{
		"BookingCounts":  func() error { _, err := s.BookingCounts(ctx, slot, slot.Add(time.Hour)); return err },
		"Book":           func() error { _, _, err := s.Book(ctx, booking("BK-2", "tok-2", slot), 2); return err },
		"BookingByRef":   func() error { _, err := s.BookingByRef(ctx, "BK-1"); return err },
		"SaveExpense":    func() error { _, _, err := s.SaveExpense(ctx, expense("EX-1", "tok-1", "u1", 1)); return err },
		"ExpensesByUser": func() error { _, err := s.ExpensesByUser(ctx, "u1"); return err },
		"SaveSurveyResponse": func() error {
			_, err := s.SaveSurveyResponse(ctx, surveyResponse("wamid.1", 4))
			return err
		},
		"SurveyResponses": func() error {
			_, err := s.SurveyResponses(ctx, storetest.Epoch, storetest.Epoch.Add(time.Hour))
			return err
		},
		"Preferences": func() error { _, err := s.Preferences(ctx, "u1"); return err },
		"SavePreferences": func() error {
			return s.SavePreferences(ctx, catalogstore.CalendarPreferences{WAID: "u1", TimeZone: "UTC"})
		},
		"SaveSchedule": func() error {
			_, _, err := s.SaveSchedule(ctx, schedule("SC-1", "wamid.1", "u1"), occurrences(1))
			return err
		},
		"Occurrences":     func() error { _, err := s.Occurrences(ctx, "SC-1"); return err },
		"SchedulesByUser": func() error { _, err := s.SchedulesByUser(ctx, "u1"); return err },
		"SaveBudget":      func() error { _, _, err := s.SaveBudget(ctx, budget("BU-1", "tok-1", "u1")); return err },
		"BudgetsByUser":   func() error { _, err := s.BudgetsByUser(ctx, "u1"); return err },
		"CancelBooking":   func() error { _, err := s.CancelBooking(ctx, "BK-1", slot); return err },
		"BookingsStarting": func() error {
			_, err := s.BookingsStarting(ctx, slot, slot.Add(time.Hour))
			return err
		},
		"SessionsStarting": func() error {
			_, err := s.SessionsStarting(ctx, slot, slot.Add(time.Hour))
			return err
		},
		"DigestSubscribers": func() error { _, err := s.DigestSubscribers(ctx); return err },
		"NoteInbound":       func() error { return s.NoteInbound(ctx, "u1", slot) },
		"LastInbound":       func() error { _, err := s.LastInbound(ctx, "u1"); return err },
	} {
		wantErr(t, name+" after Close", call(), waflow.ErrClosed)
	}
}

// BookingAcrossStores checks what Book promises to processes sharing one
// database: stores are separate handles on the same, empty database (each
// with its own connections, as two "waflow serve" replicas have). Callers
// spread over the stores book one slot of capacity 3: exactly three get a
// seat, each a different one; and one flow token submitted to every store
// at once gets one booking.
func BookingAcrossStores(t *testing.T, stores ...catalogstore.Store) {
	t.Helper()
	if len(stores) < 2 {
		t.Fatalf("BookingAcrossStores needs at least two stores, got %d", len(stores))
	}
	const callers, capacity = 60, 3
	type result struct {
		b       catalogstore.Booking
		created bool
		err     error
	}
	results := make([]result, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			b, created, err := s.Book(ctx, booking(fmt.Sprintf("BK-%02d", i), fmt.Sprintf("tok-%02d", i), slot), capacity)
			results[i] = result{b, created, err}
		})
	}
	close(start)
	wg.Wait()
	seats := map[int]string{}
	for i, r := range results {
		switch {
		case r.err == nil && r.created:
			if other, dup := seats[r.b.Seat]; dup {
				t.Fatalf("seat %d given to %s and %s by stores sharing one database", r.b.Seat, other, r.b.Ref)
			}
			seats[r.b.Seat] = r.b.Ref
		case errors.Is(r.err, catalogstore.ErrSlotFull):
		default:
			t.Fatalf("caller %d: created %v, %v; want a booking or ErrSlotFull", i, r.created, r.err)
		}
	}
	if len(seats) != capacity {
		t.Fatalf("callers on %d stores made %d bookings of %d seats (%v), want %d", len(stores), len(seats), capacity, seats, capacity)
	}
	for _, s := range stores {
		diff(t, "BookingCounts seen by each store", map[time.Time]int{slot: capacity}, counts(t, s, slot, slot.Add(time.Hour)))
	}

	// As many seats as callers: a caller that loses a race on one store
	// takes the next seat, never ErrSlotFull.
	roomy := slot.Add(2 * time.Hour)
	const everyone = 24
	errs := make([]error, everyone)
	for i := range everyone {
		s := stores[i%len(stores)]
		wg.Go(func() {
			_, _, errs[i] = s.Book(ctx, booking(fmt.Sprintf("BK-A%02d", i), fmt.Sprintf("tok-A%02d", i), roomy), everyone)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d of %d booking %d seats: %v", i, everyone, everyone, err)
		}
	}
	diff(t, "BookingCounts of the roomy slot", map[time.Time]int{roomy: everyone}, counts(t, stores[0], roomy, roomy.Add(time.Hour)))

	// One token, submitted to every store at once (a retried request that
	// lands on another replica): one booking.
	later := slot.Add(time.Hour) // a slot of its own
	replays := make([]result, 4*len(stores))
	for i := range replays {
		s := stores[i%len(stores)]
		wg.Go(func() {
			b, created, err := s.Book(ctx, booking(fmt.Sprintf("BK-R%02d", i), "tok-replayed", later), capacity)
			replays[i] = result{b, created, err}
		})
	}
	wg.Wait()
	made := 0
	for i, r := range replays {
		if r.err != nil {
			t.Fatalf("replay %d: %v", i, r.err)
		}
		if r.created {
			made++
		}
		if r.b.Ref != replays[0].b.Ref {
			t.Fatalf("replay %d got booking %s, replay 0 got %s", i, r.b.Ref, replays[0].b.Ref)
		}
	}
	if made != 1 {
		t.Fatalf("one token submitted to %d stores made %d bookings, want 1", len(stores), made)
	}
}
