package catalog_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/sqlite"
)

// Load builds the six flows on a store (here SQLite, in memory) with the
// default settings: each has its Flow JSON, its endpoint handlers when it
// uses the data endpoint, and its completion handler.
func ExampleLoad() {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	store, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	flows, err := catalog.Load(catalog.Deps{Store: store, Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range flows.Flows() {
		fmt.Printf("%-20s %-21s endpoint: %v\n", f.Name, f.Title, f.Endpoint != nil)
	}
	// Output:
	// appointment_booking  Appointment Booking   endpoint: true
	// expense_entry        Expense Entry         endpoint: true
	// feedback_survey      Feedback Survey       endpoint: false
	// calendar_preferences Calendar Preferences  endpoint: true
	// budget_setup         Budget Setup          endpoint: true
	// multi_day_schedule   Multi-day Schedule    endpoint: true
}
