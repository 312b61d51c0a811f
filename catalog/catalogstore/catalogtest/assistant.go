package catalogtest

import (
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/storetest"
)

// The catalog assistant's store (catalogstore.AssistantStore).

func testAssistantCancel(t *testing.T, s Store, clock *storetest.Clock) {
	mustBook(t, s, booking("BK-1", "tok-1", slot), 2)
	mustBook(t, s, booking("BK-2", "tok-2", slot), 2)
	mustBook(t, s, booking("BK-3", "tok-3", slot.Add(time.Hour)), 2)
	mustBook(t, s, booking("BK-4", "tok-4", slot.Add(2*time.Hour)), 2) // outside [from, to)

	at := clock.Now().Add(time.Minute)
	got, err := s.CancelBooking(ctx, "BK-2", at)
	wantErr(t, "CancelBooking(BK-2)", err, nil)
	if !got.CancelledAt.Equal(catalogstore.StoredTime(at)) || got.Ref != "BK-2" {
		t.Errorf("CancelBooking(BK-2) = %s cancelled at %v, want cancelled at %v", got.Ref, got.CancelledAt, at)
	}
	again, err := s.CancelBooking(ctx, "BK-2", at.Add(time.Hour))
	wantErr(t, "CancelBooking(BK-2) again", err, nil)
	if !again.CancelledAt.Equal(got.CancelledAt) {
		t.Errorf("a second CancelBooking moved CancelledAt from %v to %v; the first one stands", got.CancelledAt, again.CancelledAt)
	}
	read, err := s.BookingByRef(ctx, "BK-2")
	wantErr(t, "BookingByRef(BK-2)", err, nil)
	diff(t, "BookingByRef after CancelBooking", read, again)
	_, err = s.CancelBooking(ctx, "BK-404", at)
	wantErr(t, "CancelBooking(unknown)", err, waflow.ErrNotFound)

	list, err := s.BookingsStarting(ctx, slot, slot.Add(2*time.Hour))
	wantErr(t, "BookingsStarting", err, nil)
	var refs []string
	for _, b := range list {
		refs = append(refs, b.Ref)
	}
	diff(t, "BookingsStarting leaves out cancelled and later bookings", refs, []string{"BK-1", "BK-3"})
}

func testAssistantSessions(t *testing.T, s Store, clock *storetest.Clock) {
	if _, _, err := s.SaveSchedule(ctx, schedule("SC-1", "wamid.1", "u1"), occurrences(3)); err != nil {
		t.Fatal(err)
	}
	sc := schedule("SC-2", "wamid.2", "")
	sc.Title = "Yoga" // of a user known by a BSUID alone
	if _, _, err := s.SaveSchedule(ctx, sc, []catalogstore.Occurrence{{Start: slot.Add(time.Hour), End: slot.Add(2 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SessionsStarting(ctx, slot, slot.Add(8*24*time.Hour))
	wantErr(t, "SessionsStarting", err, nil)
	want := []catalogstore.Session{
		{Occurrence: catalogstore.Occurrence{ScheduleID: "SC-1", Start: slot, End: slot.Add(45 * time.Minute)}, WAID: "u1", UserID: bsuid, Title: "Natation 🏊", TimeZone: "Europe/Paris"},
		{Occurrence: catalogstore.Occurrence{ScheduleID: "SC-2", Start: slot.Add(time.Hour), End: slot.Add(2 * time.Hour)}, UserID: bsuid, Title: "Yoga", TimeZone: "Europe/Paris"},
		{Occurrence: catalogstore.Occurrence{ScheduleID: "SC-1", Start: slot.Add(7 * 24 * time.Hour), End: slot.Add(7*24*time.Hour + 45*time.Minute)}, WAID: "u1", UserID: bsuid, Title: "Natation 🏊", TimeZone: "Europe/Paris"},
	}
	diff(t, "SessionsStarting", got, want)
}

func testAssistantDigest(t *testing.T, s Store, clock *storetest.Clock) {
	for _, p := range []catalogstore.CalendarPreferences{
		{WAID: "u2", Notifications: []string{"reminders"}, LeadMinutes: 60, TimeZone: "Asia/Kolkata", Digest: true},
		{WAID: "u1", Notifications: []string{}, LeadMinutes: 15, TimeZone: "Europe/Paris", Digest: false},
		{WAID: "u0", Notifications: []string{}, LeadMinutes: 5, TimeZone: "UTC", Digest: true},
	} {
		wantErr(t, "SavePreferences", s.SavePreferences(ctx, p), nil)
	}
	got, err := s.DigestSubscribers(ctx)
	wantErr(t, "DigestSubscribers", err, nil)
	var ids []string
	for _, p := range got {
		ids = append(ids, p.WAID)
	}
	diff(t, "DigestSubscribers", ids, []string{"u0", "u2"})
	if got[1].TimeZone != "Asia/Kolkata" || got[1].LeadMinutes != 60 {
		t.Errorf("DigestSubscribers()[1] = %+v, want u2's preferences", got[1])
	}
}

func testAssistantInbound(t *testing.T, s Store, clock *storetest.Clock) {
	got, err := s.LastInbound(ctx, "u1")
	wantErr(t, "LastInbound(never)", err, nil)
	if !got.IsZero() {
		t.Errorf("LastInbound(never) = %v, want the zero time", got)
	}
	t1 := clock.Now()
	wantErr(t, "NoteInbound", s.NoteInbound(ctx, "u1", t1.Add(time.Hour)), nil)
	wantErr(t, "NoteInbound (older, arrives late)", s.NoteInbound(ctx, "u1", t1), nil)
	got, err = s.LastInbound(ctx, "u1")
	wantErr(t, "LastInbound", err, nil)
	if !got.Equal(t1.Add(time.Hour)) {
		t.Errorf("LastInbound = %v, want the latest time told, %v", got, t1.Add(time.Hour))
	}
	wantErr(t, "NoteInbound(no user)", s.NoteInbound(ctx, "", t1), waflow.ErrInvalid)
	wantErr(t, "NoteInbound(zero time)", s.NoteInbound(ctx, "u1", time.Time{}), waflow.ErrInvalid)
}
