package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
)

// Sender posts a message body made by graph.EncodeMessage; *graph.Client is
// the Sender of production.
type Sender interface {
	SendEncoded(ctx context.Context, phoneNumberID string, body []byte) (*graph.SendResult, error)
}

// Defaults used by New for the zero values of Config.
const (
	DefaultLease        = 5 * time.Minute
	DefaultSendTimeout  = 2 * time.Minute
	DefaultPollInterval = 2 * time.Second
	DefaultMaxAttempts  = 8
	DefaultBaseDelay    = 15 * time.Second
	DefaultMaxDelay     = 30 * time.Minute
	DefaultAuthPause    = 5 * time.Minute
	// DefaultThrottledDelay is the least wait after Meta refused a send
	// because the flow is THROTTLED (132069): only 10 new flow messages an
	// hour go through (protocol.md 3.3), so one every six minutes.
	DefaultThrottledDelay = 6 * time.Minute
)

// Store is what a Worker needs of the outbox: claiming due messages and
// settling them. Each method has the contract waflow.OutboxStore gives it;
// both drivers implement it.
type Store interface {
	ClaimOutbox(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.OutboxMessage, error)
	MarkSent(ctx context.Context, id int64, owner, wamid string, at time.Time) error
	RetryOutbox(ctx context.Context, id int64, owner, lastError string, next time.Time) error
	FailOutbox(ctx context.Context, id int64, owner, lastError string) error
	MarkUnknown(ctx context.Context, id int64, owner, lastError string) error
}

// The outbox contract includes what the worker needs.
var _ Store = waflow.OutboxStore(nil)

