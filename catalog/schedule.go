package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/registry"
)

// Multi-day Schedule (P3): RANGE (a date range, CalendarPicker range mode)
// → WEEKDAYS → TIME (start time, duration) → DETAILS (title, notes) → REVIEW
// (what was chosen and how many sessions, and a confirmation). The endpoint
// keeps no state between screens: each request carries what it needs, and
// every value is checked again when the completion arrives, because the
// completion is what stores the schedule and expands it into occurrences.

func init() { builders["multi_day_schedule"] = newSchedule }

type schedule struct {
	*env
	cfg ScheduleSettings
}

var weekdayOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var weekdayNames = map[string]string{"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}

func newSchedule(e *env) (*registry.Flow, error) {
	src, spec, err := loadSpec("multi_day_schedule")
	if err != nil {
		return nil, err
	}
	s := &schedule{env: e, cfg: e.settings.MultiDaySchedule}
	f := endpoint.NewFlowFromJSON("multi_day_schedule", spec)
	f.Use(checkValues(spec, map[string]screenData{
		"RANGE": func(context.Context, *endpoint.Request, map[string]any) (map[string]any, error) {
			return s.rangeData(), nil
		},
		"WEEKDAYS": s.weekdaysCheckData,
		"TIME": func(context.Context, *endpoint.Request, map[string]any) (map[string]any, error) {
			return s.timeData(), nil
		},
		"DETAILS": noData,
	}, map[string][]string{
		"WEEKDAYS": {"RANGE"},
		"DETAILS":  {"RANGE", "WEEKDAYS", "TIME"},
	}, e.log))
	f.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("RANGE", s.rangeData()), nil
	})
	f.HandleDataExchange("RANGE", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		var in struct {
			Range dateRange `json:"range"`
		}
		if err := decodeData(r, &in); err != nil {
			return nil, err
		}
		first, last, msg := s.checkRange(in.Range, true)
		if msg != "" {
			return endpoint.ErrorOn("RANGE", s.rangeData(), msg), nil
		}
		return endpoint.Next("WEEKDAYS", s.weekdaysData(first, last)), nil
	})
	f.HandleDataExchange("WEEKDAYS", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("TIME", s.timeData()), nil
	})
	f.HandleDataExchange("DETAILS", s.review)
	return &registry.Flow{
		Name:     "multi_day_schedule",
		Title:    "Multi-day Schedule",
		Summary:  "a date range, weekdays, time and duration; stored and expanded into occurrences on completion",
		Source:   src,
		Spec:     spec,
		Endpoint: f,
		Complete: s.complete,
		CheckCompletion: func(values map[string]any) error {
			_, _, err := s.fromCompletion(values)
			return err
		},
	}, nil
}

// dateRange is a CalendarPicker value in range mode.
type dateRange struct {
	Start string `json:"start-date"`
	End   string `json:"end-date"`
}

func (s *schedule) today() time.Time {
	now := s.now().In(s.settings.Location())
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
}

func (s *schedule) rangeData() map[string]any {
	today := s.today()
	return map[string]any{
		"min_date": today.Format(time.DateOnly),
		"max_date": today.AddDate(0, 0, s.cfg.DaysAhead).Format(time.DateOnly),
		"min_days": s.cfg.MinDays,
		"max_days": s.cfg.MaxDays,
	}
}

// checkRange returns the first and last day of r, or what is wrong with it.
// With live false (a completion, which may arrive hours after the user
// chose), the range is not held against today's date.
func (s *schedule) checkRange(r dateRange, live bool) (first, last time.Time, msg string) {
	loc := s.settings.Location()
	first, err1 := time.ParseInLocation(time.DateOnly, r.Start, loc)
	last, err2 := time.ParseInLocation(time.DateOnly, r.End, loc)
	if err1 != nil || err2 != nil {
		return first, last, "Please pick a first and a last day."
	}
	today := s.today()
	days := int(last.Sub(first).Hours()/24+0.5) + 1
	switch {
	case last.Before(first):
		return first, last, "The last day is before the first."
	case live && first.Before(today):
		return first, last, "The first day is in the past."
	case live && last.After(today.AddDate(0, 0, s.cfg.DaysAhead)):
		return first, last, fmt.Sprintf("The last day must be within %d days from today.", s.cfg.DaysAhead)
	case days < s.cfg.MinDays || days > s.cfg.MaxDays:
		return first, last, fmt.Sprintf("Pick %d to %d days; you picked %d.", s.cfg.MinDays, s.cfg.MaxDays, days)
	}
	return first, last, ""
}

