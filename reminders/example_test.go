package reminders_test

import (
	"fmt"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/reminders"
)

// Where a budget stands and the alert it owes: 85 of 100 spent on food
// this month, with an alert threshold of 80%.
func ExampleAlerts() {
	loc := time.UTC
	b := catalogstore.Budget{ID: "BU-1", Currency: "EUR", Period: "monthly", TotalCents: 100000,
		Limits: map[string]int64{"food": 10000}, AlertThreshold: 80, Alerts: true}
	expenses := []catalogstore.Expense{
		{AmountCents: 5000, Currency: "EUR", Category: "food", CreatedAt: time.Date(2025, 3, 3, 12, 0, 0, 0, loc)},
		{AmountCents: 3500, Currency: "EUR", Category: "food", CreatedAt: time.Date(2025, 3, 10, 12, 0, 0, 0, loc)},
	}
	s := reminders.Measure(b, expenses, time.Date(2025, 3, 10, 12, 0, 0, 0, loc), loc)
	titles := map[string]string{"food": "Food"}
	fmt.Println(reminders.Remaining(s, "food", titles))
	for _, a := range reminders.Alerts(s, titles) {
		fmt.Println(a.Key)
		fmt.Println(a.Text)
	}
	// Output:
	// Food budget: EUR 15.00 left of EUR 100.00 (1 Mar – 31 Mar 2025).
	// budget:BU-1:food:2025-03-01:80
	// Budget alert: Your monthly budget for Food has reached 80% (1 Mar – 31 Mar 2025). Spent EUR 85.00 of EUR 100.00; EUR 15.00 left.
}
