package catalogstore

import (
	"slices"
	"time"

	"github.com/waflow/waflow"
)

// The argument checks every driver makes before it writes, so that both
// drivers refuse the same values with the same text. Each error matches
// waflow.ErrInvalid and names the field.

// StoredTime returns t as the stores keep it: in UTC at microsecond
// precision, the zero time unchanged.
func StoredTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// Validate checks what Book needs of b: a Ref, a TokenID and a Start.
func (b Booking) Validate() error {
	if b.Ref == "" || b.TokenID == "" || b.Start.IsZero() {
		return waflow.Invalidf("Book needs a Ref, a TokenID and a Start")
	}
	return nil
}

// ValidateCapacity checks Book's capacity: at least 1.
func ValidateCapacity(capacity int) error {
	if capacity < 1 {
		return waflow.Invalidf("Book needs a capacity of at least 1 (got %d)", capacity)
	}
	return nil
}

// Validate checks what SaveExpense needs of e: an ID, a TokenID, a Currency
// and a positive AmountCents.
func (e Expense) Validate() error {
	if e.ID == "" || e.TokenID == "" || e.Currency == "" || e.AmountCents <= 0 {
		return waflow.Invalidf("SaveExpense needs an ID, a TokenID, a Currency and a positive AmountCents (got %d)", e.AmountCents)
	}
	return nil
}

// Validate checks what SaveSurveyResponse needs of r: a MessageID and a
// Rating of 1 to 5.
func (r SurveyResponse) Validate() error {
	if r.MessageID == "" || r.Rating < 1 || r.Rating > 5 {
		return waflow.Invalidf("SaveSurveyResponse needs a MessageID and a Rating of 1 to 5 (got %d)", r.Rating)
	}
	return nil
}

// Validate checks what SavePreferences needs of p: a WAID and a TimeZone.
func (p CalendarPreferences) Validate() error {
	if p.WAID == "" || p.TimeZone == "" {
		return waflow.Invalidf("SavePreferences needs a WAID and a TimeZone")
	}
	return nil
}

// Validate checks what SaveSchedule needs of s: an ID and a MessageID.
func (s Schedule) Validate() error {
	if s.ID == "" || s.MessageID == "" {
		return waflow.Invalidf("SaveSchedule needs an ID and a MessageID")
	}
	return nil
}

// Validate checks o: a Start and an End not before it.
func (o Occurrence) Validate() error {
	if o.Start.IsZero() || o.End.Before(o.Start) {
		return waflow.Invalidf("an occurrence needs a Start and an End not before it")
	}
	return nil
}

// StoredOccurrences validates s and the occurrences SaveSchedule stores with
// it, and returns the occurrences as stored: under s.ID, times as
// StoredTime keeps them, in time order. It refuses no occurrence at all, an
// occurrence of another schedule, and two occurrences with the same stored
// Start.
func StoredOccurrences(s Schedule, occurrences []Occurrence) ([]Occurrence, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(occurrences) == 0 {
		return nil, waflow.Invalidf("SaveSchedule needs at least one occurrence")
	}
	out := make([]Occurrence, len(occurrences))
	for i, o := range occurrences {
		if o.ScheduleID != "" && o.ScheduleID != s.ID {
			return nil, waflow.Invalidf("SaveSchedule: occurrence %d belongs to schedule %q, not %q", i, o.ScheduleID, s.ID)
		}
		if err := o.Validate(); err != nil {
			return nil, waflow.Invalidf("SaveSchedule: occurrence %d needs a Start and an End not before it", i)
		}
		out[i] = Occurrence{ScheduleID: s.ID, Start: StoredTime(o.Start), End: StoredTime(o.End)}
	}
	slices.SortFunc(out, func(a, b Occurrence) int { return a.Start.Compare(b.Start) })
	for i := 1; i < len(out); i++ {
		if out[i].Start.Equal(out[i-1].Start) {
			return nil, waflow.Invalidf("SaveSchedule: two occurrences start at %s", out[i].Start.Format(time.RFC3339Nano))
		}
	}
	return out, nil
}

// Validate checks what SaveBudget needs of b: an ID, a TokenID, a Currency,
// a positive TotalCents, and limits of at least 0 under non-empty category
// ids.
func (b Budget) Validate() error {
	if b.ID == "" || b.TokenID == "" || b.Currency == "" || b.TotalCents <= 0 {
		return waflow.Invalidf("SaveBudget needs an ID, a TokenID, a Currency and a positive TotalCents (got %d)", b.TotalCents)
	}
	for category, limit := range b.Limits {
		if category == "" || limit < 0 {
			return waflow.Invalidf("SaveBudget: limit %d for category %q: want a category id and a limit of at least 0", limit, category)
		}
	}
	return nil
}
