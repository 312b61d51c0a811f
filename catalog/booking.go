package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/registry"
)

// Appointment Booking (P0): DETAILS (name, reason) → DATE (free days from
// the endpoint) → TIME (free slots from the endpoint, reminder opt-in), and
// the booking committed atomically when TIME is submitted. Two people never
// get one seat: a slot taken in the meantime answers TIME again with fresh
// slots and an error_message (the routing model only goes forward, so the
// time screen is where the user can recover; BACK from it refreshes DATE).
//
// A booking is one per session (flow token): a TIME submission sent again,
// after an error or a lost answer, gets the booking the session holds, not a
// second seat. A booking whose answer cannot reach the user, because the
// store committed it after the endpoint's deadline (WhatsApp was answered
// 504) or so close to it that the answer may lose the race, is told to the
// user by a message instead; the completion's confirmation shares its
// outbox key, so the user gets one confirmation either way.

func init() { builders["appointment_booking"] = newBooking }

type booking struct {
	*env
	cfg    BookingSettings
	closed map[string]bool
}

const msgSlotTaken = "That time was just taken. Please pick another one."

func newBooking(e *env) (*registry.Flow, error) {
	src, spec, err := loadSpec("appointment_booking")
	if err != nil {
		return nil, err
	}
	b := &booking{env: e, cfg: e.settings.AppointmentBooking, closed: map[string]bool{}}
	for _, d := range b.cfg.Closures {
		b.closed[d] = true
	}
	f := endpoint.NewFlowFromJSON("appointment_booking", spec)
	f.Use(checkValues(spec, map[string]screenData{
		"DETAILS": noData,
		"DATE":    b.dateData,
		"TIME":    b.timeCheckData,
	}, nil, e.log))
	f.HandleInit(func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("DETAILS", nil), nil
	})
	f.HandleDataExchange("DETAILS", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		d, err := b.dateData(ctx, r, nil)
		if err != nil {
			return nil, err
		}
		return endpoint.Next("DATE", d), nil
	})
	f.HandleDataExchange("DATE", b.pickDate)
	f.HandleBack("TIME", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		d, err := b.dateData(ctx, r, nil)
		if err != nil {
			return nil, err
		}
		return endpoint.Next("DATE", d), nil
	})
	f.HandleDataExchange("TIME", b.book)
	return &registry.Flow{
		Name:     "appointment_booking",
		Title:    "Appointment Booking",
		Summary:  "book a free slot: the endpoint offers free days and times and commits the booking atomically",
		Source:   src,
		Spec:     spec,
		Endpoint: f,
		Complete: b.complete,
	}, nil
}

func noData(context.Context, *endpoint.Request, map[string]any) (map[string]any, error) {
	return map[string]any{}, nil
}

// window returns the first and the last bookable day.
func (b *booking) window() (first, last time.Time) {
	now := b.now().In(b.settings.Location())
	first = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	return first, first.AddDate(0, 0, b.cfg.DaysAhead)
}

// slotsOn returns every slot start of day in the opening hours, whether
// free or not, in the business time zone.
func (b *booking) slotsOn(day time.Time) []time.Time {
	if b.closed[day.Format(time.DateOnly)] {
		return nil
	}
	key := strings.ToLower(day.Weekday().String()[:3])
	var out []time.Time
	step := time.Duration(b.cfg.SlotMinutes) * time.Minute
	for _, p := range b.cfg.OpeningHours[key] {
		from, to, _ := strings.Cut(p, "-")
		start := atClock(day, from)
		end := atClock(day, to)
		for t := start; !t.Add(step).After(end); t = t.Add(step) {
			out = append(out, t)
		}
	}
	return out
}

// atClock returns day at "HH:MM" ("24:00" is the next midnight).
func atClock(day time.Time, hhmm string) time.Time {
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, day.Location())
}

// freeSlots returns the slots of day a user may still book: open, not full,
// and far enough ahead.
func (b *booking) freeSlots(ctx context.Context, day time.Time) ([]time.Time, error) {
	all := b.slotsOn(day)
	if len(all) == 0 {
		return nil, nil
	}
	counts, err := b.store.BookingCounts(ctx, day, day.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	earliest := b.now().Add(time.Duration(b.cfg.MinNoticeMinutes) * time.Minute)
	var free []time.Time
	for _, t := range all {
		if t.Before(earliest) || counts[t.UTC()] >= b.cfg.Capacity {
			continue
		}
		free = append(free, t)
	}
	return free, nil
}

// dateData is the DATE screen's data: the bookable window and the days in
// it without a free slot (closed, a closure, fully booked, too soon).
func (b *booking) dateData(ctx context.Context, _ *endpoint.Request, _ map[string]any) (map[string]any, error) {
	first, last := b.window()
	counts, err := b.store.BookingCounts(ctx, first, last.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	earliest := b.now().Add(time.Duration(b.cfg.MinNoticeMinutes) * time.Minute)
	unavailable := []any{}
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		free := false
		for _, t := range b.slotsOn(day) {
			if !t.Before(earliest) && counts[t.UTC()] < b.cfg.Capacity {
				free = true
				break
			}
		}
		if !free {
			unavailable = append(unavailable, day.Format(time.DateOnly))
		}
	}
	return map[string]any{
		"min_date":          first.Format(time.DateOnly),
		"max_date":          last.Format(time.DateOnly),
		"unavailable_dates": unavailable,
	}, nil
}

// parseDay reads a DatePicker value (YYYY-MM-DD since Flow JSON 5.0) as a
// day in the business time zone.
func (b *booking) parseDay(s string) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, s, b.settings.Location())
}

