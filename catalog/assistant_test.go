package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
)

// Expense Entry's confirmation shows what is left of the category's budget,
// and the completion sends the alert the expense owes, once.
func TestExpenseShowsRemainingBudgetAndAlerts(t *testing.T) {
	f := newFlowHarness(t, "expense_entry", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	if _, _, err := f.store.SaveBudget(ctx, catalogstore.Budget{ID: "BU-1", TokenID: "tok-budget", WAID: "491", Currency: "EUR",
		Period: "monthly", TotalCents: 100000, Limits: map[string]int64{"food": 10000}, AlertThreshold: 75, Alerts: true}); err != nil {
		t.Fatal(err)
	}
	save := func(amount, category string) (map[string]any, string) {
		t.Helper()
		tok := f.token("expense_entry", "491")
		screen, d := f.exchange(tok, "EXPENSE", map[string]any{"amount": amount, "category": category, "description": ""})
		if screen != "SAVED" {
			t.Fatalf("screen %s, want SAVED: %v", screen, d)
		}
		return d, tok
	}
	d, tok := save("80", "food")
	// The business is in Europe/Berlin: December there.
	if want := "Food and drink budget: EUR 20.00 left of EUR 100.00 (1 Dec – 31 Dec 2026)."; d["budget_text"] != want || d["has_budget"] != true {
		t.Errorf("SAVED budget_text %q, has_budget %v; want %q, true", d["budget_text"], d["has_budget"], want)
	}
	f.completeThroughWorker("wamid.ex1", "491", tok, map[string]any{"expense_id": d["expense_id"]})
	m, err := f.store.OutboxMessageByKey(ctx, "budget:BU-1:food:2026-12-01:75")
	if err != nil {
		t.Fatalf("the 75%% alert: %v", err)
	}
	if !strings.Contains(string(m.Payload), "reached 75%") || !strings.Contains(string(m.Payload), "EUR 80.00 of EUR 100.00") {
		t.Errorf("alert = %s", m.Payload)
	}

	// A category the budget does not limit: no line, no alert.
	d, _ = save("5", "office")
	if d["has_budget"] != false || d["budget_text"] != "" {
		t.Errorf("SAVED for an unbudgeted category: budget_text %q, has_budget %v; want none", d["budget_text"], d["has_budget"])
	}
}

func TestExpenseAlertsOff(t *testing.T) {
	f := newFlowHarness(t, "expense_entry", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	c, err := Load(Deps{Store: f.store, Now: func() time.Time { return *f.now }, BudgetAlertsOff: true})
	if err != nil {
		t.Fatal(err)
	}
	f.cat = c
	if _, _, err := f.store.SaveBudget(ctx, catalogstore.Budget{ID: "BU-1", TokenID: "tok-budget", WAID: "491", Currency: "EUR",
		Period: "monthly", TotalCents: 100000, Limits: map[string]int64{"food": 10000}, AlertThreshold: 75, Alerts: true}); err != nil {
		t.Fatal(err)
	}
	tok := f.token("expense_entry", "491")
	_, d := f.exchange(tok, "EXPENSE", map[string]any{"amount": "120", "category": "food", "description": ""})
	f.completeThroughWorker("wamid.ex1", "491", tok, map[string]any{"expense_id": d["expense_id"]})
	if _, err := f.store.OutboxMessageByKey(ctx, "budget:BU-1:food:2026-12-01:100"); !errors.Is(err, waflow.ErrNotFound) {
		t.Errorf("with BudgetAlertsOff an alert was enqueued (%v)", err)
	}
}

func TestBookingConfirmationPromisesTheReminderItSends(t *testing.T) {
	s, _ := DefaultSettings()
	for _, tc := range []struct {
		deps  Deps
		prefs int // lead minutes saved, 0: none
		want  string
	}{
		{want: "We will remind you the day before."},
		{prefs: 60, want: "We will remind you an hour before."},
		{prefs: 15, want: "We will remind you 15 minutes before."},
		{deps: Deps{RemindersOff: true}, want: ""},
	} {
		f := newFlowHarness(t, "appointment_booking", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
		if tc.prefs > 0 {
			f.store.SavePreferences(context.Background(), catalogstore.CalendarPreferences{WAID: "491", LeadMinutes: tc.prefs, TimeZone: "UTC", Notifications: []string{}})
		}
		b := &booking{env: &env{store: f.store, settings: s, deps: tc.deps}, cfg: s.AppointmentBooking}
		got := b.confirmText(context.Background(), catalogstore.Booking{Ref: "BK-1", WAID: "491", Start: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), Reminder: true})
		if tc.want == "" && strings.Contains(got, "remind") || tc.want != "" && !strings.HasSuffix(got, tc.want) {
			t.Errorf("confirmation with %+v and lead %d = %q, want it to end %q", tc.deps, tc.prefs, got, tc.want)
		}
	}
}
