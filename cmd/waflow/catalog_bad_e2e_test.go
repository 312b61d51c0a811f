package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

// errorOn asserts that a is screen again with error_message containing msg
// and, when field is set, the field's bound error.
func errorOn(t *testing.T, a answer, screen, msg, field, fieldMsg string) {
	t.Helper()
	if a.Status != 200 || a.Screen != screen {
		t.Fatalf("want %s with an error, got %d %q %v", screen, a.Status, a.Screen, a.Body)
	}
	if got := str(a.Data["error_message"]); !strings.Contains(got, msg) {
		t.Fatalf("error_message = %q, want it to say %q", got, msg)
	}
	if field != "" {
		if got := str(a.Data[field]); !strings.Contains(got, fieldMsg) {
			t.Fatalf("%s = %q, want %q (data %v)", field, got, fieldMsg, a.Data)
		}
	}
}

func TestCatalogBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the waflow binary")
	}
	env := newE2EEnv(t, "")
	s := env.start()
	ctx := context.Background()

	t.Run("appointment_booking", func(t *testing.T) {
		tok := env.issue("appointment_booking", e2eUser)
		errorOn(t, s.step("appointment_booking", tok, "data_exchange", "DETAILS", map[string]any{"name": "Ada", "reason": "Hi!"}),
			"DETAILS", "reason", "", "")
		errorOn(t, s.step("appointment_booking", tok, "data_exchange", "DETAILS", map[string]any{"name": "Ada", "reason": strings.Repeat("a", 10000)}),
			"DETAILS", "reason", "", "")
		a := s.step("appointment_booking", tok, "data_exchange", "DETAILS", map[string]any{"name": "Ada", "reason": "Check up"})
		day := firstFreeDate(t, a)
		errorOn(t, s.step("appointment_booking", tok, "data_exchange", "DATE", map[string]any{"date": "2031-01-01"}), "DATE", "date", "", "")
		for _, forged := range []string{"03:00", "09:07", ""} {
			errorOn(t, s.step("appointment_booking", tok, "data_exchange", "TIME", map[string]any{"date": day, "time": forged, "reminder": false, "name": "Ada", "reason": "Check up"}),
				"TIME", "", "", "")
		}
		// A reason that the DETAILS screen would refuse, smuggled into the
		// final submission.
		a = s.step("appointment_booking", tok, "data_exchange", "DATE", map[string]any{"date": day})
		slot := a.Data["slots"].([]any)[0].(map[string]any)["id"].(string)
		errorOn(t, s.step("appointment_booking", tok, "data_exchange", "TIME", map[string]any{"date": day, "time": slot, "reminder": false, "name": "Ada", "reason": "<script>"}),
			"TIME", "reason", "", "")
		if counts, _ := env.store.BookingCounts(ctx, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0)); len(counts) != 0 {
			t.Fatalf("bad input stored bookings: %v", counts)
		}
	})

	t.Run("expense_entry", func(t *testing.T) {
		tok := env.issue("expense_entry", e2eUser)
		for _, c := range []struct{ amount, want string }{
			{"-5", "Must be more than 0"},
			{"0", "Must be more than 0"},
			{"1e9", ""},
			{"12.345", "At most 2 decimals"},
			{"abc", ""},
			{"20000", "At most 10000"},
		} {
			a := s.step("expense_entry", tok, "data_exchange", "EXPENSE", map[string]any{"amount": c.amount, "category": "food", "description": ""})
			errorOn(t, a, "EXPENSE", "", "amount_error", c.want)
			if str(a.Data["amount_error"]) == "" {
				t.Fatalf("amount %q: no error on the amount field: %v", c.amount, a.Data)
			}
		}
		errorOn(t, s.step("expense_entry", tok, "data_exchange", "EXPENSE", map[string]any{"amount": "10", "category": "caviar", "description": ""}),
			"EXPENSE", "category", "category_error", "")
		errorOn(t, s.step("expense_entry", tok, "data_exchange", "EXPENSE", map[string]any{"amount": "10", "category": "food", "description": strings.Repeat("x", 10000)}),
			"EXPENSE", "description", "description_error", "")
		errorOn(t, s.step("expense_entry", tok, "data_exchange", "EXPENSE", map[string]any{"amount": "10", "category": "food", "description": "", "extra": "x"}),
			"EXPENSE", "", "", "")
		if list, _ := env.store.ExpensesByUser(ctx, e2eUser); len(list) != 0 {
			t.Fatalf("bad input stored expenses: %+v", list)
		}
	})

	t.Run("calendar_preferences", func(t *testing.T) {
		tok := env.issue("calendar_preferences", e2eUser)
		errorOn(t, s.step("calendar_preferences", tok, "data_exchange", "PREFERENCES", map[string]any{"notifications": []any{}, "lead_time": "15", "timezone": "Mars/Olympus_Mons", "digest": false}),
			"PREFERENCES", "Time zone", "timezone_error", "Unknown time zone")
		errorOn(t, s.step("calendar_preferences", tok, "data_exchange", "PREFERENCES", map[string]any{"notifications": []any{"spam"}, "lead_time": "15", "timezone": "UTC", "digest": false}),
			"PREFERENCES", "notifications", "", "")
		errorOn(t, s.step("calendar_preferences", tok, "data_exchange", "PREFERENCES", map[string]any{"notifications": []any{}, "lead_time": "7", "timezone": "UTC", "digest": false}),
			"PREFERENCES", "lead_time", "", "")
		if _, err := env.store.Preferences(ctx, e2eUser); err == nil {
			t.Fatal("bad input stored preferences")
		}
	})

	t.Run("multi_day_schedule", func(t *testing.T) {
		tok := env.issue("multi_day_schedule", e2eUser)
		a := s.step("multi_day_schedule", tok, "INIT", "", nil)
		start, _ := time.Parse(time.DateOnly, str(a.Data["min_date"]))
		long := map[string]any{"start-date": start.Format(time.DateOnly), "end-date": start.AddDate(0, 0, 40).Format(time.DateOnly)}
		errorOn(t, s.step("multi_day_schedule", tok, "data_exchange", "RANGE", map[string]any{"range": long}), "RANGE", "", "", "")
		rng := map[string]any{"start-date": start.Format(time.DateOnly), "end-date": start.AddDate(0, 0, 2).Format(time.DateOnly)}
		errorOn(t, s.step("multi_day_schedule", tok, "data_exchange", "WEEKDAYS", map[string]any{"range": rng, "weekdays": []any{"funday"}}), "WEEKDAYS", "", "", "")
		errorOn(t, s.step("multi_day_schedule", tok, "data_exchange", "DETAILS", map[string]any{
			"range": long, "weekdays": []any{"mon"}, "time_of_day": "09:00", "duration": "60", "title": "Too long", "notes": ""}), "DETAILS", "", "", "")
		// A completion the endpoint never reviewed: too long, not confirmed.
		status, wamid := s.complete(tok, e2eUser, map[string]any{
			"start_date": long["start-date"], "end_date": long["end-date"], "weekdays": []any{"mon"},
			"time_of_day": "09:00", "duration": "60", "title": "Too long", "notes": "", "confirmed": true})
		if status != 200 {
			t.Fatalf("webhook status %d", status)
		}
		// Kept, as rejected.
		if ev, c := env.waitHandled(wamid); ev.State != waflow.InboxRejected || c == nil || c.Status != waflow.CompletionRejected {
			t.Fatalf("invalid completion: event %s, completion %+v", ev.State, c)
		}
		if list, _ := env.store.SchedulesByUser(ctx, e2eUser); len(list) != 0 {
			t.Fatalf("bad input stored schedules: %+v", list)
		}
	})

	t.Run("budget_setup", func(t *testing.T) {
		tok := env.issue("budget_setup", e2eUser)
		b := map[string]any{"categories": []any{"housing", "food"}, "currency": "EUR", "period": "monthly", "total_limit": "1000"}
		errorOn(t, s.step("budget_setup", tok, "data_exchange", "BUDGET", map[string]any{"categories": []any{"housing"}, "currency": "EUR", "period": "monthly", "total_limit": "-3"}),
			"BUDGET", "Total limit", "total_limit_error", "positive")
		errorOn(t, s.step("budget_setup", tok, "data_exchange", "BUDGET", map[string]any{"categories": []any{"yachts"}, "currency": "EUR", "period": "monthly", "total_limit": "10"}),
			"BUDGET", "categories", "", "")
		errorOn(t, s.step("budget_setup", tok, "data_exchange", "BUDGET", map[string]any{"categories": []any{"food"}, "currency": "XXX", "period": "monthly", "total_limit": "10"}),
			"BUDGET", "currency", "", "")
		over := map[string]any{"limit_1": "800", "limit_2": "300", "limit_3": "", "limit_4": "", "limit_5": "", "limit_6": ""}
		for k, v := range b {
			over[k] = v
		}
		a := s.step("budget_setup", tok, "data_exchange", "LIMITS", over)
		errorOn(t, a, "LIMITS", "over the total", "limit_1_error", "exceed the total")
		if a.Data["limit_1_label"] != "Housing" {
			t.Fatalf("the LIMITS screen lost its labels: %v", a.Data)
		}
		hidden := map[string]any{}
		for k, v := range over {
			hidden[k] = v
		}
		hidden["limit_1"], hidden["limit_2"], hidden["limit_5"] = "500", "300", "100"
		errorOn(t, s.step("budget_setup", tok, "data_exchange", "LIMITS", hidden), "LIMITS", "", "limit_5_error", "Not a chosen category")
		if list, _ := env.store.BudgetsByUser(ctx, e2eUser); len(list) != 0 {
			t.Fatalf("bad input stored budgets: %+v", list)
		}
	})

	t.Run("feedback_survey and replayed completions", func(t *testing.T) {
		tok := env.issue("feedback_survey", e2eUser)
		status, wamid := s.complete(tok, e2eUser, map[string]any{"rating": "9", "comments": "", "follow_up": false})
		if status != 200 {
			t.Fatalf("webhook status %d", status)
		}
		if ev, c := env.waitHandled(wamid); ev.State != waflow.InboxRejected || c == nil || c.Status != waflow.CompletionRejected {
			t.Fatalf("forged rating: event %s, completion %+v", ev.State, c)
		}
		good := map[string]any{"rating": "5", "comments": "", "follow_up": false}
		completeAndWait(t, s, tok, good)
		// WhatsApp's duplicate of the same message: acted on once.
		// Another completion with the used token: rejected.
		status, wamid = s.complete(tok, e2eUser, good)
		if ev, _ := env.waitHandled(wamid); status != 200 || ev.State != waflow.InboxRejected {
			t.Fatalf("replayed completion: status %d, event %s", status, ev.State)
		}
		if rs, _ := env.store.SurveyResponses(ctx, time.Time{}, time.Now().Add(time.Hour)); len(rs) != 1 {
			t.Fatalf("survey responses = %d, want 1", len(rs))
		}
	})
}

