package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/admission"
	"github.com/waflow/waflow/httperr"
	"github.com/waflow/waflow/signature"
)

// MaxBodyBytes is the default limit on a webhook body: Meta sends payloads
// of up to 3 MB (protocol.md 4.1).
const MaxBodyBytes = 3 << 20

// ReceiverConfig configures a Receiver. Verifier, VerifyToken and Inbox are
// required: without them NewReceiver refuses to build one.
type ReceiverConfig struct {
	// Verifier checks X-Hub-Signature-256 with the Meta app secret(s).
	Verifier *signature.Verifier
	// VerifyToken is the token Meta sends in the subscription handshake,
	// chosen when the webhook was set up in the app dashboard.
	VerifyToken string
	// Inbox stores the events before the webhook is answered.
	Inbox waflow.InboxStore
	// MaxBodyBytes bounds a body; MaxBodyBytes (3 MiB) when zero.
	MaxBodyBytes int64
	// OnStored, when set, is called after a POST's events are committed;
	// Worker.Notify wakes the worker so that they are processed at once.
	OnStored func()
	// Relay, when set, is given the raw bytes of each signed notification
	// and its events after they are stored and before the answer (package
	// events keeps them for the business's own handler). An error answers
	// 500, so WhatsApp sends the webhook again.
	Relay func(ctx context.Context, body []byte, events []waflow.InboxEvent) error
	// Observer receives counts for metrics; none when nil.
	Observer Observer
	// Logger receives one line per refused request and a debug line per
	// accepted one; slog.Default() when nil. Payloads are never logged.
	Logger *slog.Logger
}

// Receiver is the http.Handler of the webhook callback URL (/webhook).
//
// GET is Meta's subscription handshake: with hub.mode=subscribe and the
// right hub.verify_token (compared in constant time) it answers 200 with
// hub.challenge; otherwise 403.
//
// POST is a notification. The receiver reads at most MaxBodyBytes (413
// beyond), verifies X-Hub-Signature-256 over the raw bytes (401 when it is
// missing or wrong, and nothing is stored), splits the body into events
// (Parse), commits them to the inbox and only then answers 200. Events
// already in the inbox (WhatsApp's duplicates and retries) are stored once
// and still answered 200. If the inbox cannot store them, it answers 500 and
// WhatsApp retries later: nothing is lost.
//
// A signed body that is not JSON, or JSON that is not a webhook notification
// (no entry array, a message without its id...), is answered 400 and not
// stored. The signature proves it came from Meta, and WhatsApp will retry it
// for 7 days: a non-200 keeps it in Meta's hands and shows the failure in
// the app dashboard and in waflow_webhook_requests_total, while storing what
// cannot be split into deduplicated events would store every retry again.
// Shapes waflow does not know but can key (another field, a value without
// messages) are stored, as kind "other", and answered 200.
type Receiver struct {
	cfg     ReceiverConfig
	token   [sha256.Size]byte
	maxBody int64
	obs     Observer
	log     *slog.Logger
}

// NewReceiver returns a Receiver, or an error when cfg lacks the signature
// verifier, the verify token or the inbox: a receiver that cannot
// authenticate refuses to exist rather than accept everything.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	switch {
	case cfg.Verifier == nil:
		return nil, fmt.Errorf("webhook: no signature verifier: %w", signature.ErrNoSecret)
	case cfg.VerifyToken == "":
		return nil, errors.New("webhook: no verify token configured")
	case cfg.Inbox == nil:
		return nil, errors.New("webhook: no inbox store")
	}
	r := &Receiver{cfg: cfg, token: sha256.Sum256([]byte(cfg.VerifyToken)), maxBody: cfg.MaxBodyBytes, obs: cfg.Observer, log: cfg.Logger}
	if r.maxBody <= 0 {
		r.maxBody = MaxBodyBytes
	}
	if r.obs == nil {
		r.obs = nopObserver{}
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r, nil
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var status int
	switch r.Method {
	case http.MethodGet:
		status = rc.handshake(w, r)
	case http.MethodPost:
		status = rc.ingest(w, r)
	default:
		status = rc.refuse(w, r, httperr.New(http.StatusMethodNotAllowed, "webhook: use GET for the subscription handshake and POST for notifications", nil).
			WithHeader("Allow", "GET, POST"))
	}
	rc.obs.WebhookRequest(status, time.Since(start))
}

