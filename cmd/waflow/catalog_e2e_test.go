package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// The catalog's flows, each played end to end through the real server:
// signed, encrypted requests screen by screen, the signed completion
// webhook, and the stored rows.

const e2eUser = "4915112345678"

// firstFreeDate returns the first day of a DATE answer that is not
// unavailable.
func firstFreeDate(t *testing.T, a answer) string {
	t.Helper()
	min, _ := time.Parse(time.DateOnly, str(a.Data["min_date"]))
	max, _ := time.Parse(time.DateOnly, str(a.Data["max_date"]))
	var un []string
	for _, d := range a.Data["unavailable_dates"].([]any) {
		un = append(un, d.(string))
	}
	for d := min; !d.After(max); d = d.AddDate(0, 0, 1) {
		if s := d.Format(time.DateOnly); !slices.Contains(un, s) {
			return s
		}
	}
	t.Fatalf("no free date in %v", a.Data)
	return ""
}

func mustScreen(t *testing.T, a answer, screen string) {
	t.Helper()
	if a.Status != 200 || a.Screen != screen {
		t.Fatalf("want screen %s, got %d %q %v", screen, a.Status, a.Screen, a.Body)
	}
	if msg := str(a.Data["error_message"]); msg != "" {
		t.Fatalf("screen %s came with error %q: %v", screen, msg, a.Data)
	}
}

func successParams(t *testing.T, a answer) map[string]any {
	t.Helper()
	if a.Status != 200 || a.Screen != "SUCCESS" {
		t.Fatalf("want SUCCESS, got %d %q %v", a.Status, a.Screen, a.Body)
	}
	emr, _ := a.Data["extension_message_response"].(map[string]any)
	params, _ := emr["params"].(map[string]any)
	if params == nil {
		t.Fatalf("SUCCESS without params: %v", a.Data)
	}
	return params
}

// completeAndWait posts the completion webhook and waits until it is acted
// on; it fails unless the completion was recorded and handled.
func completeAndWait(t *testing.T, s *e2eServer, token string, values map[string]any) *waflow.Completion {
	t.Helper()
	status, wamid := s.complete(token, e2eUser, values)
	if status != 200 {
		t.Fatalf("completion webhook: %d", status)
	}
	ev, c := s.env.waitHandled(wamid)
	if ev.State != waflow.InboxDone || c == nil || c.HandledAt.IsZero() {
		t.Fatalf("completion not acted on: event %s (%s), completion %+v\n%s", ev.State, ev.LastError, c, s.Logs())
	}
	return c
}

func TestCatalogEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the waflow binary")
	}
	env := newE2EEnv(t, "")
	s := env.start()
	ctx := context.Background()

	// A production server does not show the preview, which drives the real
	// handlers, unless WAFLOW_PREVIEW=true.
	if resp, err := http.Get(s.base + "/preview/"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("GET /preview/ on a production server: %v %v, want 404", resp.Status, err)
	}

	t.Run("appointment_booking", func(t *testing.T) {
		tok := env.issue("appointment_booking", e2eUser)
		a := s.step("appointment_booking", tok, "INIT", "", nil)
		mustScreen(t, a, "DETAILS")
		a = s.step("appointment_booking", tok, "data_exchange", "DETAILS", map[string]any{"name": "Ada Lovelace", "reason": "Annual check up"})
		mustScreen(t, a, "DATE")
		day := firstFreeDate(t, a)
		a = s.step("appointment_booking", tok, "data_exchange", "DATE", map[string]any{"date": day})
		mustScreen(t, a, "TIME")
		slot := a.Data["slots"].([]any)[0].(map[string]any)["id"].(string)
		submit := map[string]any{"date": day, "time": slot, "reminder": true, "name": "Ada Lovelace", "reason": "Annual check up"}
		a = s.step("appointment_booking", tok, "data_exchange", "TIME", submit)
		params := successParams(t, a)
		ref := str(params["booking_ref"])
		if !strings.HasPrefix(ref, "BK-") || params["date"] != day || params["time"] != slot || params["flow_token"] != tok {
			t.Fatalf("params = %v", params)
		}
		// A replayed final submission gets the same booking, not a second one.
		if again := successParams(t, s.step("appointment_booking", tok, "data_exchange", "TIME", submit)); again["booking_ref"] != ref {
			t.Fatalf("replay booked again: %v", again)
		}
		c := completeAndWait(t, s, tok, params)
		// The confirmation waits in the outbox (no Graph API here), once,
		// quoting the completion.
		m, err := env.store.OutboxMessageByKey(ctx, "booking:"+ref)
		if err != nil || m.To != e2eUser || !strings.Contains(string(m.Payload), ref) || !strings.Contains(string(m.Payload), "remind you") ||
			!strings.Contains(string(m.Payload), c.MessageID) {
			t.Fatalf("confirmation = %+v (%s), %v", m, m.Payload, err)
		}
		bk, err := env.store.BookingByRef(ctx, ref)
		if err != nil || bk.Name != "Ada Lovelace" || bk.Reason != "Annual check up" || !bk.Reminder || bk.WAID != e2eUser {
			t.Fatalf("booking = %+v, %v", bk, err)
		}
		// The slot is gone for the next user.
		tok2 := env.issue("appointment_booking", "4915100000002")
		a = s.step("appointment_booking", tok2, "data_exchange", "DATE", map[string]any{"date": day})
		for _, o := range a.Data["slots"].([]any) {
			if o.(map[string]any)["id"] == slot {
				t.Fatalf("booked slot %s still offered", slot)
			}
		}
		// The completed session's token is used: the endpoint refuses it.
		if a := s.step("appointment_booking", tok, "INIT", "", nil); a.Status != 427 || !strings.Contains(str(a.Body["error_msg"]), "already submitted") {
			t.Fatalf("used token: %d %v", a.Status, a.Body)
		}
	})

	t.Run("expense_entry", func(t *testing.T) {
		tok := env.issue("expense_entry", e2eUser)
		a := s.step("expense_entry", tok, "INIT", "", nil)
		mustScreen(t, a, "EXPENSE")
		if len(a.Data["categories"].([]any)) != 5 || a.Data["amount_label"] != "Amount (EUR)" {
			t.Fatalf("EXPENSE data = %v", a.Data)
		}
		a = s.step("expense_entry", tok, "data_exchange", "EXPENSE", map[string]any{"amount": "12.50", "category": "food", "description": "Team lunch"})
		mustScreen(t, a, "SAVED")
		id := str(a.Data["expense_id"])
		if !strings.HasPrefix(id, "EX-") || a.Data["amount_text"] != "EUR 12.50" || a.Data["category_title"] != "Food and drink" {
			t.Fatalf("SAVED data = %v", a.Data)
		}
		completeAndWait(t, s, tok, map[string]any{"expense_id": id})
		list, err := env.store.ExpensesByUser(ctx, e2eUser)
		if err != nil || len(list) != 1 || list[0].AmountCents != 1250 || list[0].Category != "food" || list[0].Description != "Team lunch" {
			t.Fatalf("expenses = %+v, %v", list, err)
		}
	})

	t.Run("feedback_survey", func(t *testing.T) {
		tok := env.issue("feedback_survey", e2eUser)
		c := completeAndWait(t, s, tok, map[string]any{
			"rating": "4", "comments": "Quick and friendly", "follow_up": true,
			"contact_method": "email", "contact_value": "ada@example.com", "contact_time": "morning",
		})
		rs, err := env.store.SurveyResponses(ctx, time.Time{}, time.Now().Add(time.Hour))
		if err != nil || len(rs) != 1 {
			t.Fatalf("responses = %+v, %v", rs, err)
		}
		r := rs[0]
		if r.MessageID != c.MessageID || r.Rating != 4 || r.Comments != "Quick and friendly" || !r.FollowUp || r.ContactMethod != "email" || r.ContactValue != "ada@example.com" || r.ContactTime != "morning" {
			t.Fatalf("response = %+v", r)
		}
	})

	t.Run("calendar_preferences", func(t *testing.T) {
		tok := env.issue("calendar_preferences", e2eUser)
		a := s.step("calendar_preferences", tok, "INIT", "", nil)
		mustScreen(t, a, "PREFERENCES")
		if a.Data["timezone"] != "Europe/Berlin" || a.Data["lead_time"] != "15" {
			t.Fatalf("defaults = %v", a.Data)
		}
		a = s.step("calendar_preferences", tok, "data_exchange", "PREFERENCES", map[string]any{
			"notifications": []any{"new_events", "cancellations"}, "lead_time": "60", "timezone": "America/New_York", "digest": true})
		mustScreen(t, a, "SAVED")
		completeAndWait(t, s, tok, map[string]any{})
		// A second session shows the saved preferences, and saving again
		// updates the one row.
		tok2 := env.issue("calendar_preferences", e2eUser)
		a = s.step("calendar_preferences", tok2, "INIT", "", nil)
		if a.Data["timezone"] != "America/New_York" || a.Data["lead_time"] != "60" || a.Data["digest"] != true || !slices.Equal(strings0(a.Data["notifications"]), []string{"new_events", "cancellations"}) {
			t.Fatalf("saved preferences not shown: %v", a.Data)
		}
		a = s.step("calendar_preferences", tok2, "data_exchange", "PREFERENCES", map[string]any{
			"notifications": []any{}, "lead_time": "5", "timezone": "Asia/Tokyo", "digest": false})
		mustScreen(t, a, "SAVED")
		p, err := env.store.Preferences(ctx, e2eUser)
		if err != nil || p.TimeZone != "Asia/Tokyo" || p.LeadMinutes != 5 || p.Digest || len(p.Notifications) != 0 {
			t.Fatalf("preferences = %+v, %v", p, err)
		}
	})

	t.Run("budget_setup", func(t *testing.T) {
		tok := env.issue("budget_setup", e2eUser)
		a := s.step("budget_setup", tok, "INIT", "", nil)
		mustScreen(t, a, "BUDGET")
		b := map[string]any{"categories": []any{"housing", "food", "leisure"}, "currency": "EUR", "period": "monthly", "total_limit": "2000"}
		a = s.step("budget_setup", tok, "data_exchange", "BUDGET", b)
		mustScreen(t, a, "LIMITS")
		if a.Data["limit_1_label"] != "Housing" || a.Data["limit_3_label"] != "Leisure" || a.Data["limit_4_visible"] != false {
			t.Fatalf("LIMITS data = %v", a.Data)
		}
		limits := map[string]any{"limit_1": "1200", "limit_2": "500", "limit_3": "250.50", "limit_4": "", "limit_5": "", "limit_6": ""}
		for k, v := range b {
			limits[k] = v
		}
		a = s.step("budget_setup", tok, "data_exchange", "LIMITS", limits)
		mustScreen(t, a, "ALERTS")
		final := map[string]any{"alert_threshold": "90", "alerts": true}
		for k, v := range limits {
			final[k] = v
		}
		params := successParams(t, s.step("budget_setup", tok, "data_exchange", "ALERTS", final))
		completeAndWait(t, s, tok, params)
		list, err := env.store.BudgetsByUser(ctx, e2eUser)
		if err != nil || len(list) != 1 {
			t.Fatalf("budgets = %+v, %v", list, err)
		}
		bu := list[0]
		if bu.ID != params["budget_id"] || bu.TotalCents != 200000 || bu.Limits["leisure"] != 25050 || bu.Limits["housing"] != 120000 || len(bu.Limits) != 3 || bu.AlertThreshold != 90 || !bu.Alerts {
			t.Fatalf("budget = %+v", bu)
		}
	})

	t.Run("multi_day_schedule", func(t *testing.T) {
		tok := env.issue("multi_day_schedule", e2eUser)
		a := s.step("multi_day_schedule", tok, "INIT", "", nil)
		mustScreen(t, a, "RANGE")
		start, _ := time.Parse(time.DateOnly, str(a.Data["min_date"]))
		start = start.AddDate(0, 0, 7)
		rng := map[string]any{"start-date": start.Format(time.DateOnly), "end-date": start.AddDate(0, 0, 13).Format(time.DateOnly)}
		a = s.step("multi_day_schedule", tok, "data_exchange", "RANGE", map[string]any{"range": rng})
		mustScreen(t, a, "WEEKDAYS")
		if len(a.Data["weekday_options"].([]any)) != 7 {
			t.Fatalf("a 14-day range has every weekday: %v", a.Data)
		}
		a = s.step("multi_day_schedule", tok, "data_exchange", "WEEKDAYS", map[string]any{"range": rng, "weekdays": []any{"mon", "thu"}})
		mustScreen(t, a, "TIME")
		a = s.step("multi_day_schedule", tok, "data_exchange", "DETAILS", map[string]any{
			"range": rng, "weekdays": []any{"mon", "thu"}, "time_of_day": "09:00", "duration": "60", "title": "Physiotherapy", "notes": "Bring a towel"})
		mustScreen(t, a, "REVIEW")
		if a.Data["occurrences_text"] != "4 sessions" || a.Data["days_text"] != "Mondays and Thursdays" {
			t.Fatalf("REVIEW data = %v", a.Data)
		}
		values := map[string]any{"confirmed": true}
		for _, k := range []string{"start_date", "end_date", "weekdays", "time_of_day", "duration", "title", "notes"} {
			values[k] = a.Data[k]
		}
		completeAndWait(t, s, tok, values)
		list, err := env.store.SchedulesByUser(ctx, e2eUser)
		if err != nil || len(list) != 1 || list[0].Title != "Physiotherapy" {
			t.Fatalf("schedules = %+v, %v", list, err)
		}
		occ, err := env.store.Occurrences(ctx, list[0].ID)
		if err != nil || len(occ) != 4 {
			t.Fatalf("occurrences = %+v, %v", occ, err)
		}
		berlin, _ := time.LoadLocation("Europe/Berlin")
		for _, o := range occ {
			local := o.Start.In(berlin)
			if local.Format("15:04") != "09:00" || o.End.Sub(o.Start) != time.Hour || (local.Weekday() != time.Monday && local.Weekday() != time.Thursday) {
				t.Fatalf("occurrence %v to %v", local, o.End.In(berlin))
			}
		}
	})
}
