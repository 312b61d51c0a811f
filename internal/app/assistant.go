package app

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/reminders"
)

// AssistantConfig switches what the catalog's assistant (package
// reminders) sends; the zero value sends nothing.
type AssistantConfig struct {
	// Reminders before bookings and sessions.
	Reminders bool
	// BudgetAlerts when expenses reach a budget's threshold or limit.
	BudgetAlerts bool
	// Digest is the weekly digest, due on DigestDay at DigestClock
	// ("HH:MM") in each user's time zone.
	Digest      bool
	DigestDay   time.Weekday
	DigestClock string
	// ReminderTemplate and DigestTemplate are the approved templates sent
	// outside a user's 24-hour window; without one such a message is not
	// sent (reminders.Config).
	ReminderTemplate, DigestTemplate reminders.Template
	// Interval is how often the scheduler looks for due messages; one
	// minute when zero.
	Interval time.Duration
}

// scheduling reports whether the scheduler runs: reminders or digests.
func (c AssistantConfig) scheduling() bool { return c.Reminders || c.Digest }

// startAssistant starts the scheduler of reminders and digests, when
// either is on. Every replica runs one: the outbox's idempotency keys make
// each message one (package reminders).
func (a *App) startAssistant(ctx context.Context, cfg Config) error {
	ac := cfg.Assistant
	if !ac.scheduling() {
		return nil
	}
	settings := cfg.CatalogSettings
	if settings == nil {
		var err error
		if settings, err = catalog.DefaultSettings(); err != nil {
			return err
		}
	}
	maxLead := 0
	for _, o := range settings.CalendarPreferences.LeadTimes {
		if n, err := strconv.Atoi(o.ID); err == nil {
			maxLead = max(maxLead, n)
		}
	}
	titles := map[string]string{}
	for _, o := range slices.Concat(settings.BudgetSetup.Categories, settings.ExpenseEntry.Categories) {
		titles[o.ID] = o.Title
	}
	s, err := reminders.New(reminders.Config{
		Store:             a.store,
		Reminders:         ac.Reminders,
		Digest:            ac.Digest,
		Location:          settings.Location(),
		BookingLead:       time.Duration(settings.AppointmentBooking.ReminderLeadMinutes) * time.Minute,
		MaxLead:           time.Duration(maxLead) * time.Minute,
		SessionsByDefault: slices.Contains(settings.CalendarPreferences.DefaultNotifications, reminders.ReminderKind),
		ReminderTemplate:  ac.ReminderTemplate,
		DigestTemplate:    ac.DigestTemplate,
		DigestDay:         ac.DigestDay,
		DigestClock:       ac.DigestClock,
		Titles:            titles,
		Interval:          ac.Interval,
		OnEnqueue:         a.notifyOutbox,
		Logger:            a.log.With("component", "reminders"),
	})
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(sctx)
	}()
	a.stopAssistant = func() { cancel(); <-done }
	a.log.Info("reminders: scheduling", "reminders", ac.Reminders, "digest", ac.Digest, "budget_alerts", ac.BudgetAlerts,
		"reminder_template", ac.ReminderTemplate.Name != "", "digest_template", ac.DigestTemplate.Name != "")
	return nil
}

// notifyOutbox wakes the outbox worker, when there is one.
func (a *App) notifyOutbox() {
	if a.outbox != nil {
		a.outbox.Notify()
	}
}

// noteInbound is the webhook worker's OnInbound when the scheduler runs:
// the user's last message opens their 24-hour window.
func (a *App) noteInbound(cfg Config) func(ctx context.Context, waID string, at time.Time) error {
	if !cfg.Assistant.scheduling() {
		return nil
	}
	return a.store.NoteInbound
}