// timeData is the TIME screen's data for day: its free slots.
func (b *booking) timeData(ctx context.Context, day time.Time) (map[string]any, error) {
	free, err := b.freeSlots(ctx, day)
	if err != nil {
		return nil, err
	}
	return b.renderTime(day, free), nil
}

func (b *booking) renderTime(day time.Time, slots []time.Time) map[string]any {
	opts := make([]any, 0, len(slots))
	for _, t := range slots {
		opts = append(opts, map[string]any{"id": t.Format("15:04"), "title": t.Format("15:04"), "enabled": true})
	}
	if len(opts) == 0 {
		// A radio group needs an option; this one says why there is none.
		opts = append(opts, map[string]any{"id": "none", "title": "No free time left", "enabled": false})
	}
	if len(opts) > 20 {
		// RadioButtonsGroup shows at most 20 options (protocol.md 6.7).
		opts = opts[:20]
	}
	return map[string]any{
		"date":       day.Format(time.DateOnly),
		"date_label": day.Format("Monday 2 January 2006"),
		"slots":      opts,
	}
}

// timeCheckData is what a TIME submission is checked against: every slot
// of the submitted day in the opening hours, so that a slot taken since the
// screen was shown reaches book, which says so, instead of failing as an
// unknown option.
func (b *booking) timeCheckData(_ context.Context, _ *endpoint.Request, values map[string]any) (map[string]any, error) {
	s, _ := values["date"].(string)
	day, err := b.parseDay(s)
	if err != nil {
		// Not a day: ${data.date} cannot match; the check fails on it.
		return map[string]any{"date": nil, "date_label": "", "slots": []any{}}, nil
	}
	return b.renderTime(day, b.slotsOn(day)), nil
}

func (b *booking) pickDate(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	var in struct {
		Date string `json:"date"`
	}
	if err := decodeData(r, &in); err != nil {
		return nil, err
	}
	day, err := b.parseDay(in.Date)
	if err != nil {
		return nil, err // checkValues let through only a date the screen offered
	}
	d, err := b.timeData(ctx, day)
	if err != nil {
		return nil, err
	}
	return endpoint.Next("TIME", d), nil
}

func (b *booking) book(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	var in struct {
		Date     string `json:"date"`
		Time     string `json:"time"`
		Reminder bool   `json:"reminder"`
		Name     string `json:"name"`
		Reason   string `json:"reason"`
	}
	if err := decodeData(r, &in); err != nil {
		return nil, err
	}
	day, err := b.parseDay(in.Date)
	if err != nil {
		return nil, err
	}
	start := atClock(day, in.Time)
	first, last := b.window()
	earliest := b.now().Add(time.Duration(b.cfg.MinNoticeMinutes) * time.Minute)
	if day.Before(first) || day.After(last) || start.Before(earliest) || !slices.ContainsFunc(b.slotsOn(day), start.Equal) {
		free, err := b.freeSlots(ctx, day)
		if err != nil {
			return nil, err
		}
		return endpoint.ErrorOn("TIME", b.renderTime(day, free), "Please pick one of the free times."), nil
	}
	// Whether the slot is still free is Book's to say, atomically; it also
	// recognises a replayed submission of a session that already booked.
	var tried string // the last reference tried
	bk, err := withRef("BK", func(ref string) (catalogstore.Booking, error) {
		tried = ref
		bk, _, err := b.store.Book(ctx, catalogstore.Booking{
			Ref: ref, TokenID: r.Token.ID, WAID: r.Token.WAID, UserID: r.Token.UserID, Start: start.UTC(),
			Name: strings.TrimSpace(in.Name), Reason: strings.TrimSpace(in.Reason), Reminder: in.Reminder,
			CreatedAt: b.now(),
		}, b.cfg.Capacity)
		return bk, err
	}, isRefTaken)
	if late(ctx) {
		b.tellLateBooking(ctx, r, bk, err, tried)
	}
	switch {
	case errors.Is(err, catalogstore.ErrSlotFull):
		free, ferr := b.freeSlots(ctx, day)
		if ferr != nil {
			return nil, ferr
		}
		return endpoint.ErrorOn("TIME", b.renderTime(day, free), msgSlotTaken), nil
	case err != nil:
		return nil, err
	}
	if b.onBooked != nil {
		if err := b.onBooked(ctx, bk); err != nil {
			b.log.Error("booking made but not told to the business's systems", "ref", bk.Ref, "error", err)
		}
	}
	// A replayed submission finds the session's booking and gets its answer.
	local := bk.Start.In(b.settings.Location())
	return endpoint.Success(map[string]any{
		"booking_ref": bk.Ref,
		"date":        local.Format(time.DateOnly),
		"time":        local.Format("15:04"),
	}), nil
}