// Config configures a Worker. Store, Sender and PhoneNumberID are required.
type Config struct {
	Store  Store
	Sender Sender
	// PhoneNumberID is the business phone number messages are sent from.
	PhoneNumberID string
	// Owner names this worker in leases; a random id with the host name
	// and process id when empty. Two workers must never share an owner.
	Owner string
	// Lease is how long a claimed message stays reserved to this worker;
	// DefaultLease when 0. It must be longer than SendTimeout, so that a
	// lease only expires when its holder stopped.
	Lease time.Duration
	// SendTimeout bounds one send, the graph client's own retries
	// included; DefaultSendTimeout when 0.
	SendTimeout time.Duration
	// PollInterval is how often the worker looks for due messages when
	// nobody calls Notify; DefaultPollInterval when 0.
	PollInterval time.Duration
	// MaxAttempts is how many attempts a message gets before a temporary
	// failure settles it as dead; DefaultMaxAttempts when 0. An invalid
	// access token never settles a message as dead.
	MaxAttempts int
	// BaseDelay and MaxDelay bound the exponential backoff between
	// attempts (doubling from BaseDelay, with jitter); DefaultBaseDelay and
	// DefaultMaxDelay when 0.
	BaseDelay, MaxDelay time.Duration
	// ThrottledDelay is the least wait after a THROTTLED refusal;
	// DefaultThrottledDelay when 0.
	ThrottledDelay time.Duration
	// AuthPause is how long the worker stops sending after Meta refused the
	// access token (code 190); DefaultAuthPause when 0.
	AuthPause time.Duration
	// Concurrency is how many messages are sent at once; 1 when 0.
	Concurrency int
	// Now is the clock of retry times; time.Now when nil. The store keeps
	// its own clock for leases.
	Now func() time.Time
	// OnResult, when set, is called after each claimed message is settled
	// (for metrics and tests). It must not block.
	OnResult func(Result)
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Outcome is what became of a claimed message.
type Outcome string

// Outcomes of one attempt.
const (
	// Sent: Meta accepted the message and its wamid is recorded.
	Sent Outcome = "sent"
	// Retry: the attempt failed temporarily; the message is pending again,
	// due at Result.Next.
	Retry Outcome = "retry"
	// Dead: Meta refused the message for good, or it failed MaxAttempts
	// times; LastError says why.
	Dead Outcome = "dead"
	// Uncertain: the message may have been delivered; it is settled as
	// waflow.OutboxUnknown and is not sent again.
	Uncertain Outcome = "uncertain"
	// Released: the worker stopped before sending; the message is pending
	// again, due at once, and was not sent.
	Released Outcome = "released"
	// Unsettled: the outcome could not be recorded (the store failed); the
	// next claim after the lease settles it as uncertain if it might have
	// been sent.
	Unsettled Outcome = "unsettled"
)

// Result reports one settled attempt.
type Result struct {
	Message waflow.OutboxMessage // as claimed; Attempts is this attempt's number
	Outcome Outcome
	WAMID   string    // for Sent
	Next    time.Time // for Retry and Released
	Err     error     // why it was not Sent, if it was not
}

// Stats counts the outcomes of SendDue.
type Stats struct {
	Sent, Retried, Dead, Uncertain, Released, Unsettled int
}

func (s *Stats) add(o Outcome) {
	switch o {
	case Sent:
		s.Sent++
	case Retry:
		s.Retried++
	case Dead:
		s.Dead++
	case Uncertain:
		s.Uncertain++
	case Released:
		s.Released++
	case Unsettled:
		s.Unsettled++
	}
}

// Worker sends the outbox's due messages. It is safe for concurrent use; run
// any number of workers, in any number of processes sharing the database.
type Worker struct {
	cfg         Config
	log         *slog.Logger
	wake        chan struct{}
	pausedUntil atomic.Int64 // unix nanoseconds; 0 when not paused
}

// New returns a Worker for cfg.
func New(cfg Config) (*Worker, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("outbox: Config.Store is required")
	case cfg.Sender == nil:
		return nil, errors.New("outbox: Config.Sender is required (a *graph.Client)")
	case cfg.PhoneNumberID == "":
		return nil, errors.New("outbox: Config.PhoneNumberID is required: the phone number messages are sent from")
	}
	setDefault(&cfg.Lease, DefaultLease)
	setDefault(&cfg.SendTimeout, DefaultSendTimeout)
	setDefault(&cfg.PollInterval, DefaultPollInterval)
	setDefault(&cfg.BaseDelay, DefaultBaseDelay)
	setDefault(&cfg.MaxDelay, DefaultMaxDelay)
	setDefault(&cfg.ThrottledDelay, DefaultThrottledDelay)
	setDefault(&cfg.AuthPause, DefaultAuthPause)
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Lease <= cfg.SendTimeout {
		return nil, fmt.Errorf("outbox: the lease (%s) must be longer than the send timeout (%s): a lease that expires during a send lets another worker see the message as interrupted", cfg.Lease, cfg.SendTimeout)
	}
	if cfg.Owner == "" {
		cfg.Owner = defaultOwner()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Worker{cfg: cfg, log: log.With(slog.String("component", "outbox")), wake: make(chan struct{}, 1)}, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("outbox:%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Notify wakes the worker to look for due messages at once; call it after
// Enqueue. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends due messages until ctx is done, then returns once the sends in
// flight are settled.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range w.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx)
		}()
	}
	wg.Wait()
}

func (w *Worker) loop(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := w.cfg.PollInterval
		if until := w.pausedUntil.Load(); until != 0 {
			if d := time.Unix(0, until).Sub(w.cfg.Now()); d > 0 {
				wait = d
			} else {
				w.pausedUntil.CompareAndSwap(until, 0)
				continue
			}
		} else {
			_, ok, err := w.sendOne(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				w.log.Warn("outbox: claiming messages failed; retrying", "error", err, "wait", wait)
			case ok:
				w.Notify() // there may be more: let a sibling loop look too
				continue
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			timer.Stop() // Go 1.23 timers: no stale tick to drain
		case <-timer.C:
		}
	}
}

