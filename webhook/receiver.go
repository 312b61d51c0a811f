package webhook

import (
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
		w.Header().Set("Allow", "GET, POST")
		status = reply(w, http.StatusMethodNotAllowed, "webhook: use GET for the subscription handshake and POST for notifications")
	}
	rc.obs.WebhookRequest(status, time.Since(start))
}

// reply writes a plain-text answer and returns its status.
func reply(w http.ResponseWriter, status int, msg string) int {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if msg != "" {
		io.WriteString(w, msg+"\n")
	}
	return status
}

// handshake answers Meta's verification request (protocol.md 4.1).
func (rc *Receiver) handshake(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	given := sha256.Sum256([]byte(q.Get("hub.verify_token")))
	// Hashing first makes the comparison constant-time whatever the
	// lengths.
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare(given[:], rc.token[:]) != 1 {
		rc.log.Warn("webhook handshake refused: wrong hub.mode or hub.verify_token", "mode", q.Get("hub.mode"))
		return reply(w, http.StatusForbidden, "webhook: verification failed")
	}
	challenge := q.Get("hub.challenge")
	if challenge == "" {
		return reply(w, http.StatusBadRequest, "webhook: hub.challenge is missing")
	}
	rc.log.Info("webhook subscription verified")
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	io.WriteString(w, challenge)
	return http.StatusOK
}

func (rc *Receiver) ingest(w http.ResponseWriter, r *http.Request) int {
	if r.ContentLength > rc.maxBody {
		rc.log.Warn("webhook refused: body too large", "bytes", r.ContentLength, "limit", rc.maxBody)
		return reply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("webhook: body larger than %d bytes", rc.maxBody))
	}
	body, err := admission.ReadAll(http.MaxBytesReader(w, r.Body, rc.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		var busy *admission.BusyError
		switch {
		case errors.As(err, &busy):
			rc.log.Warn("webhook refused: server busy (request bodies in flight at their limit)")
			busy.SetHeaders(w.Header())
			return reply(w, http.StatusServiceUnavailable, "webhook: "+busy.Error())
		case errors.As(err, &tooLarge):
			rc.log.Warn("webhook refused: body too large", "limit", rc.maxBody)
			return reply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("webhook: body larger than %d bytes", rc.maxBody))
		}
		rc.log.Warn("webhook: reading the body failed", "error", err)
		return reply(w, http.StatusBadRequest, "webhook: could not read the body")
	}
	if err := rc.cfg.Verifier.Verify(body, r.Header.Get(signature.Header)); err != nil {
		rc.log.Warn("webhook refused: bad signature", "error", err, "bytes", len(body))
		return reply(w, http.StatusUnauthorized, err.Error())
	}
	events, err := Parse(body)
	if err != nil {
		rc.log.Warn("webhook refused: signed body is not a notification", "error", err, "bytes", len(body))
		return reply(w, http.StatusBadRequest, err.Error())
	}
	added, err := rc.cfg.Inbox.AddEvents(r.Context(), events)
	if err != nil {
		rc.log.Error("webhook: storing events failed; answering 500 so that WhatsApp retries", "error", err, "events", len(events))
		return reply(w, http.StatusInternalServerError, "webhook: could not store the events; retry later")
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