func isRefTaken(err error) bool { return errors.Is(err, waflow.ErrConflict) }

// lateMargin is how close to the endpoint's deadline an answer is taken as
// possibly lost: the endpoint answers 504 when the deadline passes, and a
// handler that returns at that moment may lose the race.
const lateMargin = 100 * time.Millisecond

// late reports whether the answer of a handler running under ctx may not
// reach the user: its deadline has passed or is about to.
func late(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ctx.Err() != nil || ok && time.Until(d) < lateMargin
}

// tellLateBooking queues a confirmation of the booking a TIME submission
// holds when the answer may not reach the user (late): the store may have
// committed it although WhatsApp was answered 504. bk and err are what Book
// returned, tried the last reference it was given. After an error the
// booking is looked up by that reference, since a commit can succeed while
// its caller is told it failed (a PostgreSQL commit cut off by the
// deadline). Nothing held, nothing sent.
func (b *booking) tellLateBooking(ctx context.Context, r *endpoint.Request, bk catalogstore.Booking, err error, tried string) {
	// The request's context has ended or is about to: this is the end of
	// work already done.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err != nil {
		if tried == "" {
			return
		}
		found, ferr := b.store.BookingByRef(ctx, tried)
		if ferr != nil || found.TokenID != r.Token.ID {
			return // not committed (or not knowable): nothing is held
		}
		bk = found
	}
	to := waflow.Address(r.Token.WAID, r.Token.UserID)
	if to == "" {
		b.log.Warn("appointment_booking: a booking was committed at the endpoint's deadline and the token names no user to tell")
		return
	}
	if err := b.enqueue(ctx, confirmKey(bk), to, r.Token.ID, "", b.confirmText(ctx, bk)); err != nil {
		b.log.Error("appointment_booking: a booking was committed at the endpoint's deadline; its confirmation could not be queued", "error", err)
		return
	}
	b.log.Warn("appointment_booking: a booking was committed at the endpoint's deadline, where its answer may be lost; its confirmation was queued as a message")
}

// confirmKey is the outbox key of bk's confirmation, one per booking,
// whether it is sent on the completion or after a late commit.
func confirmKey(bk catalogstore.Booking) string { return "booking:" + bk.Ref }

// confirmText is the confirmation message of bk. It promises a reminder
// only when one will be sent (package reminders runs), at the lead time
// that will be used: the user's Calendar Preferences, else the setting.
func (b *booking) confirmText(ctx context.Context, bk catalogstore.Booking) string {
	local := bk.Start.In(b.settings.Location())
	text := fmt.Sprintf("Your appointment is booked for %s at %s. Your reference is %s.",
		local.Format("Monday 2 January 2006"), local.Format("15:04"), bk.Ref)
	if bk.Reminder && !b.deps.RemindersOff && bk.WAID != "" {
		lead := b.cfg.ReminderLeadMinutes
		if p, err := b.store.Preferences(ctx, bk.WAID); err == nil {
			lead = p.LeadMinutes
		}
		text += " We will remind you " + leadText(lead) + "."
	}
	return text
}

// leadText says a reminder lead time in words.
func leadText(minutes int) string {
	switch {
	case minutes == 24*60:
		return "the day before"
	case minutes%(24*60) == 0:
		return fmt.Sprintf("%d days before", minutes/(24*60))
	case minutes == 60:
		return "an hour before"
	case minutes%60 == 0:
		return fmt.Sprintf("%d hours before", minutes/60)
	case minutes == 1:
		return "a minute before"
	}
	return fmt.Sprintf("%d minutes before", minutes)
}

// complete acts on the completion webhook: the booking was committed by the
// endpoint; the completion ends the session, and the user gets a
// confirmation message through the outbox (Meta recommends the business
// send its own summary after a flow). The outbox's idempotency key makes a
// retried completion enqueue it once.
func (b *booking) complete(ctx context.Context, c registry.Completion) error {
	ref, _ := c.Values["booking_ref"].(string)
	if ref == "" {
		return waflow.Rejectf("appointment_booking completion without booking_ref")
	}
	bk, err := b.store.BookingByRef(ctx, ref)
	if errors.Is(err, waflow.ErrNotFound) {
		return waflow.Rejectf("appointment_booking completion: booking_ref names no booking")
	}
	if err != nil {
		return fmt.Errorf("appointment_booking completion: reading the booking: %w", err)
	}
	// response_json comes from the phone: a changed client could name
	// another user's reference. Only the session's own booking is
	// confirmed; retrying would never change that.
	if bk.TokenID != c.Token.ID {
		return waflow.Rejectf("appointment_booking completion: booking_ref names a booking of another session")
	}
	// Keyed by the booking, not the completion: a confirmation already sent
	// after a late commit is not sent again.
	// The phone number when known, else the BSUID of a user with a
	// username (protocol.md 4.2).
	to := cmp.Or(c.WAID, c.Token.WAID, c.UserID, c.Token.UserID)
	return b.enqueue(ctx, confirmKey(bk), to, c.Token.ID, c.MessageID, b.confirmText(ctx, bk))
}
