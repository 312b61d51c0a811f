package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"crypto/rand"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/stdwebhooks"
)

// DefaultSchedule is the wait before each retry of a failed delivery, the
// Standard Webhooks / Svix schedule extended with 10-hour steps so that a
// delivery is tried for more than three days (77 h 35 min 5 s after the
// first attempt): 13 attempts in all, then the delivery is dead.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Defaults of SenderConfig.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultPollInterval = time.Second
	DefaultConcurrency  = 4
	// DefaultRetention is how long a delivered delivery is kept: longer
	// than WhatsApp retries a webhook (7 days), so that a retry of one
	// already relayed is still recognised.
	DefaultRetention = 8 * 24 * time.Hour
)

// pruneEvery is how often Run deletes the deliveries past Retention.
const pruneEvery = time.Hour

// SendStore is what a Sender needs of the store.
type SendStore interface {
	ClaimDeliveries(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.Delivery, error)
	SettleDelivery(ctx context.Context, id int64, owner string, a waflow.DeliveryAttempt, state waflow.DeliveryState, next time.Time) error
	Subscription(ctx context.Context, id string) (waflow.Subscription, error)
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// SenderConfig configures a Sender. Store is required; RelayURL and
// RelaySecret go together.
type SenderConfig struct {
	Store SendStore
	// Client sends the requests; a client without redirects when nil.
	Client *http.Client
	// RelayURL receives relayed webhooks, signed with RelaySecret (the Meta
	// app secret) as X-Hub-Signature-256. A relay delivery without them is
	// retried until they are set.
	RelayURL    string
	RelaySecret []byte
	// Schedule is the wait before each retry; DefaultSchedule when nil.
	// After len(Schedule) retries a delivery is dead.
	Schedule []time.Duration
	// Timeout bounds one attempt; DefaultTimeout when zero.
	Timeout time.Duration
	// Lease is how long a claim holds; 2 × Timeout + 30 s when zero.
	Lease time.Duration
	// Retention is how long a delivered delivery (its payload and
	// attempts) is kept, for "waflow events list" and to recognise an event
	// emitted again; DefaultRetention when zero, for ever when negative.
	// Dead deliveries are kept until redelivered.
	Retention time.Duration
	// PollInterval is how often an idle sender looks for due deliveries
	// (Notify wakes it sooner); DefaultPollInterval when zero.
	PollInterval time.Duration
	// Concurrency is how many deliveries are sent at once;
	// DefaultConcurrency when zero.
	Concurrency int
	// Owner names this sender in leases; host, pid and a random suffix
	// when empty.
	Owner string
	// Now is the clock of attempts and retries; time.Now when nil.
	Now func() time.Time
	// Logger; slog.Default() when nil. Payloads and secrets are never
	// logged.
	Logger *slog.Logger
}

// Sender delivers the stored deliveries: it claims due ones with a lease,
// POSTs each (an event signed with its subscription's secret, a relayed
// webhook with the app secret), and records the attempt: delivered on a
// 2xx answer, otherwise pending again after the schedule's next wait, or
// dead after the last. State lives in the store: a sender that crashes
// loses nothing, its leases run out and the deliveries are sent again
// (at least once, with the same webhook-id).
type Sender struct {
	cfg  SenderConfig
	wake chan struct{}
	log  *slog.Logger
}

// NewSender returns a Sender, or an error when cfg has no store, or a
// relay URL without a secret.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Store == nil {
		return nil, errors.New("events: sender without a store")
	}
	if cfg.RelayURL != "" && len(cfg.RelaySecret) == 0 {
		return nil, fmt.Errorf("events: relay URL set without an app secret: %w", signature.ErrNoSecret)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2*cfg.Timeout + 30*time.Second
	}
	if cfg.Lease <= cfg.Timeout {
		return nil, fmt.Errorf("events: lease %v must exceed the timeout %v", cfg.Lease, cfg.Timeout)
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		cfg.Owner = fmt.Sprintf("events-%s-%d-%x", host, os.Getpid(), b)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Sender{cfg: cfg, wake: make(chan struct{}, 1), log: cfg.Logger}, nil
}

// Notify wakes the sender: deliveries were stored.
func (s *Sender) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx is done; the attempts in flight are
// recorded before it returns.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	var pruned time.Time
	for {
		if time.Since(pruned) >= pruneEvery {
			pruned = time.Now()
			if n, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("events: deleting old deliveries failed", "error", err)
			} else if n > 0 {
				s.log.Info("events: old deliveries deleted", "deliveries", n)
			}
		}
		n, err := s.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("events: claiming deliveries failed", "error", err)
		}
		if n > 0 && ctx.Err() == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		}
	}
}

