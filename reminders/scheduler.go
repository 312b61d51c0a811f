package reminders

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/graph"
)

// Store is what a Scheduler reads and writes: the catalog's records, the
// users' last inbound message times, and the outbox it enqueues into.
type Store interface {
	BookingsStarting(ctx context.Context, from, to time.Time) ([]catalogstore.Booking, error)
	SessionsStarting(ctx context.Context, from, to time.Time) ([]catalogstore.Session, error)
	DigestSubscribers(ctx context.Context) ([]catalogstore.CalendarPreferences, error)
	Preferences(ctx context.Context, waID string) (catalogstore.CalendarPreferences, error)
	LastInbound(ctx context.Context, waID string) (time.Time, error)
	BudgetReader
	Enqueue(ctx context.Context, m waflow.OutboxMessage) (waflow.OutboxMessage, bool, error)
	OutboxMessageByKey(ctx context.Context, key string) (waflow.OutboxMessage, error)
}

// ServiceWindow is WhatsApp's customer-service window: free-form messages
// reach a user only within 24 hours of their last message (protocol.md §5.1; outside it, templates: §5.2).
const ServiceWindow = 24 * time.Hour

// Template is an approved WhatsApp message template, for messages due
// outside the customer-service window.
type Template struct {
	Name     string // empty: none; such a message is not sent
	Language string // such as "en_US"; "en" when empty
}

// Config configures a Scheduler. Store is required.
type Config struct {
	Store Store
	// Reminders and Digest switch the two kinds of message on.
	Reminders, Digest bool

	// Location is the business's time zone, for users who saved no
	// preferences.
	Location *time.Location
	// BookingLead is the lead time of a booking's reminder for a user who
	// saved no preferences (the booking flow's default).
	BookingLead time.Duration
	// MaxLead is the longest lead time a user can choose: a Tick looks that
	// far ahead. A longer one is cut to it. BookingLead when smaller.
	MaxLead time.Duration
	// SessionsByDefault: users who saved no preferences get session
	// reminders (the calendar flow's default notifications name
	// ReminderKind).
	SessionsByDefault bool

	// ReminderTemplate takes three body parameters: what ("your appointment
	// BK-7F3K2Q", "Swimming"), the day ("Monday 7 December 2026") and the
	// time ("10:00 Asia/Kolkata").
	ReminderTemplate Template
	// DigestTemplate takes three body parameters: the number of bookings,
	// the number of sessions of the coming week, and last week's spending.
	DigestTemplate Template

	// DigestDay and DigestClock ("HH:MM") are when, in each user's time
	// zone, the weekly digest is due. A digest is sent only within
	// DigestGrace of that (12 hours when zero): a server that was down for
	// longer skips that week rather than send an old digest.
	DigestDay   time.Weekday
	DigestClock string
	DigestGrace time.Duration

	// Titles maps category ids to what users see, for digests.
	Titles map[string]string

	// Interval is how often Run ticks; one minute when zero.
	Interval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OnEnqueue, when set, is called after a message was put in the
	// outbox, to wake its sender.
	OnEnqueue func()
	// Logger; slog.Default() when nil. Message texts are never logged.
	Logger *slog.Logger
}

// ReminderKind is the Calendar Preferences notification kind that asks for
// session reminders.
const ReminderKind = "reminders"

// Scheduler enqueues the reminders and digests that are due. It keeps no
// state between ticks: what is due is worked out from the store each time.
type Scheduler struct {
	cfg         Config
	digestClock int // minutes after midnight
}

// Result counts what one Tick did.
type Result struct {
	Enqueued int // messages put in the outbox by this tick
	Already  int // due messages found in the outbox already
	Skipped  int // due messages not sent: outside the window and no template
}