// SendDue sends the messages due now, one after the other, until none is
// due or ctx is done, and counts the outcomes. It stops early while the
// worker is paused on an access-token error.
func (w *Worker) SendDue(ctx context.Context) (Stats, error) {
	var s Stats
	for ctx.Err() == nil && !w.paused() {
		r, ok, err := w.sendOne(ctx)
		if err != nil {
			return s, err
		}
		if !ok {
			return s, nil
		}
		s.add(r.Outcome)
	}
	return s, ctx.Err()
}

func (w *Worker) paused() bool {
	until := w.pausedUntil.Load()
	return until != 0 && w.cfg.Now().UnixNano() < until
}

// sendOne claims one due message and settles it. ok is false when none was
// due.
func (w *Worker) sendOne(ctx context.Context) (r Result, ok bool, err error) {
	ms, err := w.cfg.Store.ClaimOutbox(ctx, w.cfg.Owner, 1, w.cfg.Lease)
	if err != nil {
		return Result{}, false, fmt.Errorf("outbox: claiming a message: %w", err)
	}
	if len(ms) == 0 {
		return Result{}, false, nil
	}
	r = w.process(ctx, ms[0])
	if w.cfg.OnResult != nil {
		w.cfg.OnResult(r)
	}
	return r, true, nil
}

// attemptPrefix starts the LastError every settled attempt writes.
func attemptPrefix(n int) string { return "attempt " + strconv.Itoa(n) + ": " }

// interrupted reports whether a message claimed for attempt m.Attempts
// shows an earlier attempt that never settled: every settled attempt that
// left the message pending wrote its number into LastError.
func interrupted(m waflow.OutboxMessage) bool {
	return m.Attempts > 1 && !strings.HasPrefix(m.LastError, attemptPrefix(m.Attempts-1))
}

// process sends claimed message m and settles it.
func (w *Worker) process(ctx context.Context, m waflow.OutboxMessage) Result {
	n := m.Attempts
	log := w.log.With(slog.Int64("outbox_id", m.ID), slog.String("key", m.IdempotencyKey), slog.Int("attempt", n))
	if interrupted(m) {
		err := fmt.Errorf("attempt %d was interrupted before its result was recorded (the worker stopped or lost its lease while sending), so the message may have been delivered; it is not sent again", n-1)
		log.Error("outbox: message may have been delivered; settled as uncertain, not resent: check the conversation", "error", err)
		return w.settle(ctx, log, m, Result{Outcome: Uncertain, Err: err}, err.Error())
	}
	if ctx.Err() != nil {
		// Stopping between the claim and the send: give it back untouched.
		err := errors.New("not sent: the worker stopped before sending")
		return w.settle(ctx, log, m, Result{Outcome: Released, Err: err, Next: w.cfg.Now()}, attemptPrefix(n)+err.Error())
	}

	// A send is never cancelled half-way: its outcome would be unknown.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.SendTimeout)
	res, err := w.cfg.Sender.SendEncoded(sendCtx, w.cfg.PhoneNumberID, m.Payload)
	timedOut := sendCtx.Err() != nil
	cancel()

	now := w.cfg.Now()
	switch {
	case err == nil:
		return w.settle(ctx, log, m, Result{Outcome: Sent, WAMID: res.MessageID}, "")
	case errors.Is(err, graph.ErrOutcomeUnknown), timedOut:
		// The graph client reports a lost answer to a written send as
		// ErrOutcomeUnknown; our own deadline ending the send leaves the
		// same doubt.
		log.Error("outbox: the send may have reached Meta; settled as uncertain, not resent: check the conversation", "error", err)
		return w.settle(ctx, log, m, Result{Outcome: Uncertain, Err: err}, attemptPrefix(n)+err.Error())
	case graph.IsAccessTokenError(err):
		until := now.Add(w.cfg.AuthPause)
		w.pausedUntil.Store(until.UnixNano())
		log.Error("outbox: Meta refused the access token; messages wait in the outbox until it is replaced with a valid system-user token",
			"error", err, "paused_until", until)
		// Not the message's fault: it waits, whatever its attempts, and is
		// never settled as dead for it.
		return w.settle(ctx, log, m, Result{Outcome: Retry, Err: err, Next: until}, attemptPrefix(n)+err.Error())
	case graph.IsTemporary(err) && n < w.cfg.MaxAttempts:
		next := now.Add(w.delay(n, err))
		log.Warn("outbox: send failed temporarily; will retry", "error", err, "next_attempt", next)
		return w.settle(ctx, log, m, Result{Outcome: Retry, Err: err, Next: next}, attemptPrefix(n)+err.Error())
	default:
		why := err.Error()
		switch {
		case graph.IsTemporary(err):
			why = fmt.Sprintf("gave up after %d attempts: %s", n, why)
		case graph.IsBSUIDUnsupported(err):
			// protocol.md 4.2: a message kind Meta does not deliver to a
			// BSUID. Sending it again unchanged fails the same way.
			why = fmt.Sprintf("not sent: the recipient %s is a business-scoped user id and Meta does not deliver this kind of message to one (131062); it needs the user's phone number: %s", m.To, why)
		}
		log.Error("outbox: message not sent; settled as dead", "error", why)
		return w.settle(ctx, log, m, Result{Outcome: Dead, Err: err}, attemptPrefix(n)+why)
	}
}

