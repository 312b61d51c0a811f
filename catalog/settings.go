package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // IANA names are checked with the zone database even where the system has none

	"github.com/waflow/waflow/flowjson"
)

//go:embed settings.default.json
var defaultSettings []byte

// DefaultSettingsJSON returns the documented default settings file.
func DefaultSettingsJSON() []byte { return bytes.Clone(defaultSettings) }

// Settings are what a business changes without touching code. They are read
// from one JSON file: the keys it has replace the defaults, the others keep
// them (see settings.default.json for every key and its default).
type Settings struct {
	// TimeZone is the business's IANA time zone: opening hours, days and
	// schedules are in it.
	TimeZone            string              `json:"time_zone"`
	AppointmentBooking  BookingSettings     `json:"appointment_booking"`
	ExpenseEntry        ExpenseSettings     `json:"expense_entry"`
	CalendarPreferences PreferencesSettings `json:"calendar_preferences"`
	MultiDaySchedule    ScheduleSettings    `json:"multi_day_schedule"`
	BudgetSetup         BudgetSettings      `json:"budget_setup"`

	loc *time.Location
}

// Option is one choice of a list shown in a flow.
type Option struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// BookingSettings configure Appointment Booking.
type BookingSettings struct {
	// OpeningHours maps a weekday ("mon" … "sun") to its opening periods,
	// "HH:MM-HH:MM"; a day without an entry is closed.
	OpeningHours map[string][]string `json:"opening_hours"`
	// SlotMinutes is the length of one appointment.
	SlotMinutes int `json:"slot_minutes"`
	// DaysAhead is how far ahead one can book, in days from today.
	DaysAhead int `json:"days_ahead"`
	// MinNoticeMinutes: slots starting sooner than this are not offered.
	MinNoticeMinutes int `json:"min_notice_minutes"`
	// Closures are days closed on top of the weekly hours, "YYYY-MM-DD".
	Closures []string `json:"closures"`
	// Capacity is how many bookings one slot takes (1: one person at a time).
	Capacity int `json:"capacity"`
	// ReminderLeadMinutes is how long before a booking its reminder is sent
	// to a user who saved no Calendar Preferences (theirs wins otherwise).
	ReminderLeadMinutes int `json:"reminder_lead_minutes"`
}

// ExpenseSettings configure Expense Entry.
type ExpenseSettings struct {
	Currency string `json:"currency"` // ISO 4217 code shown with amounts
	// MaxAmount is the largest amount accepted, a decimal string.
	MaxAmount  string   `json:"max_amount"`
	Categories []Option `json:"categories"` // 1 to 200
}

// PreferencesSettings configure Calendar Preferences.
type PreferencesSettings struct {
	Notifications []Option `json:"notifications"` // 1 to 20 kinds
	// LeadTimes are the reminder lead times offered; each id is minutes.
	LeadTimes            []Option `json:"lead_times"`
	DefaultLeadTime      string   `json:"default_lead_time"`
	DefaultNotifications []string `json:"default_notifications"`
}

// ScheduleSettings configure Multi-day Schedule.
type ScheduleSettings struct {
	MinDays        int      `json:"min_days"`        // shortest range, days included
	MaxDays        int      `json:"max_days"`        // longest range
	DaysAhead      int      `json:"days_ahead"`      // how far ahead the range may end
	Times          []string `json:"times"`           // start times offered, "HH:MM"
	Durations      []int    `json:"durations"`       // minutes
	MaxOccurrences int      `json:"max_occurrences"` // a schedule expanding to more is refused
}

// BudgetSettings configure Budget Setup.
type BudgetSettings struct {
	// Categories are budgetable categories; at most 6, the number of limit
	// fields on the flow's LIMITS screen.
	Categories []Option `json:"categories"`
	Currencies []Option `json:"currencies"`
	Periods    []Option `json:"periods"`
	Thresholds []int    `json:"thresholds"` // alert thresholds, percent of a limit
	MaxTotal   string   `json:"max_total"`  // the largest total limit, a decimal string
}

// DefaultSettings returns the documented defaults.
func DefaultSettings() (*Settings, error) {
	return decodeSettings(nil)
}

// LoadSettings reads the settings file at path over the defaults. Unknown
// keys are errors, so a typo does not silently keep a default.
func LoadSettings(path string) (*Settings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("catalog settings: %w", err)
	}
	s, err := decodeSettings(b)
	if err != nil {
		return nil, fmt.Errorf("catalog settings %s: %w", path, err)
	}
	return s, nil
}

