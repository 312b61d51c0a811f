package catalogstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
)

func TestValidate(t *testing.T) {
	at := time.Date(2025, 3, 17, 9, 0, 0, 0, time.UTC)
	booking := catalogstore.Booking{Ref: "BK-1", TokenID: "t", Start: at}
	expense := catalogstore.Expense{ID: "EX-1", TokenID: "t", Currency: "EUR", AmountCents: 1}
	survey := catalogstore.SurveyResponse{MessageID: "m", Rating: 5}
	prefs := catalogstore.CalendarPreferences{WAID: "u", TimeZone: "UTC"}
	schedule := catalogstore.Schedule{ID: "SC-1", MessageID: "m"}
	occurrence := catalogstore.Occurrence{Start: at, End: at}
	budget := catalogstore.Budget{ID: "BU-1", TokenID: "t", Currency: "EUR", TotalCents: 1, Limits: map[string]int64{"food": 0}}
	tests := []struct {
		name  string
		err   error
		field string // the field the error names; "" when err must be nil
	}{
		{"Booking", booking.Validate(), ""},
		{"Booking without Ref", func() error { v := booking; v.Ref = ""; return v.Validate() }(), "Ref"},
		{"Booking without TokenID", func() error { v := booking; v.TokenID = ""; return v.Validate() }(), "TokenID"},
		{"Booking without Start", func() error { v := booking; v.Start = time.Time{}; return v.Validate() }(), "Start"},
		{"capacity 1", catalogstore.ValidateCapacity(1), ""},
		{"capacity 0", catalogstore.ValidateCapacity(0), "capacity"},
		{"Expense", expense.Validate(), ""},
		{"Expense without ID", func() error { v := expense; v.ID = ""; return v.Validate() }(), "ID"},
		{"Expense without Currency", func() error { v := expense; v.Currency = ""; return v.Validate() }(), "Currency"},
		{"Expense of 0", func() error { v := expense; v.AmountCents = 0; return v.Validate() }(), "AmountCents"},
		{"SurveyResponse", survey.Validate(), ""},
		{"SurveyResponse without MessageID", func() error { v := survey; v.MessageID = ""; return v.Validate() }(), "MessageID"},
		{"SurveyResponse rated 0", func() error { v := survey; v.Rating = 0; return v.Validate() }(), "Rating"},
		{"SurveyResponse rated 6", func() error { v := survey; v.Rating = 6; return v.Validate() }(), "Rating"},
		{"CalendarPreferences", prefs.Validate(), ""},
		{"CalendarPreferences without WAID", func() error { v := prefs; v.WAID = ""; return v.Validate() }(), "WAID"},
		{"CalendarPreferences without TimeZone", func() error { v := prefs; v.TimeZone = ""; return v.Validate() }(), "TimeZone"},
		{"Schedule", schedule.Validate(), ""},
		{"Schedule without ID", func() error { v := schedule; v.ID = ""; return v.Validate() }(), "ID"},
		{"Schedule without MessageID", func() error { v := schedule; v.MessageID = ""; return v.Validate() }(), "MessageID"},
		{"Occurrence", occurrence.Validate(), ""},
		{"Occurrence without Start", func() error { v := occurrence; v.Start = time.Time{}; return v.Validate() }(), "Start"},
		{"Occurrence ending before it starts", func() error { v := occurrence; v.End = at.Add(-time.Second); return v.Validate() }(), "End"},
		{"Budget", budget.Validate(), ""},
		{"Budget without TokenID", func() error { v := budget; v.TokenID = ""; return v.Validate() }(), "TokenID"},
		{"Budget of 0", func() error { v := budget; v.TotalCents = 0; return v.Validate() }(), "TotalCents"},
		{"Budget with a negative limit", func() error { v := budget; v.Limits = map[string]int64{"food": -1}; return v.Validate() }(), "limit"},
		{"Budget with an empty category", func() error { v := budget; v.Limits = map[string]int64{"": 1}; return v.Validate() }(), "category"},
	}
	for _, tc := range tests {
		switch {
		case tc.field == "" && tc.err != nil:
			t.Errorf("%s: %v, want nil", tc.name, tc.err)
		case tc.field != "" && !errors.Is(tc.err, waflow.ErrInvalid):
			t.Errorf("%s: %v, want an error matching ErrInvalid", tc.name, tc.err)
		case tc.field != "" && !strings.Contains(tc.err.Error(), tc.field):
			t.Errorf("%s: %q does not name %s", tc.name, tc.err, tc.field)
		}
	}
}

func TestStoredOccurrences(t *testing.T) {
	at := time.Date(2025, 3, 17, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	s := catalogstore.Schedule{ID: "SC-1", MessageID: "m"}
	got, err := catalogstore.StoredOccurrences(s, []catalogstore.Occurrence{
		{Start: at.Add(24*time.Hour + 123), End: at.Add(25 * time.Hour)},
		{ScheduleID: "SC-1", Start: at, End: at.Add(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []catalogstore.Occurrence{
		{ScheduleID: "SC-1", Start: at.UTC(), End: at.Add(time.Hour).UTC()},
		{ScheduleID: "SC-1", Start: at.Add(24 * time.Hour).UTC(), End: at.Add(25 * time.Hour).UTC()},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("occurrence %d = %+v, want %+v (UTC, microseconds, in time order)", i, got[i], want[i])
		}
	}
	for name, occ := range map[string][]catalogstore.Occurrence{
		"none":             nil,
		"another schedule": {{ScheduleID: "SC-2", Start: at, End: at}},
		"ending early":     {{Start: at, End: at.Add(-time.Minute)}},
		"same start":       {{Start: at, End: at}, {Start: at.Add(100), End: at.Add(time.Hour)}},
	} {
		if _, err := catalogstore.StoredOccurrences(s, occ); !errors.Is(err, waflow.ErrInvalid) {
			t.Errorf("%s: %v, want an error matching ErrInvalid", name, err)
		}
	}
}