// New checks cfg and returns a Scheduler.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, errors.New("reminders: Config.Store is required")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.DigestGrace <= 0 {
		cfg.DigestGrace = 12 * time.Hour
	}
	if cfg.BookingLead < 0 || cfg.MaxLead < 0 {
		return nil, errors.New("reminders: lead times cannot be negative")
	}
	cfg.MaxLead = max(cfg.MaxLead, cfg.BookingLead)
	s := &Scheduler{cfg: cfg}
	if cfg.Digest {
		c, err := time.Parse("15:04", cfg.DigestClock)
		if err != nil || len(cfg.DigestClock) != 5 {
			return nil, fmt.Errorf("reminders: digest time %q is not HH:MM", cfg.DigestClock)
		}
		s.digestClock = c.Hour()*60 + c.Minute()
	}
	return s, nil
}

// Run ticks every Interval until ctx is done. A failed tick is logged and
// the next one does its work again: nothing it enqueued is enqueued twice.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if res, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("reminders: tick failed; the next one tries again", "error", err)
		} else if res.Enqueued > 0 || res.Skipped > 0 {
			s.cfg.Logger.Info("reminders: tick", "enqueued", res.Enqueued, "skipped", res.Skipped)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick enqueues every reminder and digest due at Now that is not in the
// outbox yet. It goes on past a failed item and returns every error.
func (s *Scheduler) Tick(ctx context.Context) (Result, error) {
	now := s.cfg.Now()
	var res Result
	var errs []error
	t := &tick{s: s, now: now, prefs: map[string]*catalogstore.CalendarPreferences{}}
	if s.cfg.Reminders {
		errs = append(errs, t.reminders(ctx, &res))
	}
	if s.cfg.Digest {
		errs = append(errs, t.digests(ctx, &res))
	}
	return res, errors.Join(errs...)
}

// tick is one Tick's state: its time and the preferences it read.
type tick struct {
	s     *Scheduler
	now   time.Time
	prefs map[string]*catalogstore.CalendarPreferences // nil: saved none
}

func (t *tick) preferences(ctx context.Context, waID string) (*catalogstore.CalendarPreferences, error) {
	if p, ok := t.prefs[waID]; ok {
		return p, nil
	}
	p, err := t.s.cfg.Store.Preferences(ctx, waID)
	if errors.Is(err, waflow.ErrNotFound) {
		t.prefs[waID] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t.prefs[waID] = &p
	return &p, nil
}

// location is the time zone of a user's preferences, else fallback.
func location(p *catalogstore.CalendarPreferences, fallback *time.Location) *time.Location {
	if p != nil {
		if loc, err := time.LoadLocation(p.TimeZone); err == nil {
			return loc
		}
	}
	return fallback
}

// due is a message a tick found due.
type due struct {
	key, to  string
	text     string   // the free-form message
	template Template // outside the window
	params   []string
	tokenID  string
}

func (t *tick) reminders(ctx context.Context, res *Result) error {
	cfg := t.s.cfg
	// Everything that starts after now and within the longest lead time
	// may be due: due = start - lead <= now < start.
	to := t.now.Add(cfg.MaxLead + time.Microsecond)
	bookings, err := cfg.Store.BookingsStarting(ctx, t.now.Add(time.Microsecond), to)
	if err != nil {
		return fmt.Errorf("reminders: reading bookings: %w", err)
	}
	var errs []error
	for _, b := range bookings {
		// A user known by a BSUID alone (protocol.md §4.2) is reminded at
		// it; the outbox sends to either.
		user := cmp.Or(b.WAID, b.UserID)
		if !b.Reminder || user == "" {
			continue
		}
		p, err := t.preferences(ctx, user)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lead := cfg.BookingLead
		if p != nil {
			lead = time.Duration(p.LeadMinutes) * time.Minute
		}
		if b.Start.Sub(t.now) > min(lead, cfg.MaxLead) {
			continue // not due yet
		}
		loc := location(p, cfg.Location)
		local := b.Start.In(loc)
		day, clock := local.Format("Monday 2 January 2006"), local.Format("15:04")+" "+loc.String()
		errs = append(errs, t.send(ctx, res, due{
			key:      "reminder:booking:" + b.Ref,
			to:       user,
			text:     fmt.Sprintf("Reminder: your appointment is on %s at %s. Your reference is %s.", day, clock, b.Ref),
			template: cfg.ReminderTemplate,
			params:   []string{"your appointment " + b.Ref, day, clock},
		}))
	}
	sessions, err := cfg.Store.SessionsStarting(ctx, t.now.Add(time.Microsecond), to)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("reminders: reading sessions: %w", err))...)
	}
	for _, o := range sessions {
		user := cmp.Or(o.WAID, o.UserID)
		if user == "" {
			continue
		}
		p, err := t.preferences(ctx, user)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		wants := cfg.SessionsByDefault
		lead := cfg.BookingLead
		if p != nil {
			wants = slices.Contains(p.Notifications, ReminderKind)
			lead = time.Duration(p.LeadMinutes) * time.Minute
		}
		if !wants || o.Start.Sub(t.now) > min(lead, cfg.MaxLead) {
			continue
		}
		fallback := cfg.Location
		if l, err := time.LoadLocation(o.TimeZone); err == nil {
			fallback = l
		}
		loc := location(p, fallback)
		local := o.Start.In(loc)
		day, clock := local.Format("Monday 2 January 2006"), local.Format("15:04")+" "+loc.String()
		errs = append(errs, t.send(ctx, res, due{
			key:      fmt.Sprintf("reminder:session:%s:%d", o.ScheduleID, o.Start.Unix()),
			to:       user,
			text:     fmt.Sprintf("Reminder: %s starts on %s at %s.", o.Title, day, clock),
			template: cfg.ReminderTemplate,
			params:   []string{o.Title, day, clock},
		}))
	}
	return errors.Join(errs...)
}