// delay is the wait before the attempt after failed attempt n: exponential
// backoff with jitter, at least what Meta asked for.
func (w *Worker) delay(n int, err error) time.Duration {
	d := w.cfg.BaseDelay
	for i := 1; i < n && d < w.cfg.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxDelay)
	d = d/2 + time.Duration(mrand.Int64N(int64(d/2)+1)) // 50 % to 100 %
	var ge *graph.Error
	if errors.As(err, &ge) && ge.RetryAfter > d {
		d = ge.RetryAfter
	}
	if graph.IsThrottled(err) {
		d = max(d, w.cfg.ThrottledDelay)
	}
	return d
}

// settle records r for m in the store, retrying a failing store a few
// times: an unrecorded settlement makes the next claim treat the message as
// interrupted.
func (w *Worker) settle(ctx context.Context, log *slog.Logger, m waflow.OutboxMessage, r Result, lastError string) Result {
	r.Message = m
	// Settle even when ctx is done: this is the end of work in flight.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	for try := range 3 {
		if try > 0 {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
		switch r.Outcome {
		case Sent:
			err = w.cfg.Store.MarkSent(sctx, m.ID, w.cfg.Owner, r.WAMID, w.cfg.Now())
		case Retry, Released:
			err = w.cfg.Store.RetryOutbox(sctx, m.ID, w.cfg.Owner, lastError, r.Next)
		case Uncertain:
			err = w.cfg.Store.MarkUnknown(sctx, m.ID, w.cfg.Owner, lastError)
		default:
			err = w.cfg.Store.FailOutbox(sctx, m.ID, w.cfg.Owner, lastError)
		}
		if err == nil || errors.Is(err, waflow.ErrLeaseLost) || errors.Is(err, waflow.ErrNotFound) || errors.Is(err, waflow.ErrClosed) {
			break
		}
	}
	if err == nil {
		if r.Outcome == Sent {
			log.Info("outbox: message sent", "wamid", r.WAMID)
		}
		return r
	}
	if r.Outcome == Sent {
		log.Error("outbox: message sent but its wamid could not be recorded; it will be settled as uncertain, never resent", "wamid", r.WAMID, "error", err)
	} else {
		log.Error("outbox: could not record the attempt's outcome", "outcome", r.Outcome, "error", err)
	}
	r.Err = errors.Join(r.Err, fmt.Errorf("recording the outcome: %w", err))
	r.Outcome = Unsettled
	return r
}
