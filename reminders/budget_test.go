package reminders_test

import (
	"slices"
	"testing"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/reminders"
	"github.com/waflow/waflow/storetest"
)

var paris = mustLoad("Europe/Paris")

func saveBudget(t *testing.T, st store, waID string) catalogstore.Budget {
	t.Helper()
	b, _, err := st.SaveBudget(ctx, catalogstore.Budget{ID: "BU-1", TokenID: "tok-BU-1", WAID: waID, Currency: "EUR", Period: "monthly",
		TotalCents: 100000, Limits: map[string]int64{"food": 10000, "transport": 5000}, AlertThreshold: 80, Alerts: true,
		CreatedAt: time.Date(2025, 2, 20, 9, 0, 0, 0, paris)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBudgetAlertsOncePerThresholdAndPeriod(t *testing.T) {
	clock := storetest.NewClock(time.Date(2025, 3, 3, 9, 0, 0, 0, paris))
	st := openSQLite(t, clock.Now)
	saveBudget(t, st, "u1")
	n := 0
	spend := func(cents int64, category string) int {
		t.Helper()
		n++
		id := "EX-" + itoa(int64(n))
		if _, _, err := st.SaveExpense(ctx, catalogstore.Expense{ID: id, TokenID: "tok-" + id, WAID: "u1", AmountCents: cents,
			Currency: "EUR", Category: category, CreatedAt: clock.Now()}); err != nil {
			t.Fatal(err)
		}
		sent, err := reminders.SendBudgetAlerts(ctx, st, "u1", "wamid."+id, clock.Now(), paris, map[string]string{"food": "Food and drink"})
		if err != nil {
			t.Fatal(err)
		}
		// A retried completion sends nothing more.
		again, err := reminders.SendBudgetAlerts(ctx, st, "u1", "wamid."+id, clock.Now(), paris, nil)
		if err != nil || again != 0 {
			t.Fatalf("SendBudgetAlerts again = %d, %v; want 0", again, err)
		}
		clock.Advance(24 * time.Hour)
		return sent
	}
	got := []int{
		spend(5000, "food"),      // 50%
		spend(3000, "food"),      // 80%: the threshold
		spend(1000, "food"),      // 90%
		spend(2500, "transport"), // another category, 50%
		spend(1500, "food"),      // 105%: the limit
		spend(1000, "food"),      // 115%
	}
	if want := []int{0, 1, 0, 0, 1, 0}; !equal(got, want) {
		t.Errorf("alerts per expense in March = %v, want %v", got, want)
	}
	_, p80 := message(t, st, "budget:BU-1:food:2025-03-01:80")
	if want := "Budget alert: Your monthly budget for Food and drink has reached 80% (1 Mar – 31 Mar 2025). Spent EUR 80.00 of EUR 100.00; EUR 20.00 left."; p80.Text.Body != want {
		t.Errorf("80%% alert = %q, want %q", p80.Text.Body, want)
	}
	_, p100 := message(t, st, "budget:BU-1:food:2025-03-01:100")
	if want := "Budget alert: Your monthly budget for Food and drink has reached its limit (1 Mar – 31 Mar 2025). Spent EUR 105.00 of EUR 100.00; EUR 5.00 over."; p100.Text.Body != want {
		t.Errorf("100%% alert = %q, want %q", p100.Text.Body, want)
	}

	// April: nothing until the threshold is crossed again.
	for clock.Now().Month() == time.March {
		clock.Advance(24 * time.Hour)
	}
	got = []int{spend(1000, "food"), spend(6000, "food"), spend(1000, "food")} // 10%, 70%, 80%
	if want := []int{0, 0, 1}; !equal(got, want) {
		t.Errorf("alerts per expense in April = %v, want %v", got, want)
	}
	message(t, st, "budget:BU-1:food:2025-04-01:80")
	if all := outbox(t, st); len(all) != 3 {
		t.Errorf("outbox holds %d alerts, want 3 (80%% and 100%% in March, 80%% in April)", len(all))
	}
}

func TestBudgetAlertsOff(t *testing.T) {
	clock := storetest.NewClock(time.Date(2025, 3, 3, 9, 0, 0, 0, paris))
	st := openSQLite(t, clock.Now)
	b := saveBudget(t, st, "u1")
	st.SaveExpense(ctx, catalogstore.Expense{ID: "EX-1", TokenID: "tok-1", WAID: "u1", AmountCents: 20000, Currency: "EUR", Category: "food", CreatedAt: clock.Now()})
	s := reminders.Measure(b, mustExpenses(t, st, "u1"), clock.Now(), paris)
	b.Alerts = false
	s.Budget = b
	if a := reminders.Alerts(s, nil); len(a) != 0 {
		t.Errorf("Alerts of a budget without alerts = %+v, want none", a)
	}
}

func TestRemaining(t *testing.T) {
	clock := storetest.NewClock(time.Date(2025, 3, 31, 23, 30, 0, 0, paris))
	st := openSQLite(t, clock.Now)
	b := saveBudget(t, st, "u1")
	for i, e := range []catalogstore.Expense{
		{AmountCents: 4250, Category: "food", Currency: "EUR", CreatedAt: clock.Now()},
		{AmountCents: 999, Category: "food", Currency: "USD", CreatedAt: clock.Now()},                                 // another currency
		{AmountCents: 1000, Category: "food", Currency: "EUR", CreatedAt: time.Date(2025, 2, 28, 12, 0, 0, 0, paris)}, // last period
		{AmountCents: 6000, Category: "transport", Currency: "EUR", CreatedAt: clock.Now()},
	} {
		e.ID, e.TokenID, e.WAID = "EX-"+itoa(int64(i)), "tok-"+itoa(int64(i)), "u1"
		if _, _, err := st.SaveExpense(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	s := reminders.Measure(b, mustExpenses(t, st, "u1"), clock.Now(), paris)
	titles := map[string]string{"food": "Food and drink"}
	for cat, want := range map[string]string{
		"food":      "Food and drink budget: EUR 57.50 left of EUR 100.00 (1 Mar – 31 Mar 2025).",
		"transport": "transport budget: EUR 10.00 over the monthly limit of EUR 50.00 (1 Mar – 31 Mar 2025).",
		"office":    "",
	} {
		if got := reminders.Remaining(s, cat, titles); got != want {
			t.Errorf("Remaining(%s) = %q, want %q", cat, got, want)
		}
	}
}

func TestPeriod(t *testing.T) {
	at := time.Date(2025, 3, 16, 23, 59, 0, 0, paris) // a Sunday
	from, to := reminders.Period("weekly", at, paris)
	if !from.Equal(time.Date(2025, 3, 10, 0, 0, 0, 0, paris)) || !to.Equal(time.Date(2025, 3, 17, 0, 0, 0, 0, paris)) {
		t.Errorf("weekly period of Sunday 16 March = [%v, %v)", from, to)
	}
	// 23:30 UTC on 31 March is 1 April in Paris.
	from, _ = reminders.Period("monthly", time.Date(2025, 3, 31, 23, 30, 0, 0, time.UTC), paris)
	if !from.Equal(time.Date(2025, 4, 1, 0, 0, 0, 0, paris)) {
		t.Errorf("monthly period starts %v, want 1 April in Paris", from)
	}
}

func mustExpenses(t *testing.T, st store, waID string) []catalogstore.Expense {
	t.Helper()
	list, err := st.ExpensesByUser(ctx, waID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func equal(a, b []int) bool { return slices.Equal(a, b) }
