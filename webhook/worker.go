package webhook

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowtoken"
)

// Completed is what a completion handler receives: the recorded completion,
// the values the flow returned and the token it used.
type Completed struct {
	waflow.Completion
	// Values is response_json without flow_token. It holds the user's data:
	// never log it.
	Values map[string]any
	Token  waflow.FlowToken
}

// CompletionHandler acts on a completed flow: books the table, files the
// expense, sends the confirmation.
//
// The worker calls it only for a completion it recorded, which happens once
// per flow token (the store's compare-and-set), never for a duplicate, a
// replay or an unknown token. It calls it again only if it failed (returned
// an error, panicked, or the process died before the worker recorded
// success), with the same Completion. So make its effects idempotent on
// c.MessageID: enqueue messages with OutboxStore.Enqueue and an idempotency
// key such as "confirm:"+c.MessageID, or write rows keyed by it; then a
// completion is acted on exactly once even across crashes.
//
// A completion that can never succeed (it names another session's booking,
// or a record that does not exist) is rejected with an error matching
// waflow.ErrRejected (waflow.Rejectf), before the handler has any effect.
// The worker then undoes the completion's record (RejectCompletion: the
// completion is kept as rejected, its token issued again) and settles the
// event as rejected at once, without retrying. The error's text is logged
// and stored as the event's result and the completion's: it must name
// fields, never submitted values. Any
// other error is taken as transient and retried, with backoff, up to
// WorkerConfig.MaxAttempts, then dead-lettered: so "reject, don't retry" is
// waflow.ErrRejected, wrapped or not (TestHandlerRejects).
type CompletionHandler func(ctx context.Context, c Completed) error

// CompletionValidator checks the values of a completion against the flow's
// terminal screen (flowjson's value validation plugs in here:
// flowjson.Flow.CheckCompletion accepts flows completed by the data
// endpoint too) and any business rule, under the worker's context, which
// ends when the worker stops. An error rejects the completion: it is not recorded and
// the token stays unused.
type CompletionValidator func(ctx context.Context, flow string, values map[string]any) error

// FlowsHandler is told about each flows event once, after it is logged and
// counted; an error makes the worker retry it.
type FlowsHandler func(ctx context.Context, e *FlowsEvent) error

// WorkerStore is what a Worker keeps its state in: the inbox it works
// through, the completions it records and the flow tokens they use. Each
// method has the contract of the root interface that declares it
// (waflow.InboxStore, waflow.CompletionStore, waflow.TokenStore); both
// drivers implement it.
type WorkerStore interface {
	// ClaimEvents, RetryEvent and FinishEvent lease and settle inbox events
	// (waflow.InboxStore).
	ClaimEvents(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.InboxEvent, error)
	RetryEvent(ctx context.Context, id int64, owner string, lastError string, next time.Time) error
	FinishEvent(ctx context.Context, id int64, owner string, state waflow.InboxState, result string) error

	// Completion, RecordCompletion, KeepCompletion, RejectCompletion,
	// MarkCompletionFailed and MarkCompletionHandled keep completions
	// (waflow.CompletionStore).
	Completion(ctx context.Context, messageID string) (waflow.Completion, error)
	RecordCompletion(ctx context.Context, c waflow.Completion) (waflow.Completion, error)
	KeepCompletion(ctx context.Context, c waflow.Completion) (waflow.Completion, error)
	RejectCompletion(ctx context.Context, messageID, reason string) error
	MarkCompletionFailed(ctx context.Context, messageID, reason string) error
	MarkCompletionHandled(ctx context.Context, messageID string, at time.Time) error

	// Token and TokenByMessage find a completion's flow token
	// (waflow.TokenStore).
	Token(ctx context.Context, id string) (waflow.FlowToken, error)
	TokenByMessage(ctx context.Context, messageID string) (waflow.FlowToken, error)
}

// The core contract includes what the worker needs.
var _ WorkerStore = waflow.Store(nil)

