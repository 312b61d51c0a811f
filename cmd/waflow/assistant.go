package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/waflow/waflow/internal/app"
	"github.com/waflow/waflow/reminders"
)

// assistantSettings switch what the catalog's assistant sends (package
// reminders, docs/reminders.md): each is a setting a business can turn off.
type assistantSettings struct {
	reminders, budgetAlerts, digest string
	digestAt                        string
	reminderTemplate                string
	digestTemplate                  string
	templateLanguage                string
	interval                        string
}

func (c *assistantSettings) declare(s *settings) {
	s.String(&c.reminders, "reminders", "WAFLOW_REMINDERS", "on", "on or off: reminders before bookings (whose user opted in) and schedule sessions, at the user's lead time")
	s.String(&c.budgetAlerts, "budget-alerts", "WAFLOW_BUDGET_ALERTS", "on", "on or off: an alert when a user's expenses reach their budget's alert threshold or limit")
	s.String(&c.digest, "digest", "WAFLOW_DIGEST", "on", "on or off: the weekly digest for users who opted in")
	s.String(&c.digestAt, "digest-at", "WAFLOW_DIGEST_AT", "mon 08:00", "when the weekly digest is due, in each user's time zone: a weekday and HH:MM")
	s.String(&c.reminderTemplate, "reminder-template", "WAFLOW_REMINDER_TEMPLATE", "", "the approved utility template for reminders due outside the user's 24-hour window (body {{1}} what, {{2}} day, {{3}} time); without it such reminders are not sent")
	s.String(&c.digestTemplate, "digest-template", "WAFLOW_DIGEST_TEMPLATE", "", "the approved template for digests due outside the user's 24-hour window (body {{1}} bookings, {{2}} sessions, {{3}} last week's spending); without it such digests are not sent")
	s.String(&c.templateLanguage, "template-language", "WAFLOW_TEMPLATE_LANGUAGE", "en", "the language code of those templates, such as en_US")
	s.String(&c.interval, "reminder-interval", "WAFLOW_REMINDER_INTERVAL", "1m", "how often each replica looks for due reminders and digests")
}

// onOff reads an on/off setting.
func onOff(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "1", "yes":
		return true, nil
	case "off", "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%s is %q: want on or off", name, v)
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// parseDigestAt reads "mon 08:00": a weekday (its first three letters or
// its whole name) and HH:MM.
func parseDigestAt(v string) (time.Weekday, string, error) {
	day, clock, ok := strings.Cut(strings.TrimSpace(v), " ")
	day = strings.ToLower(day)
	wd, known := weekdays[day]
	for _, d := range weekdays {
		if strings.ToLower(d.String()) == day {
			wd, known = d, true
		}
	}
	if _, perr := time.Parse("15:04", clock); !ok || !known || perr != nil || len(clock) != 5 {
		return 0, "", fmt.Errorf("WAFLOW_DIGEST_AT is %q: want a weekday and HH:MM, such as \"mon 08:00\"", v)
	}
	return wd, clock, nil
}

// config checks the settings and returns what app.Config.Assistant takes.
func (c *assistantSettings) config() (app.AssistantConfig, error) {
	var ac app.AssistantConfig
	var err error
	if ac.Reminders, err = onOff("WAFLOW_REMINDERS", c.reminders); err != nil {
		return ac, err
	}
	if ac.BudgetAlerts, err = onOff("WAFLOW_BUDGET_ALERTS", c.budgetAlerts); err != nil {
		return ac, err
	}
	if ac.Digest, err = onOff("WAFLOW_DIGEST", c.digest); err != nil {
		return ac, err
	}
	if ac.DigestDay, ac.DigestClock, err = parseDigestAt(c.digestAt); err != nil {
		return ac, err
	}
	if ac.Interval, err = positiveDuration("reminder interval", c.interval); err != nil {
		return ac, err
	}
	ac.ReminderTemplate = reminders.Template{Name: strings.TrimSpace(c.reminderTemplate), Language: c.templateLanguage}
	ac.DigestTemplate = reminders.Template{Name: strings.TrimSpace(c.digestTemplate), Language: c.templateLanguage}
	return ac, nil
}