// Prune deletes the deliveries delivered more than Retention ago (none
// when Retention is negative) and returns how many; Run calls it every
// hour.
func (s *Sender) Prune(ctx context.Context) (int64, error) {
	if s.cfg.Retention < 0 {
		return 0, nil
	}
	return s.cfg.Store.PruneDeliveries(ctx, s.cfg.Now().Add(-s.cfg.Retention))
}

// SendDue claims up to Concurrency due deliveries, sends them at once and
// records each attempt; it returns how many it claimed.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	ds, err := s.cfg.Store.ClaimDeliveries(ctx, s.cfg.Owner, s.cfg.Concurrency, s.cfg.Lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.deliver(ctx, d)
		}()
	}
	wg.Wait()
	return len(ds), nil
}

func (s *Sender) deliver(ctx context.Context, d waflow.Delivery) {
	log := s.log.With("delivery", d.ID, "msg_id", d.MsgID, "type", d.Type, "target", d.Target, "attempt", d.Attempts)
	start := s.cfg.Now()
	status, final, err := s.attempt(ctx, d)
	a := waflow.DeliveryAttempt{At: start, Status: status, Duration: s.cfg.Now().Sub(start)}
	state, next := waflow.DeliveryDelivered, time.Time{}
	if err != nil {
		a.Error = err.Error()
		switch {
		case ctx.Err() != nil:
			// Stopping: due again at once, for this sender restarted or another.
			state, next = waflow.DeliveryPending, start
			a.Error = "sender stopped: " + a.Error
		case final:
			state = waflow.DeliveryDead
		case d.Attempts > len(s.cfg.Schedule):
			state = waflow.DeliveryDead
			a.Error = fmt.Sprintf("attempt %d, the last: %s", d.Attempts, a.Error)
		default:
			state, next = waflow.DeliveryPending, start.Add(s.cfg.Schedule[d.Attempts-1])
		}
	}
	// Record even when ctx is done: this ends the work in flight.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if serr := s.cfg.Store.SettleDelivery(sctx, d.ID, s.cfg.Owner, a, state, next); serr != nil {
		log.Error("events: could not record the attempt; the delivery is sent again when its lease runs out", "error", serr)
		return
	}
	switch state {
	case waflow.DeliveryDelivered:
		log.Debug("events: delivered", "status", status, "ms", a.Duration.Milliseconds())
	case waflow.DeliveryDead:
		log.Error("events: delivery dead", "status", status, "error", a.Error)
	default:
		log.Warn("events: delivery failed; retrying", "status", status, "error", a.Error, "next", next)
	}
}

// attempt POSTs d once. final is true when d can never be sent (its
// subscription was deleted).
func (s *Sender) attempt(ctx context.Context, d waflow.Delivery) (status int, final bool, err error) {
	var target string
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "waflow-events")
	if d.Target == waflow.RelayTarget {
		if s.cfg.RelayURL == "" {
			return 0, false, errors.New("no relay URL configured")
		}
		target = s.cfg.RelayURL
		h.Set(signature.Header, signature.Sign(s.cfg.RelaySecret, d.Payload))
	} else {
		sub, err := s.cfg.Store.Subscription(ctx, d.Target)
		if errors.Is(err, waflow.ErrNotFound) {
			return 0, true, fmt.Errorf("subscription %s was deleted", d.Target)
		}
		if err != nil {
			return 0, false, fmt.Errorf("reading subscription %s: %w", d.Target, err)
		}
		signer, err := stdwebhooks.NewSigner(sub.Secret)
		if err != nil {
			return 0, true, fmt.Errorf("subscription %s: its secret is unusable", d.Target)
		}
		if err := signer.SetHeaders(h, d.MsgID, s.cfg.Now(), d.Payload); err != nil {
			return 0, true, fmt.Errorf("signing: %w", err)
		}
		target = sub.URL
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, target, strings.NewReader(string(d.Payload)))
	if err != nil {
		return 0, true, fmt.Errorf("bad URL: %s", describe(err))
	}
	req.Header = h
	req.ContentLength = int64(len(d.Payload))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return 0, false, errors.New(describe(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, false, errors.New("HTTP " + strconv.Itoa(resp.StatusCode))
	}
	return resp.StatusCode, false, nil
}

// describe is an attempt's error without the URL (which may carry a
// token in its query).
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}