// UserStore is where a Worker keeps the users webhooks name (their phone
// numbers, BSUIDs and usernames, protocol.md 4.2), with the contracts of
// waflow.UserStore; both drivers implement it.
type UserStore interface {
	SeeUser(ctx context.Context, s waflow.UserSighting) (waflow.User, error)
	UserByPhone(ctx context.Context, phone string) (waflow.User, error)
	UserByBSUID(ctx context.Context, id string) (waflow.User, error)
}

// The core contract includes what the worker needs of users.
var _ UserStore = waflow.Store(nil)

// WorkerConfig configures a Worker. Store and Tokens are required.
type WorkerConfig struct {
	// Store holds the inbox, the flow tokens and the completions; a
	// waflow.Store is one.
	Store WorkerStore
	// Tokens parses the flow_token of a completion, stored redacted (what
	// is left of its MAC proves it was issued here, its id is the storage
	// key).
	Tokens *flowtoken.Issuer
	// Users, when set, keeps the users every message, status and contact
	// names (Event.Users), so that one user's phone number and BSUID stay
	// together; a completion whose token was issued to a phone number and
	// that arrives with a BSUID alone (or the reverse) is checked against
	// it. Nil keeps no users, and such a completion cannot be checked: it
	// is accepted on its signed, single-use token.
	Users UserStore
	// Validator checks submitted values; none when nil.
	Validator CompletionValidator
	// OnFlowsEvent, when set, is told about each flows event.
	OnFlowsEvent FlowsHandler
	// OnInbound, when set, is told of each message a user sent (a
	// completion or any other message), before it is acted on: who sent it
	// and when (the message's timestamp, else when its webhook arrived).
	// It is told once per identifier the message carries: the phone number
	// and the BSUID (from_user_id), so either finds the window.
	// It keeps the start of the user's 24-hour customer-service window
	// (package reminders). An error fails the event, which is retried.
	OnInbound func(ctx context.Context, waID string, at time.Time) error
	// Observer receives counts for metrics; none when nil.
	Observer Observer
	// Logger; slog.Default() when nil. Tokens and values are never logged.
	Logger *slog.Logger

	// Owner names this worker in leases; host name, process id and a
	// random suffix when empty. Every worker must have its own.
	Owner string
	// Batch is how many events one ProcessBatch call takes at most; 32
	// when zero.
	Batch int
	// Concurrency is how many events are processed at once; 4 when zero.
	// Events are claimed Concurrency at a time, so that each starts as soon
	// as it is leased.
	Concurrency int
	// Lease is how long a claim holds before another worker may retake the
	// event; 1 minute when zero. It must exceed HandlerTimeout.
	Lease time.Duration
	// HandlerTimeout bounds a completion handler; 30 seconds when zero.
	HandlerTimeout time.Duration
	// PollInterval is how often an idle worker looks for due events (Notify
	// wakes it sooner); 1 second when zero.
	PollInterval time.Duration
	// MaxAttempts is how many attempts an event gets before it is
	// dead-lettered; 10 when zero.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the delay before a retry, which
	// doubles with each attempt, with jitter; 1 second and 1 hour when zero.
	MinBackoff, MaxBackoff time.Duration
	// Now is the worker's clock; time.Now when nil.
	Now func() time.Time
}

// Worker processes the webhook inbox: it claims due events, acts on each
// (see ProcessBatch), and settles it as done, rejected (it can never be
// acted on, the result says why), retried later with exponential backoff and
// jitter, or dead after MaxAttempts. State lives in the store, so a worker
// that crashes loses nothing: its leases run out and another worker, or the
// same one restarted, takes the events again. Several workers, in one
// process or many, may share a store.
type Worker struct {
	cfg      WorkerConfig
	handlers map[string]CompletionHandler
	mu       sync.RWMutex
	wake     chan struct{}
	obs      Observer
	log      *slog.Logger
}

