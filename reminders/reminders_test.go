package reminders_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/reminders"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
	"github.com/waflow/waflow/storetest"
)

var ctx = context.Background()

var quiet = slog.New(slog.DiscardHandler)

// store is what the tests need of a driver.
type store interface {
	reminders.Store
	catalogstore.Store
	ClaimOutbox(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.OutboxMessage, error)
}

func openSQLite(t testing.TB, now func() time.Time) store {
	t.Helper()
	db, err := sqlite.Open(ctx, sqlitetest.Path(t), sqlite.Options{Now: now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens n stores on one new schema, as n replicas would.
func openPostgres(t *testing.T, n int) []store {
	t.Helper()
	url := storetest.PostgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "waflow_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	var out []store
	for range n {
		db, err := postgres.Open(ctx, url, postgres.Options{Schema: schema, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out = append(out, db)
	}
	return out
}

var kolkata = mustLoad("Asia/Kolkata")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// The booking of the reminder tests: 10:00 "tomorrow" in Kolkata. The
// dates are in the past of any real clock, so that the outbox (which reads
// the database's clock) finds the messages due.
var (
	start = time.Date(2025, 3, 18, 10, 0, 0, 0, kolkata)
	today = time.Date(2025, 3, 17, 12, 0, 0, 0, kolkata)
)

func config(st reminders.Store, now func() time.Time) reminders.Config {
	return reminders.Config{
		Store: st, Reminders: true, Location: time.UTC,
		BookingLead: 24 * time.Hour, MaxLead: 24 * time.Hour, SessionsByDefault: true,
		ReminderTemplate: reminders.Template{Name: "appointment_reminder", Language: "en_US"},
		DigestTemplate:   reminders.Template{Name: "weekly_digest", Language: "en_US"},
		DigestDay:        time.Monday, DigestClock: "08:00",
		Titles: map[string]string{"food": "Food and drink", "transport": "Transport"},
		Now:    now, Logger: quiet,
	}
}

func newScheduler(t *testing.T, cfg reminders.Config) *reminders.Scheduler {
	t.Helper()
	s, err := reminders.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func book(t *testing.T, st store, ref, waID string, at time.Time, reminder bool) {
	t.Helper()
	_, _, err := st.Book(ctx, catalogstore.Booking{Ref: ref, TokenID: "tok-" + ref, WAID: waID, Start: at, Reminder: reminder, CreatedAt: today}, 5)
	if err != nil {
		t.Fatal(err)
	}
}

func prefs(t *testing.T, st store, waID string, lead int, tz string, digest bool, kinds ...string) {
	t.Helper()
	if kinds == nil {
		kinds = []string{reminders.ReminderKind}
	}
	err := st.SavePreferences(ctx, catalogstore.CalendarPreferences{WAID: waID, Notifications: kinds, LeadMinutes: lead, TimeZone: tz, Digest: digest, UpdatedAt: today})
	if err != nil {
		t.Fatal(err)
	}
}

// payload is an outbox message's Graph API body.
type payload struct {
	Type string `json:"type"`
	Text struct {
		Body string `json:"body"`
	} `json:"text"`
	Template struct {
		Name       string `json:"name"`
		Components []struct {
			Parameters []struct {
				Text string `json:"text"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
}

func message(t *testing.T, st store, key string) (waflow.OutboxMessage, payload) {
	t.Helper()
	m, err := st.OutboxMessageByKey(ctx, key)
	if err != nil {
		t.Fatalf("OutboxMessageByKey(%s): %v", key, err)
	}
	var p payload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return m, p
}

func noMessage(t *testing.T, st store, key string) {
	t.Helper()
	if m, err := st.OutboxMessageByKey(ctx, key); !errors.Is(err, waflow.ErrNotFound) {
		t.Errorf("OutboxMessageByKey(%s) = %+v, %v; want none", key, m, err)
	}
}

// outbox returns every message in the outbox.
func outbox(t *testing.T, st store) []waflow.OutboxMessage {
	t.Helper()
	ms, err := st.ClaimOutbox(ctx, "test", 1000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// remindedOnce plays the Kolkata booking on stores (replicas sharing one
// database): each replica's scheduler ticks every minute from 08:55 local,
// all of them at once; at 08:59 every replica restarts (a new Scheduler on
// a new store handle from reopen). It checks the reminder is enqueued at
// 09:00 local, once.
func remindedOnce(t *testing.T, stores []store, reopen func(i int) store) {
	clock := storetest.NewClock(time.Date(2025, 3, 18, 8, 55, 0, 0, kolkata))
	first := stores[0]
	book(t, first, "BK-1", "u1", start, true)
	prefs(t, first, "u1", 60, "Asia/Kolkata", false)
	if err := first.NoteInbound(ctx, "u1", time.Date(2025, 3, 18, 8, 0, 0, 0, kolkata)); err != nil {
		t.Fatal(err)
	}
	scheds := make([]*reminders.Scheduler, len(stores))
	for i, st := range stores {
		scheds[i] = newScheduler(t, config(st, clock.Now))
	}
	enqueuedAt := map[string]int{}
	for minute := 0; minute <= 10; minute++ {
		now := clock.Now()
		if now.Equal(time.Date(2025, 3, 18, 8, 59, 0, 0, kolkata)) {
			for i := range stores { // a restart: new handles, new schedulers
				stores[i] = reopen(i)
				scheds[i] = newScheduler(t, config(stores[i], clock.Now))
			}
		}
		var wg sync.WaitGroup
		results := make([]reminders.Result, len(scheds))
		for i, s := range scheds {
			wg.Go(func() {
				r, err := s.Tick(ctx)
				if err != nil {
					t.Errorf("replica %d at %s: %v", i, now.Format("15:04"), err)
				}
				results[i] = r
			})
		}
		wg.Wait()
		for _, r := range results {
			if r.Enqueued > 0 {
				enqueuedAt[now.In(kolkata).Format("15:04")] += r.Enqueued
			}
		}
		clock.Advance(time.Minute)
	}
	if len(enqueuedAt) != 1 || enqueuedAt["09:00"] != 1 {
		t.Errorf("reminders enqueued by local time = %v, want one at 09:00", enqueuedAt)
	}
	m, p := message(t, stores[0], "reminder:booking:BK-1")
	if p.Type != "text" || !strings.Contains(p.Text.Body, "Tuesday 18 March 2025 at 10:00 Asia/Kolkata") || !strings.Contains(p.Text.Body, "BK-1") {
		t.Errorf("reminder = %s, want a text naming 10:00 Asia/Kolkata and BK-1", m.Payload)
	}
	if want := time.Date(2025, 3, 18, 9, 0, 0, 0, kolkata); !m.CreatedAt.Equal(want) {
		t.Errorf("reminder created at %v, want %v", m.CreatedAt.In(kolkata), want)
	}
	if all := outbox(t, stores[0]); len(all) != 1 {
		t.Errorf("outbox holds %d messages, want the one reminder", len(all))
	}
}

func TestReminderAtLeadTimeOnceSQLite(t *testing.T) {
	dir := t.TempDir()
	open := func() store {
		db, err := sqlite.Open(ctx, filepath.Join(dir, "waflow.db"), sqlite.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	stores := []store{open(), open()}
	remindedOnce(t, stores, func(i int) store {
		stores[i].(*sqlite.DB).Close()
		return open()
	})
}

func TestReminderAtLeadTimeOncePostgresReplicas(t *testing.T) {
	stores := openPostgres(t, 4)
	replicas, spare := stores[:2:2], stores[2:]
	remindedOnce(t, replicas, func(i int) store {
		// The restart: the replica's store handle is closed and another
		// one, opened on the same schema, takes its place.
		replicas[i].(*postgres.DB).Close()
		return spare[i]
	})
}

func TestCancelledBookingIsNotReminded(t *testing.T) {
	clock := storetest.NewClock(start.Add(-30 * time.Minute))
	st := openSQLite(t, clock.Now)
	book(t, st, "BK-1", "u1", start, true)
	book(t, st, "BK-2", "u2", start, true)
	book(t, st, "BK-3", "u3", start, false) // did not opt in
	for _, u := range []string{"u1", "u2", "u3"} {
		st.NoteInbound(ctx, u, today)
	}
	if _, err := st.CancelBooking(ctx, "BK-2", clock.Now()); err != nil {
		t.Fatal(err)
	}
	s := newScheduler(t, config(st, clock.Now))
	for range 3 {
		if _, err := s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Minute)
	}
	message(t, st, "reminder:booking:BK-1")
	noMessage(t, st, "reminder:booking:BK-2")
	noMessage(t, st, "reminder:booking:BK-3")
	if all := outbox(t, st); len(all) != 1 {
		t.Errorf("outbox holds %d messages, want only BK-1's reminder", len(all))
	}
}

func TestOutsideServiceWindowGoesAsTemplate(t *testing.T) {
	clock := storetest.NewClock(start.Add(-time.Hour))
	st := openSQLite(t, clock.Now)
	book(t, st, "BK-1", "u1", start, true)
	prefs(t, st, "u1", 60, "Asia/Kolkata", false)
	// The user's last message is 24 hours and one minute old.
	if err := st.NoteInbound(ctx, "u1", clock.Now().Add(-24*time.Hour-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := newScheduler(t, config(st, clock.Now)).Tick(ctx); err != nil {
		t.Fatal(err)
	}
	m, p := message(t, st, "reminder:booking:BK-1")
	if p.Type != "template" || p.Template.Name != "appointment_reminder" || len(p.Template.Components) != 1 {
		t.Fatalf("reminder outside the window = %s, want the appointment_reminder template", m.Payload)
	}
	var params []string
	for _, x := range p.Template.Components[0].Parameters {
		params = append(params, x.Text)
	}
	if want := []string{"your appointment BK-1", "Tuesday 18 March 2025", "10:00 Asia/Kolkata"}; strings.Join(params, "|") != strings.Join(want, "|") {
		t.Errorf("template parameters = %q, want %q", params, want)
	}

	// Without a template nothing can reach the user: nothing is enqueued.
	book(t, st, "BK-2", "u2", start, true)
	cfg := config(st, clock.Now)
	cfg.ReminderTemplate = reminders.Template{}
	res, err := newScheduler(t, cfg).Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 1 || res.Enqueued != 0 {
		t.Errorf("Tick without a template = %+v, want one skipped", res)
	}
	noMessage(t, st, "reminder:booking:BK-2")
}

func TestChangedLeadTimeMovesPendingReminder(t *testing.T) {
	clock := storetest.NewClock(start.Add(-25 * time.Hour))
	st := openSQLite(t, clock.Now)
	book(t, st, "BK-1", "u1", start, true)
	prefs(t, st, "u1", 1440, "Asia/Kolkata", false)
	st.NoteInbound(ctx, "u1", start.Add(-2*time.Hour))
	s := newScheduler(t, config(st, clock.Now))
	tickAt := func(at time.Time) reminders.Result {
		t.Helper()
		for clock.Now().Before(at) {
			clock.Advance(time.Minute)
		}
		r, err := s.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tickAt(start.Add(-24*time.Hour - time.Minute))
	prefs(t, st, "u1", 15, "Asia/Kolkata", false) // the user changes their mind before it is due
	if r := tickAt(start.Add(-24 * time.Hour)); r.Enqueued != 0 {
		t.Errorf("at the old lead time: %+v, want nothing", r)
	}
	if r := tickAt(start.Add(-16 * time.Minute)); r.Enqueued != 0 {
		t.Errorf("16 minutes before: %+v, want nothing", r)
	}
	if r := tickAt(start.Add(-15 * time.Minute)); r.Enqueued != 1 {
		t.Errorf("at the new lead time: %+v, want the reminder", r)
	}
	if r := tickAt(start.Add(-5 * time.Minute)); r.Enqueued != 0 || r.Already != 1 {
		t.Errorf("after it was sent: %+v, want it found already sent", r)
	}
}

func TestSessionReminders(t *testing.T) {
	clock := storetest.NewClock(start.Add(-30 * time.Minute))
	st := openSQLite(t, clock.Now)
	save := func(id, waID string) {
		t.Helper()
		_, _, err := st.SaveSchedule(ctx, catalogstore.Schedule{ID: id, MessageID: "wamid." + id, TokenID: "tok-" + id, WAID: waID,
			StartDate: "2025-03-18", EndDate: "2025-03-19", Weekdays: []string{"tue", "wed"}, TimeOfDay: "10:00", DurationMinutes: 60,
			TimeZone: "Asia/Kolkata", Title: "Swimming"},
			[]catalogstore.Occurrence{{Start: start, End: start.Add(time.Hour)}, {Start: start.AddDate(0, 0, 1), End: start.AddDate(0, 0, 1).Add(time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		st.NoteInbound(ctx, waID, today)
	}
	save("SC-1", "u1") // default preferences: reminders on, 24 hours ahead
	save("SC-2", "u2") // asked for no reminders
	prefs(t, st, "u2", 60, "Asia/Kolkata", false, "new_events")
	if _, err := newScheduler(t, config(st, clock.Now)).Tick(ctx); err != nil {
		t.Fatal(err)
	}
	_, p := message(t, st, "reminder:session:SC-1:"+itoa(start.Unix()))
	if want := "Reminder: Swimming starts on Tuesday 18 March 2025 at 10:00 Asia/Kolkata."; p.Text.Body != want {
		// u1 saved no preferences: the schedule's time zone, not the
		// business's (UTC here).
		t.Errorf("session reminder = %q, want %q", p.Text.Body, want)
	}
	// The next day's session is due 24 hours before it: not yet.
	noMessage(t, st, "reminder:session:SC-1:"+itoa(start.AddDate(0, 0, 1).Unix()))
	noMessage(t, st, "reminder:session:SC-2:"+itoa(start.Unix()))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func bookingFor(ref, waID string, at time.Time) catalogstore.Booking {
	return catalogstore.Booking{Ref: ref, TokenID: "tok-" + ref, WAID: waID, Start: at, Reminder: true, CreatedAt: today}
}

func newSchedulerB(cfg reminders.Config) (*reminders.Scheduler, error) { return reminders.New(cfg) }