// weekdaysIn lists the weekdays that occur in [first, last], Monday first.
func weekdaysIn(first, last time.Time) []string {
	seen := map[string]bool{}
	for d := first; !d.After(last) && len(seen) < 7; d = d.AddDate(0, 0, 1) {
		seen[strings.ToLower(d.Weekday().String()[:3])] = true
	}
	var out []string
	for _, w := range weekdayOrder {
		if seen[w] {
			out = append(out, w)
		}
	}
	return out
}

func rangeText(first, last time.Time) string {
	return first.Format("2 Jan 2006") + " to " + last.Format("2 Jan 2006")
}

func (s *schedule) weekdaysData(first, last time.Time) map[string]any {
	var opts []any
	for _, w := range weekdaysIn(first, last) {
		opts = append(opts, map[string]any{"id": w, "title": weekdayNames[w]})
	}
	return map[string]any{"range_text": rangeText(first, last), "weekday_options": opts}
}

// weekdaysCheckData is what WEEKDAYS values are checked against: the
// weekdays of the submitted range.
func (s *schedule) weekdaysCheckData(_ context.Context, _ *endpoint.Request, values map[string]any) (map[string]any, error) {
	r := rangeOf(values["range"])
	first, last, msg := s.checkRange(r, true)
	if msg != "" {
		return map[string]any{"range_text": "", "weekday_options": []any{}}, nil
	}
	return s.weekdaysData(first, last), nil
}

func rangeOf(v any) dateRange {
	m, _ := v.(map[string]any)
	start, _ := m["start-date"].(string)
	end, _ := m["end-date"].(string)
	return dateRange{Start: start, End: end}
}

func (s *schedule) timeData() map[string]any {
	times := make([]any, len(s.cfg.Times))
	for i, t := range s.cfg.Times {
		times[i] = map[string]any{"id": t, "title": t}
	}
	durs := make([]any, len(s.cfg.Durations))
	for i, d := range s.cfg.Durations {
		durs[i] = map[string]any{"id": strconv.Itoa(d), "title": durationText(d)}
	}
	return map[string]any{"time_options": times, "duration_options": durs}
}

func durationText(minutes int) string {
	switch {
	case minutes%60 == 0 && minutes == 60:
		return "1 hour"
	case minutes%60 == 0:
		return fmt.Sprintf("%d hours", minutes/60)
	case minutes > 60:
		return fmt.Sprintf("%d h %d min", minutes/60, minutes%60)
	}
	return fmt.Sprintf("%d minutes", minutes)
}

// plan is a schedule as chosen, checked.
type plan struct {
	first, last time.Time
	weekdays    []string
	timeOfDay   string
	duration    int
	title       string
	notes       string
}

// check applies the business rules to a plan's parts; values already
// passed the Flow JSON checks on the request path, but not on the
// completion path, where everything is checked here.
func (s *schedule) check(live bool, r dateRange, weekdays []string, timeOfDay, duration, title, notes string) (plan, error) {
	var p plan
	var msg string
	if p.first, p.last, msg = s.checkRange(r, live); msg != "" {
		return p, errors.New(msg)
	}
	in := weekdaysIn(p.first, p.last)
	if len(weekdays) == 0 {
		return p, errors.New("no weekday chosen")
	}
	for _, w := range weekdays {
		if !slices.Contains(in, w) {
			return p, errors.New("a chosen weekday does not occur in the range")
		}
	}
	p.weekdays = sortWeekdays(weekdays)
	if !slices.Contains(s.cfg.Times, timeOfDay) {
		return p, errors.New("the start time is not one offered")
	}
	p.timeOfDay = timeOfDay
	d, err := strconv.Atoi(duration)
	if err != nil || !slices.Contains(s.cfg.Durations, d) {
		return p, errors.New("the duration is not one offered")
	}
	p.duration = d
	p.title = strings.TrimSpace(title)
	if n := len([]rune(p.title)); n < 3 || n > 60 {
		return p, errors.New("the title must have 3 to 60 characters")
	}
	p.notes = strings.TrimSpace(notes)
	if len([]rune(p.notes)) > 500 {
		return p, errors.New("the notes have more than 500 characters")
	}
	if n := len(s.occurrences(p)); n > s.cfg.MaxOccurrences {
		return p, fmt.Errorf("the schedule has %d sessions; at most %d are allowed", n, s.cfg.MaxOccurrences)
	}
	return p, nil
}