// NewWorker returns a Worker, or an error when cfg lacks the store or the
// token issuer.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Store == nil {
		return nil, errors.New("webhook: worker needs a store")
	}
	if cfg.Tokens == nil {
		return nil, fmt.Errorf("webhook: worker needs the flow-token issuer: %w", flowtoken.ErrNoSecret)
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		crand.Read(b[:])
		cfg.Owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Batch, 32)
	def(&cfg.Concurrency, 4)
	def(&cfg.MaxAttempts, 10)
	defD(&cfg.Lease, time.Minute)
	defD(&cfg.HandlerTimeout, 30*time.Second)
	defD(&cfg.PollInterval, time.Second)
	defD(&cfg.MinBackoff, time.Second)
	defD(&cfg.MaxBackoff, time.Hour)
	if cfg.Lease <= cfg.HandlerTimeout {
		return nil, fmt.Errorf("webhook: lease %v must exceed the handler timeout %v, or a slow handler's event is taken by another worker", cfg.Lease, cfg.HandlerTimeout)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Worker{cfg: cfg, handlers: map[string]CompletionHandler{}, wake: make(chan struct{}, 1), obs: cfg.Observer, log: cfg.Logger}
	if w.obs == nil {
		w.obs = nopObserver{}
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	return w, nil
}

// Handle registers h as the completion handler of flow, replacing any
// other. A completion of a flow without a handler is recorded (its token is
// used) and left with a zero HandledAt.
func (w *Worker) Handle(flow string, h CompletionHandler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers[flow] = h
}

func (w *Worker) handler(flow string) CompletionHandler {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.handlers[flow]
}

// Notify wakes the worker to look for events now; Receiver calls it (as
// ReceiverConfig.OnStored) after storing events. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run processes events until ctx is done, then returns nil once the batch
// in progress is settled. Store errors are logged and retried after
// PollInterval.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("webhook worker started", "owner", w.cfg.Owner)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			w.log.Info("webhook worker stopped", "owner", w.cfg.Owner)
			return nil
		case <-timer.C:
		case <-w.wake:
		}
		// The batch is settled even if ctx ends meanwhile: a half-processed
		// batch would wait for its leases to run out.
		n, err := w.ProcessBatch(context.WithoutCancel(ctx))
		if err != nil {
			w.log.Error("webhook worker: claiming events failed", "error", err)
		}
		if n == w.cfg.Batch && err == nil {
			timer.Reset(0) // more may be due
		} else {
			timer.Reset(w.cfg.PollInterval)
		}
	}
}

// ProcessBatch claims up to Batch due events, processes them and settles
// each; it returns how many it claimed. Run calls it in a loop; tests call it
// directly.
//
// It claims at most Concurrency events at a time and starts them all at
// once: an event claimed but left waiting for a free slot could outlive its
// lease and be taken and processed by another worker at the same time.
func (w *Worker) ProcessBatch(ctx context.Context) (int, error) {
	claimed := 0
	for claimed < w.cfg.Batch {
		want := min(w.cfg.Concurrency, w.cfg.Batch-claimed)
		events, err := w.cfg.Store.ClaimEvents(ctx, w.cfg.Owner, want, w.cfg.Lease)
		if err != nil {
			return claimed, err
		}
		claimed += len(events)
		var wg sync.WaitGroup
		for _, ev := range events {
			wg.Go(func() { w.processEvent(ctx, ev) })
		}
		wg.Wait()
		if len(events) < want {
			break
		}
	}
	return claimed, nil
}

// outcome is how processing an event ended.
type outcome struct {
	state  waflow.InboxState // InboxDone or InboxRejected; "" with err set: retry
	result string
	err    error
	// notOurs marks a rejected completion of a flow message this server did
	// not send (another tool on the same number, or a load test): logged at
	// Info, not Warn, so that a stream of them does not bury the warnings.
	notOurs bool
}

