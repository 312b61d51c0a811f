package catalog

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/registry"
)

// Calendar Preferences (P2): PREFERENCES (notifications, reminder lead time,
// time zone, weekly digest) → SAVED. INIT shows the user's saved
// preferences (or the defaults); submitting saves them for the user,
// replacing what was saved before.

func init() { builders["calendar_preferences"] = newPreferences }

type preferences struct {
	*env
	cfg PreferencesSettings
}

func newPreferences(e *env) (*registry.Flow, error) {
	src, spec, err := loadSpec("calendar_preferences")
	if err != nil {
		return nil, err
	}
	p := &preferences{env: e, cfg: e.settings.CalendarPreferences}
	f := endpoint.NewFlowFromJSON("calendar_preferences", spec)
	f.Use(checkValues(spec, map[string]screenData{
		"PREFERENCES": func(ctx context.Context, r *endpoint.Request, _ map[string]any) (map[string]any, error) {
			return p.form(p.defaults(""), ""), nil
		},
	}, nil, e.log))
	f.HandleInit(func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		waID, err := userOf(r)
		if err != nil {
			return nil, err
		}
		saved, err := p.store.Preferences(ctx, waID)
		if errors.Is(err, waflow.ErrNotFound) {
			saved = p.defaults(waID)
		} else if err != nil {
			return nil, err
		}
		return endpoint.Next("PREFERENCES", p.form(saved, "")), nil
	})
	f.HandleDataExchange("PREFERENCES", p.save)
	return &registry.Flow{
		Name:     "calendar_preferences",
		Title:    "Calendar Preferences",
		Summary:  "notification settings, reminder lead time, time zone and digest, saved per user",
		Source:   src,
		Spec:     spec,
		Endpoint: f,
		Complete: func(context.Context, registry.Completion) error { return nil }, // saved by the endpoint
	}, nil
}

// userOf returns the WhatsApp id the session's token was issued to: the
// key of per-user data. A token issued without one cannot hold preferences.
func userOf(r *endpoint.Request) (string, error) {
	if r.Token.WAID == "" {
		return "", &endpoint.TokenError{Msg: "This form must be sent to you from the chat.", Err: errors.New("flow token has no WhatsApp id")}
	}
	return r.Token.WAID, nil
}

func (p *preferences) defaults(waID string) catalogstore.CalendarPreferences {
	lead, _ := strconv.Atoi(p.cfg.DefaultLeadTime)
	return catalogstore.CalendarPreferences{
		WAID:          waID,
		Notifications: slices.Clone(p.cfg.DefaultNotifications),
		LeadMinutes:   lead,
		TimeZone:      p.settings.TimeZone,
	}
}

func (p *preferences) form(v catalogstore.CalendarPreferences, tzError string) map[string]any {
	notes := make([]any, 0, len(v.Notifications))
	for _, n := range v.Notifications {
		if hasOption(p.cfg.Notifications, n) { // a kind removed from the settings is dropped
			notes = append(notes, n)
		}
	}
	lead := strconv.Itoa(v.LeadMinutes)
	if !hasOption(p.cfg.LeadTimes, lead) {
		lead = p.cfg.DefaultLeadTime
	}
	return map[string]any{
		"notification_options": dataSource(p.cfg.Notifications),
		"lead_time_options":    dataSource(p.cfg.LeadTimes),
		"notifications":        notes,
		"lead_time":            lead,
		"timezone":             v.TimeZone,
		"digest":               v.Digest,
		"timezone_error":       tzError,
	}
}

// checkTimeZone returns the canonical IANA name, or a message of at most 30
// characters. Names are looked up in the time zone database compiled into
// the binary, so the answer does not depend on the host.
func checkTimeZone(name string) (string, string) {
	name = strings.TrimSpace(name)
	if name == "" || name == "Local" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return "", "Unknown time zone"
	}
	if _, err := time.LoadLocation(name); err != nil {
		return "", "Unknown time zone"
	}
	return name, ""
}

func (p *preferences) save(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	waID, err := userOf(r)
	if err != nil {
		return nil, err
	}
	var in struct {
		Notifications []string `json:"notifications"`
		LeadTime      string   `json:"lead_time"`
		TimeZone      string   `json:"timezone"`
		Digest        bool     `json:"digest"`
	}
	if err := decodeData(r, &in); err != nil {
		return nil, err
	}
	lead, _ := strconv.Atoi(in.LeadTime) // an id of lead_times, checked by checkValues
	v := catalogstore.CalendarPreferences{WAID: waID, Notifications: in.Notifications, LeadMinutes: lead, TimeZone: in.TimeZone, Digest: in.Digest, UpdatedAt: p.now()}
	tz, msg := checkTimeZone(in.TimeZone)
	if msg != "" {
		return endpoint.ErrorOn("PREFERENCES", p.form(v, msg), "Time zone: "+msg+". Use a name such as Europe/Berlin."), nil
	}
	v.TimeZone = tz
	if v.Notifications == nil {
		v.Notifications = []string{}
	}
	if err := p.store.SavePreferences(ctx, v); err != nil {
		return nil, err
	}
	return endpoint.Next("SAVED", map[string]any{"summary": p.summary(v)}), nil
}

func (p *preferences) summary(v catalogstore.CalendarPreferences) string {
	var kinds []string
	for _, n := range v.Notifications {
		kinds = append(kinds, strings.ToLower(optionTitle(p.cfg.Notifications, n)))
	}
	notify := "No notifications"
	if len(kinds) > 0 {
		notify = "Notifications: " + strings.Join(kinds, ", ")
	}
	digest := "weekly digest off"
	if v.Digest {
		digest = "weekly digest on"
	}
	return notify + ". Reminders " + optionTitle(p.cfg.LeadTimes, strconv.Itoa(v.LeadMinutes)) + ", " + v.TimeZone + ", " + digest + "."
}
