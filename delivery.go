package waflow

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// DeliveryState is the state of an outgoing delivery: an event sent to a
// business's subscription, or a webhook relayed to its own handler.
type DeliveryState string

// The states of a delivery. Pending and sending are live; delivered and
// dead are final (until Redeliver).
const (
	// DeliveryPending deliveries wait to be claimed, once NextAttemptAt has
	// come.
	DeliveryPending DeliveryState = "pending"
	// DeliverySending deliveries are leased by a sender until LeaseUntil.
	DeliverySending DeliveryState = "sending"
	// DeliveryDelivered deliveries were answered 2xx.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryDead deliveries failed on every attempt of the schedule, or
	// can never be sent (their subscription was deleted); LastError says
	// why. They are kept for an operator (waflow events redeliver).
	DeliveryDead DeliveryState = "dead"
)

// RelayTarget is the Target of a relayed webhook delivery.
const RelayTarget = "relay"

// Delivery is one payload to POST to one destination, stored before it is
// sent and sent from the store, so that a crash loses nothing.
type Delivery struct {
	ID int64 // assigned by the store, increasing in insertion order
	// MsgID is the event's stable id ("msg_..."), sent as webhook-id in
	// every attempt; (MsgID, Target) is unique, so an event emitted twice
	// is delivered once per subscription.
	MsgID string
	// Target is the subscription id the delivery goes to, or RelayTarget
	// for a relayed webhook.
	Target string
	// Type is the event type ("flow.completed"), or "webhook" for a relay.
	Type string
	// OrderKey, when set, makes deliveries with the same key go one at a
	// time in ID order: a later one is not claimed while an earlier one is
	// pending or sending.
	OrderKey string
	// Payload is the exact body to send.
	Payload []byte

	State         DeliveryState
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	LeaseOwner    string
	LeaseUntil    time.Time
	CreatedAt     time.Time
	DeliveredAt   time.Time
}

// Validate checks the fields a store requires.
func (d Delivery) Validate() error {
	switch {
	case d.MsgID == "":
		return Invalidf("delivery: empty MsgID")
	case d.Target == "":
		return Invalidf("delivery: empty Target")
	case d.Type == "":
		return Invalidf("delivery: empty Type")
	case len(d.Payload) == 0:
		return Invalidf("delivery: empty Payload")
	}
	return nil
}

// DeliveryAttempt records one attempt at a delivery.
type DeliveryAttempt struct {
	DeliveryID int64
	At         time.Time
	// Status is the HTTP status answered, 0 when no answer came.
	Status   int
	Duration time.Duration
	// Error says why the attempt failed; empty on success. It never holds
	// payload values.
	Error string
}

// DeliveryFilter selects deliveries. Zero fields match everything.
type DeliveryFilter struct {
	State   DeliveryState
	AfterID int64 // only deliveries with a larger ID, for paging
	Limit   int   // at most this many; zero means 100
}

// Subscription is a business's endpoint for events.
type Subscription struct {
	// ID names the subscription ("sub_..." when generated).
	ID string `json:"id"`
	// URL receives the events, POSTed as JSON; http or https.
	URL string `json:"url"`
	// Secret signs them (Standard Webhooks, "whsec_..."). Never logged.
	Secret string `json:"secret,omitempty"`
	// Types are the event types sent there; "*" or none means all.
	Types     []string  `json:"types"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks the subscription's fields: an id, an absolute http(s)
// URL and a whsec_ secret.
func (s Subscription) Validate() error {
	if s.ID == "" {
		return Invalidf("subscription: empty id")
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalidf("subscription %s: url must be an absolute http or https URL", s.ID)
	}
	if !strings.HasPrefix(s.Secret, "whsec_") {
		return Invalidf("subscription %s: secret must be a Standard Webhooks secret (whsec_...)", s.ID)
	}
	for _, t := range s.Types {
		if strings.TrimSpace(t) == "" {
			return Invalidf("subscription %s: empty event type", s.ID)
		}
	}
	return nil
}

// Wants reports whether s receives events of type typ.
func (s Subscription) Wants(typ string) bool {
	if len(s.Types) == 0 {
		return true
	}
	for _, t := range s.Types {
		if t == "*" || t == typ {
			return true
		}
	}
	return false
}

// DeliveryStore is the durable queue of outgoing deliveries and the
// subscriptions events go to.
type DeliveryStore interface {
	// AddDeliveries stores ds, all or none, as DeliveryPending due at
	// once. A delivery whose (MsgID, Target) is stored already is skipped;
	// the number added is returned. ErrInvalid for a delivery that fails
	// Validate.
	AddDeliveries(ctx context.Context, ds []Delivery) (added int, err error)

	// ClaimDeliveries leases up to max due deliveries, oldest first, as
	// InboxStore.ClaimEvents does, except that a delivery with an OrderKey
	// is not claimed while an earlier one with the same key is pending or
	// sending.
	ClaimDeliveries(ctx context.Context, owner string, max int, lease time.Duration) ([]Delivery, error)

	// SettleDelivery records attempt a for delivery id, leased by owner,
	// and moves it to state: DeliveryDelivered, DeliveryDead, or
	// DeliveryPending due at next, with a.Error as LastError. It returns
	// ErrNotFound for an unknown id, ErrLeaseLost when the delivery is not
	// sending under owner's lease, ErrInvalid for state DeliverySending.
	SettleDelivery(ctx context.Context, id int64, owner string, a DeliveryAttempt, state DeliveryState, next time.Time) error

	// Redeliver makes delivery id pending again, due at once, with its
	// attempts reset (its attempt records are kept). It returns
	// ErrNotFound for an unknown id and ErrConflict when the delivery is
	// live (pending or sending).
	Redeliver(ctx context.Context, id int64) error

	// Delivery returns delivery id, or ErrNotFound.
	Delivery(ctx context.Context, id int64) (Delivery, error)
	// Deliveries returns the deliveries f selects, by increasing ID.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// DeliveryAttempts returns the attempts of delivery id, oldest first.
	DeliveryAttempts(ctx context.Context, id int64) ([]DeliveryAttempt, error)

	// PruneDeliveries deletes the deliveries delivered before cutoff, with
	// their attempts, and returns how many. Pending, sending and dead ones
	// are kept. An event emitted again after its delivery was pruned is
	// delivered again.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)

	// PutSubscription creates s, or replaces the subscription with its ID
	// (keeping CreatedAt). ErrInvalid when s fails Validate.
	PutSubscription(ctx context.Context, s Subscription) (Subscription, error)
	// Subscriptions returns every subscription, by ID.
	Subscriptions(ctx context.Context) ([]Subscription, error)
	// Subscription returns subscription id, or ErrNotFound.
	Subscription(ctx context.Context, id string) (Subscription, error)
	// DeleteSubscription deletes subscription id, or returns ErrNotFound.
	DeleteSubscription(ctx context.Context, id string) error
}
