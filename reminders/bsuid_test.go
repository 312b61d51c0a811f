package reminders_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/storetest"
)

// A user known by a business-scoped user id alone (no phone number) is
// reminded of their booking once, at the BSUID (protocol.md 4.2): as text
// inside their 24-hour window, as the template outside it.
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
	if enqueued != 2 {
		t.Errorf("ticks enqueued %d reminders, want 2 (one per booking)", enqueued)
	}
	for ref, want := range map[string]struct{ to, typ string }{"BK-IN": {in, "text"}, "BK-OUT": {out, "template"}} {
		m, p := message(t, st, "reminder:booking:"+ref)
		var addr struct {
			To        string `json:"to"`
			Recipient string `json:"recipient"`
		}
		if err := json.Unmarshal(m.Payload, &addr); err != nil {
			t.Fatal(err)
		}
		if m.To != want.to || addr.Recipient != want.to || addr.To != "" || p.Type != want.typ {
			t.Errorf("%s reminder: outbox to %q, payload %s; want a %s to recipient %s", ref, m.To, m.Payload, want.typ, want.to)
		}
	}
	if all := outbox(t, st); len(all) != 2 {
		t.Errorf("outbox holds %d messages, want the two reminders", len(all))
	}
}

func TestBSUIDOnlyUserRemindedSQLite(t *testing.T) {
	bsuidReminded(t, openSQLite(t, nil))
}

func TestBSUIDOnlyUserRemindedPostgres(t *testing.T) {
	bsuidReminded(t, openPostgres(t, 1)[0])
}
