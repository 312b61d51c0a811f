package events

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/waflow/waflow"
)

// RelayStore is what a Relay needs of the store.
type RelayStore interface {
	AddDeliveries(ctx context.Context, ds []waflow.Delivery) (int, error)
}

// Relay keeps Meta's webhooks for the business's own handler. Keep is
// called by the webhook receiver after the signature is checked and before
// Meta is answered: a webhook it could not store is answered 500 and
// WhatsApp sends it again.
type Relay struct {
	store    RelayStore
	notify   func()
	skipFlow bool
	log      *slog.Logger
}

// RelayConfig configures a Relay.
type RelayConfig struct {
	Store RelayStore
	// Notify wakes the sender after a webhook is stored; none when nil.
	Notify func()
	// SkipFlowEvents relays only webhooks that are not all flow events:
	// a body whose every event is a flow completion or a flows webhook is
	// not relayed (waflow handles those); a body with any other event is
	// relayed whole, byte for byte.
	SkipFlowEvents bool
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// NewRelay returns a Relay, or an error without a store.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if cfg.Store == nil {
		return nil, errors.New("events: relay without a store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Relay{store: cfg.Store, notify: cfg.Notify, skipFlow: cfg.SkipFlowEvents, log: cfg.Logger}, nil
}

// Keep stores body, the raw bytes of a signed webhook, as a delivery to the
// relay URL. Its id is the hash of the bytes, so WhatsApp's retries of one
// webhook are relayed once. Deliveries are ordered per WhatsApp user (see
// UserOf); a body that names none goes unordered.
func (r *Relay) Keep(ctx context.Context, body []byte, events []waflow.InboxEvent) error {
	if r.skipFlow && onlyFlowEvents(events) {
		return nil
	}
	sum := sha256.Sum256(body)
	d := waflow.Delivery{
		MsgID:   "msg_" + hex.EncodeToString(sum[:16]),
		Target:  waflow.RelayTarget,
		Type:    "webhook",
		Payload: body,
	}
	if u := UserOf(body); u != "" {
		d.OrderKey = "wa:" + u
	}
	added, err := r.store.AddDeliveries(ctx, []waflow.Delivery{d})
	if err != nil {
		return fmt.Errorf("events: storing the webhook for the relay: %w", err)
	}
	r.log.Debug("webhook kept for the relay", "msg_id", d.MsgID, "bytes", len(body), "new", added, "ordered", d.OrderKey != "")
	if added > 0 && r.notify != nil {
		r.notify()
	}
	return nil
}

func onlyFlowEvents(events []waflow.InboxEvent) bool {
	for _, e := range events {
		if e.Kind != waflow.EventCompletion && e.Kind != waflow.EventFlows {
			return false
		}
	}
	return len(events) > 0
}

// UserOf returns the WhatsApp user a webhook body is about: the first
// business-scoped user id it names (a contact's user_id, a message's
// from_user_id, a status's recipient_user_id), else the first phone number
// (wa_id, from, recipient_id), or "" when it names none or is not a
// webhook body. The BSUID comes first: Meta sends it with every message
// and a user with a username has no other (protocol.md 4.2).
func UserOf(body []byte) string {
	var w struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Contacts []struct {
						WAID   string `json:"wa_id"`
						UserID string `json:"user_id"`
					} `json:"contacts"`
					Messages []struct {
						From       string `json:"from"`
						FromUserID string `json:"from_user_id"`
					} `json:"messages"`
					Statuses []struct {
						RecipientID     string `json:"recipient_id"`
						RecipientUserID string `json:"recipient_user_id"`
					} `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &w) != nil {
		return ""
	}
	phone := ""
	for _, e := range w.Entry {
		for _, c := range e.Changes {
			v := c.Value
			for _, x := range v.Contacts {
				if x.UserID != "" {
					return x.UserID
				}
				phone = cmp.Or(phone, x.WAID)
			}
			for _, x := range v.Messages {
				if x.FromUserID != "" {
					return x.FromUserID
				}
				phone = cmp.Or(phone, x.From)
			}
			for _, x := range v.Statuses {
				if x.RecipientUserID != "" {
					return x.RecipientUserID
				}
				phone = cmp.Or(phone, x.RecipientID)
			}
		}
	}
	return phone
}
