package main

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func TestAssistantSettings(t *testing.T) {
	t.Parallel()
	parse := func(env map[string]string) (assistantSettingsResult, error) {
		var c assistantSettings
		s := newSettings(flag.NewFlagSet("serve", flag.ContinueOnError), &Env{Getenv: func(k string) string { return env[k] }})
		c.declare(s)
		if err := s.resolve(); err != nil {
			return assistantSettingsResult{}, err
		}
		ac, err := c.config()
		return assistantSettingsResult{ac.Reminders, ac.BudgetAlerts, ac.Digest, ac.DigestDay, ac.DigestClock, ac.ReminderTemplate.Name, ac.Interval}, err
	}
	got, err := parse(nil)
	if want := (assistantSettingsResult{true, true, true, time.Monday, "08:00", "", time.Minute}); err != nil || got != want {
		t.Errorf("defaults = %+v, %v; want %+v", got, err, want)
	}
	got, err = parse(map[string]string{"WAFLOW_REMINDERS": "off", "WAFLOW_BUDGET_ALERTS": "OFF", "WAFLOW_DIGEST": "off",
		"WAFLOW_DIGEST_AT": "Sunday 18:30", "WAFLOW_REMINDER_TEMPLATE": "appointment_reminder"})
	if want := (assistantSettingsResult{false, false, false, time.Sunday, "18:30", "appointment_reminder", time.Minute}); err != nil || got != want {
		t.Errorf("all off = %+v, %v; want %+v", got, err, want)
	}
	for env, msg := range map[string]string{
		"WAFLOW_REMINDERS=maybe":      "WAFLOW_REMINDERS",
		"WAFLOW_DIGEST_AT=08:00":      "WAFLOW_DIGEST_AT",
		"WAFLOW_DIGEST_AT=mon 8:00":   "WAFLOW_DIGEST_AT",
		"WAFLOW_DIGEST_AT=xyz 08:00":  "WAFLOW_DIGEST_AT",
		"WAFLOW_DIGEST_AT=monx 08:00": "WAFLOW_DIGEST_AT",
		"WAFLOW_REMINDER_INTERVAL=0s": "reminder interval",
	} {
		k, v, _ := strings.Cut(env, "=")
		if _, err := parse(map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want one naming %s", env, err, msg)
		}
	}
}

type assistantSettingsResult struct {
	reminders, alerts, digest bool
	day                       time.Weekday
	clock, template           string
	interval                  time.Duration
}

// FuzzDigestAt: any text gets an answer, and what is accepted names a day
// and a time of day.
func FuzzDigestAt(f *testing.F) {
	for _, s := range []string{"mon 08:00", "Sunday 18:30", "ẞ 08:00", "monxyz 08:00", "mon 8:00", "", " ", "fri 23:59 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		wd, clock, err := parseDigestAt(v)
		if err != nil {
			return
		}
		if _, perr := time.Parse("15:04", clock); perr != nil || wd < time.Sunday || wd > time.Saturday {
			t.Errorf("parseDigestAt(%q) = %v %q", v, wd, clock)
		}
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), strings.ToLower(wd.String())[:3]) {
			t.Errorf("parseDigestAt(%q) = %v: not the day written", v, wd)
		}
	})
}
