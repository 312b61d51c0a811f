package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/internal/app"
)

// eventsSettings are the settings of events to the business and of the
// webhook relay (package events, docs/events.md).
type eventsSettings struct {
	file           string
	forwardURL     string
	forwardNoFlows string
	schedule       string
	timeout        string
	lease          string
	poll           string
}

func (c *eventsSettings) declare(s *settings) {
	s.String(&c.file, "events-file", "WAFLOW_EVENTS_FILE", "", "a JSON file of event subscriptions (URL, whsec_ secret, event types; see docs/events.md), stored at start")
	s.String(&c.forwardURL, "webhook-forward-url", "WAFLOW_WEBHOOK_FORWARD_URL", "", "relay every signed webhook Meta sends, byte for byte and signed again with the app secret, to this URL (the business's existing handler)")
	s.String(&c.forwardNoFlows, "webhook-forward-skip-flow-events", "WAFLOW_WEBHOOK_FORWARD_SKIP_FLOW_EVENTS", "false", "relay only webhooks that are not all flow events (completions, flows health)")
	s.String(&c.schedule, "events-retry-schedule", "WAFLOW_EVENTS_RETRY_SCHEDULE", "", "the waits before each retry of a failed delivery, comma-separated (default 5s,5m,30m,2h,5h and seven times 10h: more than three days)")
	s.String(&c.timeout, "events-timeout", "WAFLOW_EVENTS_TIMEOUT", "15s", "deadline of one delivery attempt")
	s.String(&c.lease, "events-lease", "WAFLOW_EVENTS_LEASE", "", "how long a replica holds a claimed delivery before another may retake it (after a crash); default twice the timeout plus 30s")
	s.String(&c.poll, "events-poll", "WAFLOW_EVENTS_POLL", "1s", "how often the sender looks for due retries")
}

// config checks the settings and reads the subscriptions file.
func (c *eventsSettings) config() (app.EventsConfig, error) {
	var ec app.EventsConfig
	var err error
	if c.file != "" {
		data, err := os.ReadFile(c.file)
		if err != nil {
			return ec, fmt.Errorf("events file: %w", err)
		}
		if ec.Subscriptions, err = events.ParseFile(data); err != nil {
			return ec, fmt.Errorf("%s: %w", c.file, err)
		}
	}
	if c.forwardURL != "" {
		u, err := url.Parse(c.forwardURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return ec, fmt.Errorf("WAFLOW_WEBHOOK_FORWARD_URL: want an absolute http or https URL")
		}
		ec.RelayURL = c.forwardURL
	}
	if ec.RelaySkipFlowEvents, err = strconv.ParseBool(c.forwardNoFlows); err != nil {
		return ec, fmt.Errorf("WAFLOW_WEBHOOK_FORWARD_SKIP_FLOW_EVENTS %q: want true or false", c.forwardNoFlows)
	}
	for _, item := range splitList(c.schedule) {
		d, err := time.ParseDuration(item)
		if err != nil || d < 0 {
			return ec, fmt.Errorf("WAFLOW_EVENTS_RETRY_SCHEDULE: %q is not a duration such as 5m", item)
		}
		ec.Schedule = append(ec.Schedule, d)
	}
	if ec.Timeout, err = positiveDuration("events timeout", c.timeout); err != nil {
		return ec, err
	}
	if c.lease != "" {
		if ec.Lease, err = positiveDuration("events lease", c.lease); err != nil {
			return ec, err
		}
		if ec.Lease <= ec.Timeout {
			return ec, fmt.Errorf("events lease %v must exceed the events timeout %v", ec.Lease, ec.Timeout)
		}
	}
	if ec.PollInterval, err = positiveDuration("events poll", c.poll); err != nil {
		return ec, err
	}
	return ec, nil
}