func sortWeekdays(ws []string) []string {
	var out []string
	for _, w := range weekdayOrder {
		if slices.Contains(ws, w) {
			out = append(out, w)
		}
	}
	return out
}

// occurrences expands a plan into its sessions, in the business time zone
// (a session at 09:00 stays at 09:00 across a daylight-saving change).
func (s *schedule) occurrences(p plan) []catalogstore.Occurrence {
	var out []catalogstore.Occurrence
	for d := p.first; !d.After(p.last); d = d.AddDate(0, 0, 1) {
		if !slices.Contains(p.weekdays, strings.ToLower(d.Weekday().String()[:3])) {
			continue
		}
		start := atClock(d, p.timeOfDay)
		out = append(out, catalogstore.Occurrence{Start: start.UTC(), End: start.Add(time.Duration(p.duration) * time.Minute).UTC()})
	}
	return out
}

func (s *schedule) review(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	var in struct {
		Range     dateRange `json:"range"`
		Weekdays  []string  `json:"weekdays"`
		TimeOfDay string    `json:"time_of_day"`
		Duration  string    `json:"duration"`
		Title     string    `json:"title"`
		Notes     string    `json:"notes"`
	}
	if err := decodeData(r, &in); err != nil {
		return nil, err
	}
	p, err := s.check(true, in.Range, in.Weekdays, in.TimeOfDay, in.Duration, in.Title, in.Notes)
	if err != nil {
		return endpoint.ErrorOn("DETAILS", nil, "Please check your schedule: "+err.Error()), nil
	}
	n := len(s.occurrences(p))
	var days []string
	for _, w := range p.weekdays {
		days = append(days, weekdayNames[w]+"s")
	}
	notes := p.notes
	if notes == "" {
		notes = "No notes"
	}
	sessions := fmt.Sprintf("%d sessions", n)
	if n == 1 {
		sessions = "1 session"
	}
	weekdays := make([]any, len(p.weekdays))
	for i, w := range p.weekdays {
		weekdays[i] = w
	}
	return endpoint.Next("REVIEW", map[string]any{
		"start_date":       p.first.Format(time.DateOnly),
		"end_date":         p.last.Format(time.DateOnly),
		"weekdays":         weekdays,
		"time_of_day":      p.timeOfDay,
		"duration":         strconv.Itoa(p.duration),
		"title":            p.title,
		"notes":            p.notes,
		"range_text":       rangeText(p.first, p.last),
		"days_text":        joinAnd(days),
		"time_text":        p.timeOfDay + " for " + durationText(p.duration),
		"occurrences_text": sessions,
	}), nil
}

func joinAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// fromCompletion reads and checks a completion's values.
func (s *schedule) fromCompletion(v map[string]any) (plan, bool, error) {
	str := func(k string) string { x, _ := v[k].(string); return x }
	var weekdays []string
	list, _ := v["weekdays"].([]any)
	for _, w := range list {
		if ws, ok := w.(string); ok {
			weekdays = append(weekdays, ws)
		}
	}
	confirmed, _ := v["confirmed"].(bool)
	if !confirmed {
		return plan{}, false, errors.New("the schedule was not confirmed")
	}
	p, err := s.check(false, dateRange{Start: str("start_date"), End: str("end_date")}, weekdays, str("time_of_day"), str("duration"), str("title"), str("notes"))
	return p, confirmed, err
}

// complete stores the schedule with its occurrences, once per completion.
func (s *schedule) complete(ctx context.Context, c registry.Completion) error {
	p, _, err := s.fromCompletion(c.Values)
	if err != nil {
		return fmt.Errorf("%w: multi_day_schedule completion: %w", waflow.ErrRejected, err)
	}
	occ := s.occurrences(p)
	_, err = withRef("SC", func(id string) (catalogstore.Schedule, error) {
		for i := range occ {
			occ[i].ScheduleID = id
		}
		sc, _, err := s.store.SaveSchedule(ctx, catalogstore.Schedule{
			ID: id, MessageID: c.MessageID, TokenID: c.Token.ID, WAID: c.WAID, UserID: cmp.Or(c.UserID, c.Token.UserID),
			StartDate: p.first.Format(time.DateOnly), EndDate: p.last.Format(time.DateOnly),
			Weekdays: p.weekdays, TimeOfDay: p.timeOfDay, DurationMinutes: p.duration,
			TimeZone: s.settings.TimeZone, Title: p.title, Notes: p.notes, CreatedAt: s.now(),
		}, occ)
		return sc, err
	}, isRefTaken)
	return err
}
