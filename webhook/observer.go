package webhook

import "time"

// Observer receives what the receiver and the worker count, for metrics.
// internal/metrics.Metrics implements it. Methods must be quick and safe for
// concurrent use.
type Observer interface {
	// WebhookRequest is called once per answered request.
	WebhookRequest(status int, d time.Duration)
	// WebhookEvent is called once per event of an accepted POST,
	// duplicates included; kind is a waflow.EventKind.
	WebhookEvent(kind string)
	// WebhookDuplicates is called with the number of events of an accepted
	// POST that were already in the inbox.
	WebhookDuplicates(n int)
	// EventProcessed is called when the worker settles an event in a final
	// state (done, rejected, dead).
	EventProcessed(kind, state string)
	// ProcessingFailure is called for each failed attempt at an event.
	ProcessingFailure(kind string)
	// FlowEvent is called once per processed flows event, with the event
	// name and its alert state or new status.
	FlowEvent(event, state string)
}

type nopObserver struct{}

func (nopObserver) WebhookRequest(int, time.Duration) {}
func (nopObserver) WebhookEvent(string)               {}
func (nopObserver) WebhookDuplicates(int)             {}
func (nopObserver) EventProcessed(string, string)     {}
func (nopObserver) ProcessingFailure(string)          {}
func (nopObserver) FlowEvent(string, string)          {}