func done(format string, args ...any) outcome {
	return outcome{state: waflow.InboxDone, result: fmt.Sprintf(format, args...)}
}

func rejected(format string, args ...any) outcome {
	return outcome{state: waflow.InboxRejected, result: fmt.Sprintf(format, args...)}
}

func failed(err error) outcome { return outcome{err: err} }

func (w *Worker) processEvent(ctx context.Context, ev waflow.InboxEvent) {
	log := w.log.With("event_id", ev.ID, "kind", ev.Kind, "attempt", ev.Attempts)
	var out outcome
	if ev.Attempts > w.cfg.MaxAttempts {
		// Claimed again and again without being settled: the process dies
		// while processing it. Stop before it takes the service down again.
		out = outcome{state: waflow.InboxDead, result: fmt.Sprintf("gave up: claimed %d times without finishing (did the process crash while processing it?)", ev.Attempts)}
		if ev.Kind == waflow.EventCompletion {
			if e, err := DecodeEvent(ev.Payload); err == nil {
				if msg, err := e.DecodeMessage(); err == nil {
					w.markFailed(ctx, msg.ID, out.result, log)
				}
			}
		}
	} else {
		out = w.safeProcess(ctx, ev, log)
	}
	if out.err != nil {
		w.obs.ProcessingFailure(string(ev.Kind))
		if ev.Attempts >= w.cfg.MaxAttempts {
			out = outcome{state: waflow.InboxDead, result: fmt.Sprintf("gave up after %d attempts: %v", ev.Attempts, out.err)}
		} else {
			next := w.cfg.Now().Add(w.backoff(ev.Attempts))
			log.Warn("webhook event failed; will retry", "error", out.err, "next_attempt", next)
			if err := w.cfg.Store.RetryEvent(ctx, ev.ID, w.cfg.Owner, out.err.Error(), next); err != nil {
				log.Error("webhook event: recording the retry failed; the lease will run out and it will be retried", "error", err)
			}
			return
		}
	}
	switch out.state {
	case waflow.InboxDead:
		log.Error("webhook event dead-lettered", "result", out.result)
	case waflow.InboxRejected:
		level := slog.LevelWarn
		if out.notOurs {
			level = slog.LevelInfo
		}
		log.Log(ctx, level, "webhook event rejected", "result", out.result)
	default:
		log.Debug("webhook event processed", "result", out.result)
	}
	if err := w.cfg.Store.FinishEvent(ctx, ev.ID, w.cfg.Owner, out.state, out.result); err != nil {
		// ErrLeaseLost: another worker retook it after our lease ran out;
		// processing is idempotent, so it will reach the same end.
		log.Error("webhook event: settling failed", "error", err)
		return
	}
	w.obs.EventProcessed(string(ev.Kind), string(out.state))
}

// backoff is the delay before attempt n+1: MinBackoff doubled n-1 times, at
// most MaxBackoff, with "equal jitter" (between half and all of it) so that
// events that failed together do not retry together.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.MinBackoff
	for i := 1; i < attempts && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// safeProcess turns a panic (a bug in a handler) into a failed attempt.
