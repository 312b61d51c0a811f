package reminders_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/reminders"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// digestUser gives u1 a week: two bookings (one cancelled), two sessions,
// expenses last week and the week before, and a budget; u2 has a booking
// of their own in the same week.
func digestUser(t *testing.T, st store) {
	t.Helper()
	prefs(t, st, "u1", 60, "Europe/Paris", true)
	at := func(day, h, m int) time.Time { return time.Date(2025, 3, day, h, m, 0, 0, paris) }
	book(t, st, "BK-1", "u1", at(18, 10, 0), true)
	book(t, st, "BK-2", "u1", at(19, 9, 0), false)
	book(t, st, "BK-3", "u2", at(18, 11, 0), true)
	book(t, st, "BK-4", "u1", at(24, 8, 0), true) // the week after
	if _, err := st.CancelBooking(ctx, "BK-2", at(16, 12, 0)); err != nil {
		t.Fatal(err)
	}
	_, _, err := st.SaveSchedule(ctx, catalogstore.Schedule{ID: "SC-1", MessageID: "wamid.sc1", TokenID: "tok-SC-1", WAID: "u1",
		StartDate: "2025-03-17", EndDate: "2025-03-28", Weekdays: []string{"wed", "fri"}, TimeOfDay: "18:30", DurationMinutes: 45,
		TimeZone: "Europe/Paris", Title: "Swimming"}, []catalogstore.Occurrence{
		{Start: at(19, 18, 30), End: at(19, 19, 15)}, {Start: at(21, 18, 30), End: at(21, 19, 15)},
		{Start: at(26, 18, 30), End: at(26, 19, 15)}, {Start: at(28, 18, 30), End: at(28, 19, 15)},
	})
	if err != nil {
		t.Fatal(err)
	}
	saveBudget(t, st, "u1")
	for i, e := range []catalogstore.Expense{
		{AmountCents: 4250, Category: "food", CreatedAt: at(10, 12, 30)},
		{AmountCents: 1200, Category: "transport", CreatedAt: at(12, 8, 15)},
		{AmountCents: 1830, Category: "food", CreatedAt: at(16, 20, 0)},
		{AmountCents: 9900, Category: "food", CreatedAt: at(7, 19, 0)}, // the week before: in the month, not in the week
		{AmountCents: 500, Category: "food", CreatedAt: at(17, 8, 30)}, // this week
	} {
		e.ID, e.TokenID, e.WAID, e.Currency = "EX-"+itoa(int64(i)), "tok-EX-"+itoa(int64(i)), "u1", "EUR"
		if _, _, err := st.SaveExpense(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDigestGolden(t *testing.T) {
	clock := storetest.NewClock(time.Date(2025, 3, 17, 8, 0, 0, 0, paris))
	st := openSQLite(t, clock.Now)
	digestUser(t, st)
	cfg := config(st, clock.Now)
	cfg.Digest = true
	d, err := newScheduler(t, cfg).Digest(ctx, "u1", clock.Now(), paris)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "digest.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(d.Text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text+"\n" != string(want) {
		t.Errorf("digest differs from %s (go test -update rewrites it):\n%s", golden, d.Text)
	}
	if len(d.Bookings) != 1 || len(d.Sessions) != 2 || d.SpentText != "EUR 72.80" {
		t.Errorf("digest counts: %d bookings, %d sessions, spent %q; want 1, 2, EUR 72.80", len(d.Bookings), len(d.Sessions), d.SpentText)
	}
}

func TestDigestOnceAWeekAtLocalTime(t *testing.T) {
	clock := storetest.NewClock(time.Date(2025, 3, 17, 7, 58, 0, 0, paris))
	st := openSQLite(t, clock.Now)
	digestUser(t, st)
	prefs(t, st, "u3", 60, "Asia/Kolkata", false) // no digest
	st.NoteInbound(ctx, "u1", time.Date(2025, 3, 16, 20, 0, 0, 0, paris))
	cfg := config(st, clock.Now)
	cfg.Reminders, cfg.Digest = false, true
	s := newScheduler(t, cfg)
	sent := map[string]int{}
	for clock.Now().Before(time.Date(2025, 3, 24, 9, 0, 0, 0, paris)) {
		r, err := s.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Enqueued > 0 {
			sent[clock.Now().In(paris).Format("Mon 2 Jan 15:04")] += r.Enqueued
		}
		clock.Advance(30 * time.Minute)
	}
	if len(sent) != 2 || sent["Mon 17 Mar 08:28"] != 1 || sent["Mon 24 Mar 08:28"] != 1 {
		t.Errorf("digests enqueued at %v, want one on each Monday at the first tick from 08:00", sent)
	}
	m, p := message(t, st, "digest:u1:2025-03-17")
	if p.Type != "text" {
		t.Errorf("digest inside the window = %s, want text", m.Payload)
	}
	// On the 24th the window is closed: the template, with the counts.
	m, p = message(t, st, "digest:u1:2025-03-24")
	if p.Type != "template" || p.Template.Name != "weekly_digest" {
		t.Errorf("digest outside the window = %s, want the weekly_digest template", m.Payload)
	}
}

func TestDigestAfterLongDowntimeIsSkipped(t *testing.T) {
	clock := storetest.NewClock(time.Date(2025, 3, 17, 20, 1, 0, 0, paris)) // 12 hours and a minute late
	st := openSQLite(t, clock.Now)
	digestUser(t, st)
	cfg := config(st, clock.Now)
	cfg.Reminders, cfg.Digest = false, true
	if r, err := newScheduler(t, cfg).Tick(ctx); err != nil || r.Enqueued != 0 {
		t.Errorf("Tick 12 hours after the digest time = %+v, %v; want nothing (a stale digest is not sent)", r, err)
	}
}

func TestNewRefusesBadDigestTime(t *testing.T) {
	for _, clock := range []string{"", "8:00", "24:00", "08:60", "08:00x"} {
		cfg := config(nil, nil)
		cfg.Store = openSQLite(t, nil)
		cfg.Digest, cfg.DigestClock = true, clock
		if _, err := reminders.New(cfg); err == nil {
			t.Errorf("New with digest time %q: no error", clock)
		}
	}
}

// FuzzDigestClock: New accepts exactly the digest times HH:MM of a day.
func FuzzDigestClock(f *testing.F) {
	for _, s := range []string{"08:00", "23:59", "24:00", "8:00", "08:0", "", "aa:bb", "-1:30", "08:00 "} {
		f.Add(s)
	}
	st := openSQLiteFuzz(f)
	f.Fuzz(func(t *testing.T, clock string) {
		cfg := reminders.Config{Store: st, Digest: true, DigestClock: clock}
		_, err := reminders.New(cfg)
		_, perr := time.Parse("15:04", clock)
		if valid := perr == nil && len(clock) == 5; valid != (err == nil) {
			t.Errorf("New(digest time %q): error %v, want valid=%v", clock, err, valid)
		}
	})
}

func openSQLiteFuzz(f *testing.F) store {
	db, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	return db
}