func decodeSettings(override []byte) (*Settings, error) {
	var s Settings
	for _, b := range [][]byte{defaultSettings, override} {
		if b == nil {
			continue
		}
		if err := checkKeys("", reflect.TypeFor[Settings](), b); err != nil {
			return nil, err
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			return nil, err
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// checkKeys reports every key of raw that t has no field for, naming its
// section and the nearest known key, so "slot_minute" says where it is and
// that "slot_minutes" was meant. JSON that is not the expected shape is left
// to the decoder, which says so.
func checkKeys(section string, t reflect.Type, raw json.RawMessage) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		fields := map[string]reflect.Type{}
		var names []string
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				// encoding/json matches keys without regard to case.
				for _, n := range names {
					if strings.EqualFold(n, k) {
						ft, ok = fields[n], true
						break
					}
				}
			}
			if !ok {
				errs = append(errs, unknownKey(section, k, names))
				continue
			}
			sub := k
			if section != "" {
				sub = section + "." + k
			}
			errs = append(errs, checkKeys(sub, ft, obj[k]))
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, item := range items {
			errs = append(errs, checkKeys(fmt.Sprintf("%s[%d]", section, i), t.Elem(), item))
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for k, v := range obj {
			errs = append(errs, checkKeys(section+"."+k, t.Elem(), v))
		}
	}
	return errors.Join(errs...)
}

// unknownKey says which key of which section is unknown, and suggests the
// nearest known one, or lists them when none is near.
func unknownKey(section, key string, known []string) error {
	where := "the top level"
	if section != "" {
		where = section
	}
	if best, near := flowjson.Nearest(key, known); near {
		return fmt.Errorf("%s: unknown key %q; did you mean %q?", where, key, best)
	}
	return fmt.Errorf("%s: unknown key %q; the keys are %s", where, key, strings.Join(known, ", "))
}

// Location returns the business time zone.
func (s *Settings) Location() *time.Location {
	if s.loc == nil {
		if loc, err := time.LoadLocation(s.TimeZone); err == nil {
			s.loc = loc
		} else {
			return time.UTC
		}
	}
	return s.loc
}

var (
	hhmm   = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
	period = regexp.MustCompile(`^(([01]\d|2[0-3]):[0-5]\d)-(([01]\d|2[0-3]):[0-5]\d|24:00)$`)
)

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// Validate checks every setting and says which one is wrong and why.
func (s *Settings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil || s.TimeZone == "" {
		bad("time_zone", "%q is not an IANA time zone name such as Europe/Berlin", s.TimeZone)
	} else {
		s.loc = loc
	}

	b := s.AppointmentBooking
	for day, periods := range b.OpeningHours {
		if _, ok := weekdays[day]; !ok {
			bad("appointment_booking.opening_hours", "%q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", day)
		}
		for _, p := range periods {
			m := period.FindStringSubmatch(p)
			if m == nil || m[1] >= m[3] {
				bad("appointment_booking.opening_hours."+day, "%q is not a period such as 09:00-12:30", p)
			}
		}
	}
	if b.SlotMinutes < 5 || b.SlotMinutes > 24*60 {
		bad("appointment_booking.slot_minutes", "%d is not between 5 and 1440", b.SlotMinutes)
	}
	if b.DaysAhead < 1 || b.DaysAhead > 365 {
		bad("appointment_booking.days_ahead", "%d is not between 1 and 365", b.DaysAhead)
	}
	if b.ReminderLeadMinutes < 1 || b.ReminderLeadMinutes > 7*24*60 {
		bad("appointment_booking.reminder_lead_minutes", "%d is not between 1 and 10080 (a week)", b.ReminderLeadMinutes)
	}
	if b.MinNoticeMinutes < 0 {
		bad("appointment_booking.min_notice_minutes", "must not be negative")
	}
	if b.Capacity < 1 || b.Capacity > 1000 {
		bad("appointment_booking.capacity", "%d is not between 1 and 1000", b.Capacity)
	}
	for _, d := range b.Closures {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			bad("appointment_booking.closures", "%q is not a date YYYY-MM-DD", d)
		}
	}

	e := s.ExpenseEntry
	if len(e.Currency) != 3 || strings.ToUpper(e.Currency) != e.Currency {
		bad("expense_entry.currency", "%q is not an ISO 4217 code such as EUR", e.Currency)
	}
	if m, err := parseAmount(e.MaxAmount); err != nil || m <= 0 {
		bad("expense_entry.max_amount", "%q is not a positive amount", e.MaxAmount)
	}
	checkOptions(bad, "expense_entry.categories", e.Categories, 1, 200)

	p := s.CalendarPreferences
	checkOptions(bad, "calendar_preferences.notifications", p.Notifications, 1, 20)
	checkOptions(bad, "calendar_preferences.lead_times", p.LeadTimes, 1, 200)
	if !hasOption(p.LeadTimes, p.DefaultLeadTime) {
		bad("calendar_preferences.default_lead_time", "%q is not one of lead_times", p.DefaultLeadTime)
	}
	for _, n := range p.DefaultNotifications {
		if !hasOption(p.Notifications, n) {
			bad("calendar_preferences.default_notifications", "%q is not one of notifications", n)
		}
	}

	sc := s.MultiDaySchedule
	if sc.MinDays < 1 || sc.MaxDays < sc.MinDays || sc.MaxDays > 366 {
		bad("multi_day_schedule", "min_days %d and max_days %d: want 1 <= min_days <= max_days <= 366", sc.MinDays, sc.MaxDays)
	}
	if sc.DaysAhead < sc.MaxDays {
		bad("multi_day_schedule.days_ahead", "%d is shorter than max_days", sc.DaysAhead)
	}
	if len(sc.Times) == 0 || len(sc.Times) > 20 {
		bad("multi_day_schedule.times", "want 1 to 20 start times")
	}
	for _, t := range sc.Times {
		if !hhmm.MatchString(t) {
			bad("multi_day_schedule.times", "%q is not a time HH:MM", t)
		}
	}
	if len(sc.Durations) == 0 || len(sc.Durations) > 200 {
		bad("multi_day_schedule.durations", "want 1 to 200 durations")
	}
	for _, d := range sc.Durations {
		if d < 5 || d > 24*60 {
			bad("multi_day_schedule.durations", "%d minutes is not between 5 and 1440", d)
		}
	}
	if sc.MaxOccurrences < 1 {
		bad("multi_day_schedule.max_occurrences", "must be at least 1")
	}

	bs := s.BudgetSetup
	checkOptions(bad, "budget_setup.categories", bs.Categories, 1, budgetSlots)
	checkOptions(bad, "budget_setup.currencies", bs.Currencies, 1, 200)
	checkOptions(bad, "budget_setup.periods", bs.Periods, 1, 20)
	if len(bs.Thresholds) == 0 || len(bs.Thresholds) > 200 {
		bad("budget_setup.thresholds", "want 1 to 200 thresholds")
	}
	for _, t := range bs.Thresholds {
		if t < 1 || t > 100 {
			bad("budget_setup.thresholds", "%d is not a percentage between 1 and 100", t)
		}
	}
	if m, err := parseAmount(bs.MaxTotal); err != nil || m <= 0 {
		bad("budget_setup.max_total", "%q is not a positive amount", bs.MaxTotal)
	}
	return errors.Join(errs...)
}