func (w *Worker) safeProcess(ctx context.Context, ev waflow.InboxEvent, log *slog.Logger) (out outcome) {
	defer func() {
		if p := recover(); p != nil {
			out = failed(fmt.Errorf("panic: %v", p))
		}
	}()
	e, err := DecodeEvent(ev.Payload)
	if err != nil {
		return rejected("%v", err)
	}
	if w.cfg.OnInbound != nil && (ev.Kind == waflow.EventCompletion || ev.Kind == waflow.EventMessage) {
		if msg, err := e.DecodeMessage(); err == nil {
			at := msg.Timestamp
			if at.IsZero() {
				at = ev.ReceivedAt
			}
			// Under the BSUID too (protocol.md §4.2): a user known by it
			// alone is messaged at it, and their window is looked up by it.
			for _, id := range []string{msg.From, msg.UserID} {
				if id == "" {
					continue
				}
				if err := w.cfg.OnInbound(ctx, id, at); err != nil {
					return failed(fmt.Errorf("recording the user's inbound message time: %w", err))
				}
			}
		}
	}
	if ev.Kind != waflow.EventFlows {
		if err := w.seeUsers(ctx, e, ev.ReceivedAt, log); err != nil {
			return failed(err)
		}
	}
	switch ev.Kind {
	case waflow.EventCompletion:
		return w.processCompletion(ctx, ev, e, log)
	case waflow.EventFlows:
		return w.processFlows(ctx, e, log)
	case waflow.EventStatus:
		if st, err := e.DecodeStatus(); err == nil && st.Status == "failed" {
			log.Warn("a message we sent failed", "status_errors", len(st.Errors))
		}
		return done("stored")
	default:
		return done("stored")
	}
}

// seeUsers records the users e names (Config.Users). A sighting the store
// refuses as invalid is logged and skipped: retrying would not change it.
func (w *Worker) seeUsers(ctx context.Context, e *Event, at time.Time, log *slog.Logger) error {
	if w.cfg.Users == nil {
		return nil
	}
	for _, s := range e.Users(at) {
		_, err := w.cfg.Users.SeeUser(ctx, s)
		switch {
		case errors.Is(err, waflow.ErrInvalid):
			log.Warn("webhook event: a user's identifiers were not recorded", "error", err)
		case err != nil:
			return fmt.Errorf("recording a user: %w", err)
		}
	}
	return nil
}