// postgresE2EURL returns a URL for a fresh schema of the test PostgreSQL
// database, dropped after the test, or skips when none is configured.
func postgresE2EURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("WAFLOW_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("PostgreSQL tests: set WAFLOW_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); .ci/run does")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	schema := "e2e_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// raceForSlot has n sessions, spread over servers, book the same slot at
// once, and checks that exactly one got it and every other one was shown the
// time screen again without that slot.
func raceForSlot(t *testing.T, env *e2eEnv, servers []*e2eServer, n int) {
	t.Helper()
	first := servers[0]
	tok := env.issue("appointment_booking", e2eUser)
	a := first.step("appointment_booking", tok, "data_exchange", "DETAILS", map[string]any{"name": "Probe", "reason": "Probe visit"})
	day := firstFreeDate(t, a)
	a = first.step("appointment_booking", tok, "data_exchange", "DATE", map[string]any{"date": day})
	slot := a.Data["slots"].([]any)[0].(map[string]any)["id"].(string)

	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = env.issue("appointment_booking", fmt.Sprintf("49151000%05d", i))
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = servers[i%len(servers)].step("appointment_booking", tokens[i], "data_exchange", "TIME",
				map[string]any{"date": day, "time": slot, "reminder": false, "name": fmt.Sprintf("Racer %d", i), "reason": "Same slot"})
		}()
	}
	close(start)
	wg.Wait()
	booked, refused := 0, 0
	for i, a := range answers {
		switch {
		case a.Status == 200 && a.Screen == "SUCCESS":
			booked++
		case a.Status == 200 && a.Screen == "TIME" && strings.Contains(str(a.Data["error_message"]), "just taken"):
			for _, o := range a.Data["slots"].([]any) {
				if o.(map[string]any)["id"] == slot {
					t.Fatalf("answer %d offers the taken slot again: %v", i, a.Data)
				}
			}
			refused++
		default:
			t.Fatalf("answer %d: %d %q %v", i, a.Status, a.Screen, a.Body)
		}
	}
	from, _ := time.Parse(time.DateOnly, day)
	counts, err := env.store.BookingCounts(context.Background(), from.Add(-24*time.Hour), from.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if booked != 1 || refused != n-1 || total != 1 {
		t.Fatalf("%d booked, %d refused, %d stored; want 1, %d, 1", booked, refused, total, n-1)
	}
}

func TestBookingRaceSQLite(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the waflow binary")
	}
	env := newE2EEnv(t, "")
	raceForSlot(t, env, []*e2eServer{env.start()}, 50)
}

// TestBookingRacePostgres runs two waflow serve processes on one PostgreSQL
// database, as two replicas behind a load balancer.
func TestBookingRacePostgres(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the waflow binary")
	}
	env := newE2EEnv(t, postgresE2EURL(t))
	raceForSlot(t, env, []*e2eServer{env.start(), env.start()}, 50)
}
