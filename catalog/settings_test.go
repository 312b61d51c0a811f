package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waflow/waflow/endpoint"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in    string
		cents int64
		err   error // nil: ok; errAmountDecimals; or any error
		bad   bool
	}{
		{in: "12", cents: 1200},
		{in: "12.5", cents: 1250},
		{in: "12.50", cents: 1250},
		{in: "0.01", cents: 1},
		{in: ".5", cents: 50},
		{in: " 7 ", cents: 700},
		{in: "12.345", err: errAmountDecimals},
		{in: "1e9", bad: true},
		{in: "abc", bad: true},
		{in: "-5", bad: true},
		{in: "+5", bad: true},
		{in: "1,000", bad: true},
		{in: "12.", cents: 1200}, // what the phone's number field holds after "12." is typed
		{in: "12.500", cents: 1250},
		{in: "-0", cents: 0}, // zero has no sign; callers refuse 0
		{in: "", bad: true},
		{in: ".", bad: true},
		{in: "1234567890123456", bad: true},
	}
	for _, tt := range tests {
		got, err := parseAmount(tt.in)
		switch {
		case tt.err != nil:
			if !errors.Is(err, tt.err) {
				t.Errorf("parseAmount(%q) error = %v, want %v", tt.in, err, tt.err)
			}
		case tt.bad:
			if err == nil {
				t.Errorf("parseAmount(%q) = %d, want an error", tt.in, got)
			}
		case err != nil || got != tt.cents:
			t.Errorf("parseAmount(%q) = %d, %v; want %d", tt.in, got, err, tt.cents)
		}
	}
	if formatAmount(1250) != "12.50" || formatAmount(5) != "0.05" || formatAmountShort(1000000) != "10000" {
		t.Error("formatAmount")
	}
}

// FuzzDecodeSettings: any settings file is accepted or refused with an
// error, never a panic, and an accepted one passes Validate.
func FuzzDecodeSettings(f *testing.F) {
	f.Add([]byte(`{"appointment_booking": {"slot_minute": 15}}`))
	f.Add([]byte(`{"budget_setup": {"periods": [{"id": "m", "titel": "x"}]}, "time_zone": "UTC"}`))
	f.Add([]byte(`{"appointment_booking": {"opening_hours": {"mon": [1]}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSettings(b)
		if err == nil {
			if err := s.Validate(); err != nil {
				t.Fatalf("accepted settings fail Validate: %v", err)
			}
		}
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.50", "1e9", "-5", "12.345", "abc", "0.01", "999999999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cents, err := parseAmount(s)
		if err != nil {
			return
		}
		if cents < 0 {
			t.Fatalf("parseAmount(%q) = %d", s, cents)
		}
		back, err := parseAmount(formatAmount(cents))
		if err != nil || back != cents {
			t.Fatalf("round trip of %q: %d -> %q -> %d, %v", s, cents, formatAmount(cents), back, err)
		}
	})
}

func TestDefaultSettingsValid(t *testing.T) {
	s, err := DefaultSettings()
	if err != nil {
		t.Fatal(err)
	}
	if s.Location().String() != "Europe/Berlin" || s.AppointmentBooking.SlotMinutes != 30 || len(s.ExpenseEntry.Categories) != 5 {
		t.Fatalf("defaults = %+v", s)
	}
	// The catalog loads with them: every Flow JSON validates.
	c, err := Describe(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Flows()) != 6 {
		t.Fatalf("%d flows", len(c.Flows()))
	}
}

func TestLoadSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "s.json")
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	// Keys given replace the defaults; others stay.
	s, err := LoadSettings(write(`{"expense_entry": {"currency": "USD", "max_amount": "500.50"}, "time_zone": "America/New_York"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.ExpenseEntry.Currency != "USD" || s.ExpenseEntry.MaxAmount != "500.50" || len(s.ExpenseEntry.Categories) != 5 || s.AppointmentBooking.SlotMinutes != 30 || s.Location().String() != "America/New_York" {
		t.Fatalf("merged settings = %+v", s)
	}
	for _, tt := range []struct{ json, want string }{
		{`{"expense_entry": {"curency": "USD"}}`, `expense_entry: unknown key "curency"; did you mean "currency"?`},
		{`{"appointment_booking": {"slot_minute": 15}}`, `appointment_booking: unknown key "slot_minute"; did you mean "slot_minutes"?`},
		{`{"time_zon": "UTC"}`, `the top level: unknown key "time_zon"; did you mean "time_zone"?`},
		{`{"budget_setup": {"periods": [{"id": "m", "titel": "Monthly"}]}}`, `budget_setup.periods[0]: unknown key "titel"; did you mean "title"?`},
		{`{"budget_setup": {"colour": "red"}}`, `budget_setup: unknown key "colour"; the keys are categories, currencies, periods, thresholds, max_total`},
		{`{"time_zone": "Mars/Olympus"}`, "time_zone"},
		{`{"appointment_booking": {"opening_hours": {"mon": ["17:00-09:00"]}}}`, "opening_hours.mon"},
		{`{"appointment_booking": {"opening_hours": {"funday": ["09:00-10:00"]}}}`, "not a weekday"},
		{`{"appointment_booking": {"capacity": 0}}`, "capacity"},
		{`{"appointment_booking": {"closures": ["25.12.2026"]}}`, "closures"},
		{`{"expense_entry": {"max_amount": "-1"}}`, "max_amount"},
		{`{"expense_entry": {"categories": []}}`, "expense_entry.categories"},
		{`{"expense_entry": {"categories": [{"id":"a","title":"A"},{"id":"a","title":"B"}]}}`, "appears twice"},
		{`{"calendar_preferences": {"default_lead_time": "7"}}`, "default_lead_time"},
		{`{"multi_day_schedule": {"min_days": 10, "max_days": 5}}`, "multi_day_schedule"},
		{`{"multi_day_schedule": {"times": ["9am"]}}`, "times"},
		{`{"budget_setup": {"categories": [{"id":"1","title":"a"},{"id":"2","title":"b"},{"id":"3","title":"c"},{"id":"4","title":"d"},{"id":"5","title":"e"},{"id":"6","title":"f"},{"id":"7","title":"g"}]}}`, "budget_setup.categories"},
		{`{"budget_setup": {"thresholds": [0]}}`, "thresholds"},
		{`not json`, "invalid character"},
	} {
		_, err := LoadSettings(write(tt.json))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadSettings(%s) = %v, want an error saying %q", tt.json, err, tt.want)
		}
	}
	// Every unknown key is reported at once.
	_, err = LoadSettings(write(`{"expense_entry": {"curency": "USD"}, "appointment_booking": {"slot_minute": 15}}`))
	if err == nil || !strings.Contains(err.Error(), "curency") || !strings.Contains(err.Error(), "slot_minute") {
		t.Errorf("two unknown keys: %v, want both named", err)
	}
	if _, err := LoadSettings(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing settings file is not an error")
	}
}

func TestValueCheckErrorsBindToFields(t *testing.T) {
	_, spec, err := loadSpec("expense_entry")
	if err != nil {
		t.Fatal(err)
	}
	if got := endpoint.ErrorField(spec.Screen("EXPENSE").Component("amount")); got != "amount_error" {
		t.Fatalf("endpoint.ErrorField(amount) = %q", got)
	}
	if got := endpoint.ErrorField(spec.Screen("SAVED").Component("nope")); got != "" {
		t.Fatalf("endpoint.ErrorField(missing) = %q", got)
	}
}