// otherUser says why the user who sent msg is not the one tok was issued
// to, or "" when they are or cannot be told apart. A token is bound to the
// phone number, the BSUID, or both, whichever were known when it was
// issued, and checked against whichever the completion carries; when they
// share none (a token sent to a phone number, a completion of a user with
// a username that carries only their BSUID), the users table tells whether
// the two belong to one user (protocol.md 4.2).
func (w *Worker) otherUser(ctx context.Context, tok waflow.FlowToken, msg *Message) (string, error) {
	const why = "flow token was issued to another WhatsApp user"
	compared := false
	if tok.WAID != "" && msg.From != "" {
		if tok.WAID != msg.From {
			return why, nil
		}
		compared = true
	}
	if tok.UserID != "" && (msg.UserID != "" || msg.ParentUserID != "") {
		if tok.UserID != msg.UserID && tok.UserID != msg.ParentUserID {
			return why, nil
		}
		compared = true
	}
	if compared || w.cfg.Users == nil || (tok.WAID == "" && tok.UserID == "") {
		return "", nil
	}
	var u waflow.User
	var err error
	if msg.UserID != "" {
		u, err = w.cfg.Users.UserByBSUID(ctx, msg.UserID)
	} else {
		u, err = w.cfg.Users.UserByPhone(ctx, msg.From)
	}
	switch {
	case errors.Is(err, waflow.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	if (tok.WAID != "" && u.Phone != "" && u.Phone != tok.WAID) || (tok.UserID != "" && u.BSUID != "" && u.BSUID != tok.UserID && u.ParentBSUID != tok.UserID) {
		return why, nil
	}
	return "", nil
}

// processCompletion acts on an nfm_reply (protocol.md 4.2): correlate it with
// its flow token (flow_token, or context.id when WhatsApp left the token
// out), validate the values, record it (which uses the token, once), and hand
// it to the flow's handler.
//
// A completion that can never be acted on (forged or unknown token, replay
// of a used token, a flow message another system sent, values that fail
// their checks) is rejected with the reason. Its webhook was answered 200
// all the same, and rightly: WhatsApp would resend the same bytes for 7
// days, and the answer would never change. It is kept all the same
// (KeepCompletion), attributed to its flow when waflow can tell which, so
// that every answer a user sent can be read back.
func (w *Worker) processCompletion(ctx context.Context, ev waflow.InboxEvent, e *Event, log *slog.Logger) outcome {
	msg, err := e.DecodeMessage()
	if err != nil {
		return rejected("%v", err)
	}
	if !msg.IsCompletion() || msg.Interactive.NFMReply == nil {
		return rejected("not an nfm_reply")
	}
	completedAt := msg.Timestamp
	if completedAt.IsZero() {
		completedAt = ev.ReceivedAt
	}
	c := waflow.Completion{
		MessageID:    msg.ID,
		WAID:         msg.From,
		UserID:       msg.UserID,
		ParentUserID: msg.ParentUserID,
		Username:     msg.Username,
		ContextID:    msg.ContextID,
		CompletedAt:  completedAt,
		ReceivedAt:   ev.ReceivedAt,
		InboxEventID: ev.ID,
	}
	// An attempt that kept or recorded it before (a worker that crashed or
	// lost its lease after storing it): a rejected one ends the same way.
	prev, err := w.cfg.Store.Completion(ctx, msg.ID)
	switch {
	case err == nil && prev.Status == waflow.CompletionRejected:
		return rejected("%s", prev.Result)
	case err != nil && !errors.Is(err, waflow.ErrNotFound):
		return failed(err)
	}
	recorded := err == nil
	resp, err := ParseResponse(msg.Interactive.NFMReply.ResponseJSON)
	if err != nil {
		// Kept with an empty object: what was sent cannot be read.
		c.Response = []byte("{}")
		return w.keep(ctx, c, waflow.FlowToken{}, rejected("response_json is not a JSON object"))
	}
	c.Response = resp.Raw

	tok, out, ok := w.correlate(ctx, msg, resp)
	switch {
	case !ok && out.err != nil:
		// A store error: retried, never kept as rejected (a retry would
		// find it so and settle the same way).
		return out
	case !ok:
		return w.keep(ctx, c, tok, out)
	}
	log = log.With("flow", tok.Flow)
	// The user and the values are checked once, before the completion is
	// recorded. A retry of a completion already recorded (its handler
	// failed) goes on to the handler: users seen or settings changed since
	// must not reject a completion whose token is already used.
	alreadyRecorded := recorded && prev.TokenID == tok.ID
	if !alreadyRecorded {
		switch why, err := w.otherUser(ctx, tok, msg); {
		case err != nil:
			return failed(err)
		case why != "":
			return w.keep(ctx, c, tok, rejected("%s", why))
		}
	}
	if w.cfg.Validator != nil && !alreadyRecorded {
		if err := w.cfg.Validator(ctx, tok.Flow, resp.Values); err != nil {
			return w.keep(ctx, c, tok, rejected("submitted values do not fit flow %s: %v", tok.Flow, err))
		}
	}
	c.TokenID, c.Flow = tok.ID, tok.Flow
	rec, err := w.cfg.Store.RecordCompletion(ctx, c)
	switch {
	case errors.Is(err, waflow.ErrTokenUsed):
		return w.keep(ctx, c, tok, rejected("replayed completion: the flow token was already used"))
	case errors.Is(err, waflow.ErrTokenExpired):
		return w.keep(ctx, c, tok, rejected("the flow token had expired when the flow was completed"))
	case errors.Is(err, waflow.ErrNotFound):
		return w.keep(ctx, c, waflow.FlowToken{Flow: tok.Flow}, rejected("unknown flow token"))
	case errors.Is(err, waflow.ErrRejected):
		return rejected("%s", rec.Result)
	case errors.Is(err, waflow.ErrConflict):
		return rejected("this message is recorded as the completion of another token")
	case err != nil:
		return failed(err)
	}
	if !rec.HandledAt.IsZero() {
		return done("completion of flow %s already handled", tok.Flow)
	}
	h := w.handler(tok.Flow)
	if h == nil {
		log.Warn("completion recorded, but no completion handler is registered for the flow")
		return done("completion of flow %s recorded; no handler registered", tok.Flow)
	}
	tok.State, tok.UsedAt = waflow.TokenUsed, rec.CompletedAt
	hctx, cancel := context.WithTimeout(ctx, w.cfg.HandlerTimeout)
	err = h(hctx, Completed{Completion: rec, Values: resp.Values, Token: tok})
	cancel()
	if errors.Is(err, waflow.ErrRejected) {
		// A completion that can never succeed is undone but kept, as
		// rejected, and its token is unused again.
		out := rejected("completion handler of flow %s rejected it: %v", tok.Flow, err)
		if rerr := w.cfg.Store.RejectCompletion(ctx, rec.MessageID, out.result); rerr != nil && !errors.Is(rerr, waflow.ErrNotFound) {
			return failed(fmt.Errorf("undoing the record of a completion of flow %s that its handler rejected: %w", tok.Flow, rerr))
		}
		return out
	}
	if err != nil {
		err = fmt.Errorf("completion handler of flow %s: %w", tok.Flow, err)
		w.markFailed(ctx, rec.MessageID, fmt.Sprintf("attempt %d: %v", ev.Attempts, err), log)
		return failed(err)
	}
	if err := w.cfg.Store.MarkCompletionHandled(ctx, rec.MessageID, w.cfg.Now()); err != nil {
		return failed(err)
	}
	log.Info("flow completed", "handled", true)
	return done("completion of flow %s recorded and handled", tok.Flow)
}

// keep stores c, a completion settled with out (rejected) before it used a
// token, attributed to tok.Flow (empty: unattributed) and naming tok.ID (a
// stored token, or empty). A completion that cannot be kept is retried, so
// that no answer is lost.
func (w *Worker) keep(ctx context.Context, c waflow.Completion, tok waflow.FlowToken, out outcome) outcome {
	c.Flow, c.TokenID, c.Status, c.Result = tok.Flow, tok.ID, waflow.CompletionRejected, out.result
	_, err := w.cfg.Store.KeepCompletion(ctx, c)
	if errors.Is(err, waflow.ErrNotFound) && c.TokenID != "" {
		// The token is gone from the store since: keep it without.
		c.TokenID = ""
		_, err = w.cfg.Store.KeepCompletion(ctx, c)
	}
	if err != nil {
		return failed(fmt.Errorf("keeping a rejected completion (%s): %w", out.result, err))
	}
	return out
}

// markFailed records that the handler of completion messageID failed. It
// is best effort: the inbox event's retry does not depend on it.
func (w *Worker) markFailed(ctx context.Context, messageID, reason string, log *slog.Logger) {
	if err := w.cfg.Store.MarkCompletionFailed(ctx, messageID, reason); err != nil && !errors.Is(err, waflow.ErrNotFound) {
		log.Error("webhook event: recording the completion's failure failed", "error", err)
	}
}

// correlate finds the token a completion answers. ok is false when it
// cannot, with the outcome to settle the event with and in tok what can be
// told of the completion: its flow when the token proves it (empty:
// unattributed), and the id of the stored token it named, if any.
func (w *Worker) correlate(ctx context.Context, msg *Message, resp *CompletionResponse) (tok waflow.FlowToken, out outcome, ok bool) {
	var err error
	if resp.FlowToken != "" {
		// The receiver stored the token redacted (flowtoken.Redact).
		claims, perr := w.cfg.Tokens.ParseRedacted(resp.FlowToken)
		switch {
		case errors.Is(perr, flowtoken.ErrForged):
			return waflow.FlowToken{}, rejected("forged flow token: its signature does not match"), false
		case perr == nil:
			tok, err = w.cfg.Store.Token(ctx, claims.ID)
			switch {
			case errors.Is(err, waflow.ErrNotFound):
				// Signed here, so its flow is known; the token is not.
				return waflow.FlowToken{Flow: claims.Flow}, rejected("unknown flow token: signed here but never stored"), false
			case err != nil:
				return waflow.FlowToken{}, failed(err), false
			case tok.Flow != claims.Flow:
				return waflow.FlowToken{}, rejected("flow token says flow %s, the store says %s", claims.Flow, tok.Flow), false
			}
			return tok, outcome{}, true
		}
		// Not a waflow token (WhatsApp's default "unused", or one from
		// before waflow): fall back to context.id as for a missing one.
	}
	if msg.ContextID == "" {
		if resp.FlowToken != "" {
			return waflow.FlowToken{}, rejected("flow_token is not a waflow token and the message has no context.id"), false
		}
		return waflow.FlowToken{}, rejected("no flow_token and no context.id: cannot tell which flow message this completes"), false
	}
	tok, err = w.cfg.Store.TokenByMessage(ctx, msg.ContextID)
	switch {
	case errors.Is(err, waflow.ErrNotFound):
		out := rejected("no usable flow_token, and context.id names no flow message we sent")
		out.notOurs = true
		return waflow.FlowToken{}, out, false
	case err != nil:
		return waflow.FlowToken{}, failed(err), false
	}
	return tok, outcome{}, true
}

// processFlows logs a flows event at the level it deserves, counts it, and
// passes it to OnFlowsEvent.
func (w *Worker) processFlows(ctx context.Context, e *Event, log *slog.Logger) outcome {
	fe, err := e.DecodeFlowsEvent()
	if err != nil {
		return rejected("%v", err)
	}
	state := fe.AlertState
	if fe.Event == FlowStatusChange {
		state = fe.NewStatus
	}
	attrs := []any{"flow_id", fe.FlowID, "event", fe.Event, "message", fe.Message}
	switch {
	case fe.OldStatus != "" || fe.NewStatus != "":
		attrs = append(attrs, "old_status", fe.OldStatus, "new_status", fe.NewStatus)
	case fe.AlertState != "":
		attrs = append(attrs, "alert_state", fe.AlertState, "threshold", fe.Threshold)
	}
	switch fe.Event {
	case ClientErrorRate, EndpointErrorRate:
		attrs = append(attrs, "error_rate", fe.ErrorRate)
	case EndpointLatency:
		attrs = append(attrs, "p50_latency_ms", fe.P50Latency, "p90_latency_ms", fe.P90Latency, "requests", fe.RequestsCount)
	case EndpointAvailability:
		attrs = append(attrs, "availability", fe.Availability)
	}
	if fe.Warning != "" {
		attrs = append(attrs, "warning", fe.Warning)
	}
	log.Log(ctx, flowsLevel(fe), "flows webhook", attrs...)
	w.obs.FlowEvent(fe.Event, state)
	if w.cfg.OnFlowsEvent != nil {
		if err := w.cfg.OnFlowsEvent(ctx, fe); err != nil {
			return failed(fmt.Errorf("flows event handler: %w", err))
		}
	}
	return done("%s logged", fe.Event)
}

// flowsLevel is the log level of a flows event: an error when a flow can
// no longer be sent (BLOCKED) or its endpoint is unavailable, a warning for
// throttling, other active alerts and version expiry, info for recoveries
// and ordinary status changes (protocol.md 3.3).
func flowsLevel(fe *FlowsEvent) slog.Level {
	switch fe.Event {
	case FlowStatusChange:
		switch fe.NewStatus {
		case "BLOCKED":
			return slog.LevelError
		case "THROTTLED":
			return slog.LevelWarn
		}
		return slog.LevelInfo
	case ClientErrorRate, EndpointErrorRate, EndpointLatency, EndpointAvailability:
		if fe.AlertState != "ACTIVATED" {
			return slog.LevelInfo
		}
		if fe.Event == EndpointAvailability {
			return slog.LevelError
		}
		return slog.LevelWarn
	case FlowVersionExpiryWarning:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
