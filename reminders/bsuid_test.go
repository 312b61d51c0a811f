package reminders_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/storetest"
)

// A user known by a business-scoped user id alone (no phone number) is
// reminded of their booking, and of their schedule's session, once, at the
// BSUID (protocol.md 4.2): as text inside their 24-hour window, as the
// template outside it.
func bsuidReminded(t *testing.T, st store) {
	t.Helper()
	clock := storetest.NewClock(start.Add(-30 * time.Minute))
	in, out := "US.13491208655302741918", "US.98765432109876543210"
	for ref, id := range map[string]string{"BK-IN": in, "BK-OUT": out} {
		_, _, err := st.Book(ctx, catalogstore.Booking{Ref: ref, TokenID: "tok-" + ref, UserID: id, Start: start, Reminder: true, CreatedAt: today}, 5)
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := st.SaveSchedule(ctx, catalogstore.Schedule{ID: "SC-IN", MessageID: "wamid.SC-IN", TokenID: "tok-SC-IN", UserID: in,
		StartDate: "2025-03-18", EndDate: "2025-03-18", Weekdays: []string{"tue"}, TimeOfDay: "10:00", DurationMinutes: 60,
		TimeZone: "Asia/Kolkata", Title: "Swimming"}, []catalogstore.Occurrence{{Start: start, End: start.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.NoteInbound(ctx, in, clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.NoteInbound(ctx, out, clock.Now().Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	s := newScheduler(t, config(st, clock.Now))
	enqueued := 0
	for range 3 {
		res, err := s.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		enqueued += res.Enqueued
		clock.Advance(10 * time.Minute)
	}
	if enqueued != 3 {
		t.Errorf("ticks enqueued %d reminders, want 3 (one per booking and session)", enqueued)
	}
	session := "reminder:session:SC-IN:" + itoa(start.Unix())
	for key, want := range map[string]struct{ to, typ string }{
		"reminder:booking:BK-IN": {in, "text"}, "reminder:booking:BK-OUT": {out, "template"}, session: {in, "text"},
	} {
		m, p := message(t, st, key)
		var addr struct {
			To        string `json:"to"`
			Recipient string `json:"recipient"`
		}
		if err := json.Unmarshal(m.Payload, &addr); err != nil {
			t.Fatal(err)
		}
		if m.To != want.to || addr.Recipient != want.to || addr.To != "" || p.Type != want.typ {
			t.Errorf("%s: outbox to %q, payload %s; want a %s to recipient %s", key, m.To, m.Payload, want.typ, want.to)
		}
	}
	if all := outbox(t, st); len(all) != 3 {
		t.Errorf("outbox holds %d messages, want the three reminders", len(all))
	}
}

func TestBSUIDOnlyUserRemindedSQLite(t *testing.T) {
	bsuidReminded(t, openSQLite(t, nil))
}

func TestBSUIDOnlyUserRemindedPostgres(t *testing.T) {
	bsuidReminded(t, openPostgres(t, 1)[0])
}