// refuse answers e in plain text, logs it and returns its status.
func (rc *Receiver) refuse(w http.ResponseWriter, r *http.Request, e *httperr.Error) int {
	return httperr.Write(w, r, rc.log, httperr.Text, e)
}

// handshake answers Meta's verification request (protocol.md 4.1).
func (rc *Receiver) handshake(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	given := sha256.Sum256([]byte(q.Get("hub.verify_token")))
	// Hashing first makes the comparison constant-time whatever the
	// lengths.
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare(given[:], rc.token[:]) != 1 {
		// The mode is logged, never the token given.
		return rc.refuse(w, r, httperr.New(http.StatusForbidden, "webhook: verification failed",
			fmt.Errorf("handshake: wrong hub.mode (%q) or hub.verify_token", q.Get("hub.mode"))))
	}
	challenge := q.Get("hub.challenge")
	if challenge == "" {
		return rc.refuse(w, r, httperr.New(http.StatusBadRequest, "webhook: hub.challenge is missing", nil))
	}
	rc.log.Info("webhook subscription verified")
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	io.WriteString(w, challenge)
	return http.StatusOK
}

func (rc *Receiver) ingest(w http.ResponseWriter, r *http.Request) int {
	tooLarge := func(err error) *httperr.Error {
		return httperr.New(http.StatusRequestEntityTooLarge, fmt.Sprintf("webhook: body larger than %d bytes", rc.maxBody), err)
	}
	if r.ContentLength > rc.maxBody {
		return rc.refuse(w, r, tooLarge(fmt.Errorf("body too large: %d bytes announced, limit %d", r.ContentLength, rc.maxBody)))
	}
	body, err := admission.ReadAll(http.MaxBytesReader(w, r.Body, rc.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		var busy *admission.BusyError
		switch {
		case errors.As(err, &busy):
			e := busy.HTTPError()
			e.Msg = "webhook: " + e.Msg
			return rc.refuse(w, r, e)
		case errors.As(err, &mbe):
			return rc.refuse(w, r, tooLarge(fmt.Errorf("body too large: limit %d", rc.maxBody)))
		}
		return rc.refuse(w, r, httperr.New(http.StatusBadRequest, "webhook: could not read the body", fmt.Errorf("reading the body: %w", err)))
	}
	if err := rc.cfg.Verifier.Verify(body, r.Header.Get(signature.Header)); err != nil {
		return rc.refuse(w, r, httperr.New(http.StatusUnauthorized, err.Error(), fmt.Errorf("bad signature over %d bytes: %w", len(body), err)))
	}
	events, err := Parse(body)
	if err != nil {
		// A *PayloadError: where in the body, and what is wrong there.
		return rc.refuse(w, r, httperr.New(http.StatusBadRequest, err.Error(), fmt.Errorf("signed body of %d bytes is not a notification: %w", len(body), err)))
	}
	added, err := rc.cfg.Inbox.AddEvents(r.Context(), events)
	if err != nil {
		return rc.refuse(w, r, httperr.New(http.StatusInternalServerError, "webhook: could not store the events; retry later",
			fmt.Errorf("storing %d events failed; answering 500 so that WhatsApp retries: %w", len(events), err)))
	}
	if rc.cfg.Relay != nil {
		if err := rc.cfg.Relay(r.Context(), body, events); err != nil {
			return rc.refuse(w, r, httperr.New(http.StatusInternalServerError, "webhook: could not store the webhook for the relay; retry later",
				fmt.Errorf("relay: answering 500 so that WhatsApp retries: %w", err)))
		}
	}
	for _, e := range events {
		rc.obs.WebhookEvent(string(e.Kind))
	}
	rc.obs.WebhookDuplicates(len(events) - added)
	rc.log.Debug("webhook stored", "events", len(events), "new", added, "bytes", len(body))
	if added > 0 && rc.cfg.OnStored != nil {
		rc.cfg.OnStored()
	}
	w.Header().Set("Content-Length", strconv.Itoa(0))
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}