// budgetSlots is the number of limit fields on budget_setup's LIMITS screen.
const budgetSlots = 6

func checkOptions(bad func(key, format string, args ...any), key string, opts []Option, minN, maxN int) {
	if len(opts) < minN || len(opts) > maxN {
		bad(key, "has %d options; want %d to %d", len(opts), minN, maxN)
	}
	seen := map[string]bool{}
	for _, o := range opts {
		switch {
		case o.ID == "" || o.Title == "":
			bad(key, "an option needs an id and a title")
		case seen[o.ID]:
			bad(key, "id %q appears twice", o.ID)
		case len([]rune(o.Title)) > 30:
			bad(key, "title %q is over 30 characters, WhatsApp's limit for an option", o.Title)
		}
		seen[o.ID] = true
	}
}

func hasOption(opts []Option, id string) bool {
	for _, o := range opts {
		if o.ID == id {
			return true
		}
	}
	return false
}

func optionTitle(opts []Option, id string) string {
	for _, o := range opts {
		if o.ID == id {
			return o.Title
		}
	}
	return id
}

// dataSource renders options as a Flow JSON data-source.
func dataSource(opts []Option) []any {
	out := make([]any, len(opts))
	for i, o := range opts {
		out[i] = map[string]any{"id": o.ID, "title": o.Title}
	}
	return out
}