// send enqueues d once: as free text inside the user's customer-service
// window, as d.template outside it, not at all without a template.
func (t *tick) send(ctx context.Context, res *Result, d due) error {
	st := t.s.cfg.Store
	if _, err := st.OutboxMessageByKey(ctx, d.key); err == nil {
		res.Already++
		return nil
	} else if !errors.Is(err, waflow.ErrNotFound) {
		return err
	}
	last, err := st.LastInbound(ctx, d.to)
	if err != nil {
		return err
	}
	// A user known only by a BSUID is reached through recipient
	// (protocol.md 4.2).
	phone, bsuid := d.to, ""
	if waflow.IsBSUID(d.to) {
		phone, bsuid = "", d.to
	}
	var msg graph.Message
	switch {
	case !last.IsZero() && t.now.Sub(last) < ServiceWindow:
		msg = &graph.TextMessage{To: phone, Recipient: bsuid, Body: d.text}
	case d.template.Name != "":
		lang := d.template.Language
		if lang == "" {
			lang = "en"
		}
		msg = &graph.TemplateMessage{To: phone, Recipient: bsuid, Name: d.template.Name, Language: lang, BodyParameters: d.params}
	default:
		res.Skipped++
		t.s.cfg.Logger.Warn("reminders: a message is due outside the user's 24-hour window and no template is set; not sent", "key_kind", keyKind(d.key))
		return nil
	}
	body, err := graph.EncodeMessage(msg)
	if err != nil {
		return err
	}
	_, created, err := st.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: d.key, To: d.to, TokenID: d.tokenID, Payload: body, CreatedAt: t.now})
	if err != nil {
		return fmt.Errorf("reminders: enqueueing %s: %w", keyKind(d.key), err)
	}
	if created {
		res.Enqueued++
		if t.s.cfg.OnEnqueue != nil {
			t.s.cfg.OnEnqueue()
		}
	} else {
		res.Already++ // another replica was first
	}
	return nil
}

// keyKind is the first part of a key, for logs: keys name users' bookings.
func keyKind(key string) string {
	for i := range len(key) {
		if key[i] == ':' {
			return key[:i]
		}
	}
	return key
}
