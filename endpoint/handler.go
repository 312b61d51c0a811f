package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow/admission"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/httperr"
	"github.com/waflow/waflow/signature"
)

// Defaults for Config.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultTimeout      = 3 * time.Second
)

// Status codes WhatsApp gives a meaning to (protocol.md 3.1).
const (
	StatusDecryptFailed   = 421 // the client refreshes the public key and retries once
	StatusTokenInvalid    = 427 // the flow closes, the message's button is disabled
	StatusSignatureFailed = 432
)

// Config is what every flow's Handler shares.
type Config struct {
	// Keys unwraps the AES key of each request. Required.
	Keys envelope.KeyUnwrapper
	// Signatures holds the app secret(s). They verify X-Hub-Signature-256
	// and the Data API 4.0 flow_token_signature JWT, which Meta signs with
	// the same app secret (protocol.md §1.2 and §7). Required: an endpoint
	// without an app secret is refused at start-up.
	Signatures *signature.Verifier
	// Tokens validates flow tokens for flows without their own validator.
	Tokens TokenValidator
	// RequireTokenSignature rejects (427) Data API 4.0 requests whose
	// flow_token_signature is missing or does not verify. Off (the
	// default), such requests are observed (Observation.TokenSignature)
	// and logged but answered: X-Hub-Signature-256 already authenticates
	// the request and the flow token is checked on its own, while Meta
	// does not document the JWT's claims (protocol.md §7), so a wrong
	// guess must not close every 4.0 flow with 427.
	RequireTokenSignature bool
	// Timeout bounds everything that may wait on a request: the token
	// validator, the notification hook and the flow handler, together.
	// Past it the request is answered (504, or the acknowledgement of a
	// notification) so WhatsApp never waits for its own 10 s limit, even
	// when one of them ignores its context. Default 3 s.
	Timeout time.Duration
	// MaxBodyBytes bounds the request body; default 1 MiB.
	MaxBodyBytes int64
	// Logger receives one line per request: flow, action, screen, status,
	// sizes and duration, never payload values. Default slog.Default().
	Logger *slog.Logger
	// Observe, when set, is called once per request, e.g. for metrics.
	Observe func(Observation)
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Observation describes one finished request.
type Observation struct {
	Flow     string
	Action   string // "" when the request could not be decrypted
	Screen   string
	Status   int
	Duration time.Duration
	// AnswerRule is, when the endpoint refused to send a handler's answer
	// because it breaks the Flow JSON (see NewFlowFromJSON), the first rule
	// it broke: one of flowjson.AnswerRules. "" otherwise.
	AnswerRule string
	// TokenSignature is what came of the Data API 4.0
	// flow_token_signature: one of the TokenSignature constants, "" when
	// the request never reached the token check or is older than 4.0 and
	// carries none.
	TokenSignature string
}

// The outcomes of a flow_token_signature check (Observation.TokenSignature).
const (
	TokenSignatureValid     = "valid"     // verified, a claim holds the flow token
	TokenSignatureMissing   = "missing"   // a 4.0 request without one (Flow JSON before 7.3 sends none)
	TokenSignatureBadMAC    = "bad_hmac"  // the HMAC does not verify under the app secret(s)
	TokenSignatureMismatch  = "mismatch"  // verified, but no string claim equals the flow token
	TokenSignatureExpired   = "expired"   // exp or nbf out of range
	TokenSignatureMalformed = "malformed" // not a JWT, or not HS256
)

// Handler serves one flow's data endpoint.
type Handler struct {
	cfg      Config
	flow     *Flow
	handlers map[route]HandlerFunc
	tokens   TokenValidator
	log      *slog.Logger
	// spec checks every answer; nil when the flow has no Flow JSON or
	// turned the check off.
	spec *flowjson.Flow
	// shapes are the flow_token_signature claim sets already logged.
	shapes jwtShapes
}

// New returns the http.Handler of flow. The flow must have all its handlers
// and middleware registered: New takes a snapshot. For a flow built from
// its Flow JSON, New fails (ErrMissingHandler) when a request the Flow JSON
// can send has no handler, and the Handler checks every answer (see
// NewFlowFromJSON).
func New(cfg Config, flow *Flow) (*Handler, error) {
	if flow == nil || flow.name == "" {
		return nil, errors.New("endpoint: a flow with a name is required")
	}
	var spec *flowjson.Flow
	if flow.spec != nil {
		if err := flow.checkHandlers(); err != nil {
			return nil, err
		}
		if !flow.UncheckedAnswers {
			spec = flow.spec
		}
	}
	if cfg.Keys == nil {
		return nil, errors.New("endpoint: no private key configured")
	}
	if cfg.Signatures == nil {
		return nil, fmt.Errorf("endpoint: no app secret configured: %w", signature.ErrNoSecret)
	}
	tokens := flow.Tokens
	if tokens == nil {
		tokens = cfg.Tokens
	}
	if tokens == nil {
		return nil, fmt.Errorf("endpoint: flow %q has no flow-token validator", flow.name)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Handler{
		cfg:      cfg,
		flow:     flow,
		handlers: flow.compile(),
		tokens:   tokens,
		log:      log.With("flow", flow.name),
		spec:     spec,
	}, nil
}

// decrypted is the JSON inside the envelope (protocol.md 2.3).
type decrypted struct {
	Version            string          `json:"version"`
	Action             string          `json:"action"`
	Screen             string          `json:"screen"`
	Data               json.RawMessage `json:"data"`
	FlowToken          string          `json:"flow_token"`
	FlowTokenSignature string          `json:"flow_token_signature"`

	// tokenSignature is the outcome of the flow_token_signature check
	// (Observation.TokenSignature).
	tokenSignature string
}

// outcome is what ServeHTTP writes and logs.
type outcome struct {
	status int
	// sealed is the encrypted answer of a 200 or a 427 (possibly empty).
	sealed []byte
	// refusal is any other answer, in plain text: its Msg is the reason
	// the caller is told, its headers (Retry-After) are sent. Its Err is
	// never logged: err and foreign say what is.
	refusal *httperr.Error
	reason  string // logged
	// err is an error of the endpoint's own making (signature, envelope,
	// routing), whose text holds no payload value: logged as it is.
	err error
	// foreign is an error from a handler, a token validator or the
	// payload's JSON: only described (errorAttrs), never logged by its text.
	foreign error
	// refused holds the problems of an answer the endpoint refused to
	// send (answer check): logged, their first rule observed.
	refused flowjson.Problems
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	var req decrypted
	out := h.serve(r, &req)

	size := len(out.sealed)
	if out.refusal != nil {
		// Meta's codes (421, 427, 432) and their bodies are fixed by the
		// protocol (protocol.md 3.1): the refusals carry a line of text,
		// 432 none. The endpoint logs each request below, in one line.
		httperr.Write(w, r, nil, httperr.Text, out.refusal)
		if out.refusal.Msg != "" {
			size = len(out.refusal.Msg) + 1
		}
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(out.sealed)))
		w.WriteHeader(out.status)
		w.Write(out.sealed)
	}

	d := h.cfg.Now().Sub(start)
	if h.cfg.Observe != nil {
		o := Observation{Flow: h.flow.name, Action: req.Action, Screen: req.Screen, Status: out.status, Duration: d}
		if len(out.refused) > 0 {
			o.AnswerRule = out.refused[0].Code
		}
		o.TokenSignature = req.tokenSignature
		h.cfg.Observe(o)
	}
	level := slog.LevelDebug
	if out.status != http.StatusOK {
		// Error for a failure (5xx), Warn for a refusal, a refusal for
		// load (503) included.
		level = httperr.Level(out.status)
	}
	if h.log.Enabled(r.Context(), level) {
		attrs := []slog.Attr{
			slog.String("action", req.Action),
			slog.String("screen", req.Screen),
			slog.Int("status", out.status),
			slog.Int64("request_bytes", r.ContentLength),
			slog.Int("response_bytes", size),
			slog.Duration("duration", d),
		}
		if out.reason != "" {
			attrs = append(attrs, slog.String("reason", out.reason))
		}
		if out.err != nil {
			attrs = append(attrs, slog.String("error", out.err.Error()))
		}
		if out.foreign != nil {
			attrs = append(attrs, errorAttrs(out.foreign)...)
		}
		if len(out.refused) > 0 {
			attrs = append(attrs, refusedAttrs(out.refused)...)
		}
		h.log.LogAttrs(r.Context(), level, "flow endpoint request", attrs...)
	}
}

// plain is a refusal in plain text: the caller is told reason, and err
// when there is one (an error of the endpoint's own making); the log gets
// both.
func plain(status int, reason string, err error) outcome {
	msg := reason
	if err != nil {
		msg = reason + ": " + err.Error()
	}
	return outcome{status: status, refusal: httperr.New(status, msg, err), reason: reason, err: err}
}

// failed is a 500 whose cause, foreign, is only described in the log: the
// caller is told msg.
func failed(msg, reason string, foreign error) outcome {
	return outcome{status: http.StatusInternalServerError, refusal: httperr.New(http.StatusInternalServerError, msg, nil), reason: reason, foreign: foreign}
}

func (h *Handler) serve(r *http.Request, req *decrypted) outcome {
	if r.Method != http.MethodPost {
		return plain(http.StatusMethodNotAllowed, "the data endpoint takes POST", nil)
	}
	// 1. Body limit.
	body, err := readBody(r.Body, r.ContentLength, h.cfg.MaxBodyBytes)
	if busy := (*admission.BusyError)(nil); errors.As(err, &busy) {
		return outcome{status: http.StatusServiceUnavailable, refusal: busy.HTTPError(), reason: busy.Error()}
	}
	if err != nil {
		return plain(http.StatusBadRequest, "cannot read the request body", err)
	}
	if int64(len(body)) > h.cfg.MaxBodyBytes {
		return plain(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", h.cfg.MaxBodyBytes), nil)
	}
	// 2. Signature over the raw bytes; 432 with an empty body (protocol.md 1.2).
	if err := h.cfg.Signatures.Verify(body, r.Header.Get(signature.Header)); err != nil {
		return outcome{status: StatusSignatureFailed, refusal: httperr.New(StatusSignatureFailed, "", err), reason: "signature", err: err}
	}
	// 3 and 4. Envelope and decryption.
	plainJSON, resp, err := envelope.Open(body, h.cfg.Keys)
	switch {
	case errors.Is(err, envelope.ErrDecrypt):
		return plain(StatusDecryptFailed, "cannot decrypt the request", err)
	case err != nil:
		return plain(http.StatusBadRequest, "malformed request envelope", err)
	}
	if err := json.Unmarshal(plainJSON, req); err != nil {
		// The sender gets the JSON error; the log only its type, as a
		// syntax error quotes a character of the payload.
		out := plain(http.StatusBadRequest, "the decrypted request is not a JSON object", err)
		out.err, out.foreign, out.refusal.Err = nil, err, nil
		return out
	}
	if bytes.Equal(bytes.TrimSpace(req.Data), []byte("{}")) || bytes.Equal(bytes.TrimSpace(req.Data), []byte("null")) {
		req.Data = nil // INIT sends "data": {} (protocol.md 1.7)
	}
	// 5. Health check, before anything that could fail.
	if req.Action == ActionPing {
		return sealed(resp, answerActive)
	}
	if req.Action == "" {
		return plain(http.StatusBadRequest, "the decrypted request has no action", nil)
	}
	hreq := &Request{Flow: h.flow.name, Version: req.Version, Action: req.Action, Screen: req.Screen, FlowToken: req.FlowToken, Data: req.Data}
	// One deadline for everything that may wait from here on (a token
	// store, a notification hook, the flow handler), so that WhatsApp gets
	// an answer in time whichever of them is slow.
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	// 6. Error notifications, acknowledged whatever the token.
	if n, ok := notification(req.Data); ok {
		h.log.LogAttrs(ctx, slog.LevelWarn, "WhatsApp rejected an endpoint answer",
			slog.String("action", req.Action), slog.String("screen", req.Screen),
			slog.String("error_key", n.Key), slog.String("error_message", n.Message))
		if hook := h.flow.OnNotification; hook != nil {
			// The hook runs under the deadline like a handler. The
			// acknowledgement says the notification was received, which
			// it was, so a hook that overruns or panics is logged and the
			// notification acknowledged all the same.
			_, err := call(ctx, h.cfg.Timeout, func(ctx context.Context) (struct{}, error) {
				hook(ctx, hreq, n)
				return struct{}{}, nil
			})
			var pe *panicError
			switch {
			case errors.As(err, &pe):
				attrs := append([]slog.Attr{slog.String("action", req.Action), slog.String("screen", req.Screen)}, panicAttrs(pe.value, pe.stack)...)
				h.log.LogAttrs(ctx, slog.LevelError, "notification hook panicked", attrs...)
			case err != nil:
				h.log.LogAttrs(ctx, slog.LevelError, "notification hook did not return in time; acknowledged without it",
					slog.String("action", req.Action), slog.String("screen", req.Screen), slog.Duration("timeout", h.cfg.Timeout))
			}
		}
		return sealed(resp, answerAcknowledged)
	}
	// 7. Flow token, and its Data API 4.0 signature.
	if out, ok := h.checkToken(ctx, req, hreq, resp); !ok {
		return out
	}
	// 8. Dispatch.
	handler, err := lookup(h.handlers, h.flow.name, req.Action, req.Screen)
	if err != nil {
		return plain(http.StatusBadRequest, "cannot route the request", err)
	}
	answer, err := call(ctx, h.cfg.Timeout, func(ctx context.Context) (*Response, error) { return handler(ctx, hreq) })
	if err != nil {
		var te *TokenError
		var ce *CloseError
		var to *timeoutError
		var pe *panicError
		switch {
		case errors.As(err, &to):
			return plain(http.StatusGatewayTimeout, "the flow handler did not answer in time", err)
		case errors.As(err, &pe):
			attrs := append([]slog.Attr{slog.String("action", req.Action), slog.String("screen", req.Screen)}, panicAttrs(pe.value, pe.stack)...)
			h.log.LogAttrs(ctx, slog.LevelError, "flow handler panicked", attrs...)
			return plain(http.StatusInternalServerError, "the flow handler failed", nil)
		case errors.As(err, &te):
			return h.tokenRejected(resp, te, err)
		case errors.As(err, &ce):
			return h.closed(resp, ce, err)
		default:
			// Logged by kind and type only: a handler's error may quote
			// what the user submitted (see Fail).
			return failed("the flow handler failed", "handler error", err)
		}
	}
	if answer == nil || answer.Screen == "" {
		return plain(http.StatusInternalServerError, "the flow handler returned no screen", nil)
	}
	// 9. The answer. version is echoed; the client ignores it (protocol.md 2.4).
	b, err := answerJSON(req, answer)
	if err != nil {
		return plain(http.StatusInternalServerError, "the flow handler's answer is not JSON-encodable", err)
	}
	// The answer is checked against the Flow JSON before it is encrypted:
	// a wrong one would reach WhatsApp as an error notification and
	// degrade the flow's health (protocol.md 3.3); an endpoint failure
	// tells the user to try again and the operator what to fix.
	if h.spec != nil {
		if ps := h.spec.CheckAnswer(flowjson.AnswerTo{Action: req.Action, Screen: req.Screen, FlowToken: req.FlowToken}, b); ps.HasErrors() {
			out := failed("the flow handler's answer breaks the flow's Flow JSON", "answer refused", nil)
			out.refused = ps
			return out
		}
	}
	return sealed(resp, b)
}

// answerJSON encodes a handler's answer as the decrypted response.
func answerJSON(req *decrypted, answer *Response) ([]byte, error) {
	if answer.err != nil {
		return nil, answer.err
	}
	data := answer.Data
	switch d := data.(type) {
	case nil:
	case map[string]any:
		if d == nil {
			data = nil // omitted, as before data could be any value
		}
	default:
		// A struct, or a map of another type: encoded once here, so a
		// value that is not a JSON object is told apart.
		raw, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		switch {
		case string(raw) == "null":
			data = nil
		case raw[0] != '{':
			return nil, errNotObject
		default:
			data = json.RawMessage(raw)
		}
	}
	if answer.params != nil {
		// Success: the request's token goes with the params, unless the
		// handler set one (Complete).
		p := answer.params
		if _, ok := p["flow_token"]; !ok {
			p = maps.Clone(p) // a Response may be shared between requests
			p["flow_token"] = req.FlowToken
		}
		data = map[string]any{"extension_message_response": map[string]any{"params": p}}
	}
	return json.Marshal(wireResponse{Version: req.Version, Screen: answer.Screen, Data: data})
}

// refusedAttrs describes the problems of a refused answer: rule, place and
// message, which name screens and fields, never values.
func refusedAttrs(ps flowjson.Problems) []slog.Attr {
	rules := make([]string, len(ps))
	msgs := make([]string, len(ps))
	for i, p := range ps {
		rules[i] = p.Code
		msgs[i] = p.Code + " at " + p.Pointer + ": " + p.Message
	}
	return []slog.Attr{slog.Any("answer_rules", rules), slog.String("answer_problems", strings.Join(msgs, "; "))}
}

// initialBodyBuffer bounds the first allocation for a request body; a
// WhatsApp request is a few kilobytes.
const initialBodyBuffer = 64 << 10

// readBody reads at most limit+1 bytes of body: one more than allowed tells
// "exactly at the limit" from "over it". When the client announced a small
// length, the buffer is allocated once at that size rather than grown from
// 512 bytes as io.ReadAll does.
func readBody(body io.Reader, announced, limit int64) ([]byte, error) {
	lr := io.LimitReader(body, limit+1)
	// The length is only announced, and the signature not yet checked: a
	// sender that announces a megabyte and sends nothing must not pin a
	// megabyte per connection. A large or unknown length is read in pieces
	// as it arrives (admission.ReadAll).
	if announced < 0 || announced > initialBodyBuffer {
		return admission.ReadAll(lr)
	}
	// One spare byte, so the read that finds EOF needs no new buffer.
	buf := make([]byte, 0, announced+1)
	for {
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) { // more than announced: grow
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

type wireResponse struct {
	Version string `json:"version,omitempty"`
	Screen  string `json:"screen"`
	Data    any    `json:"data,omitempty"`
}

var (
	answerActive       = []byte(`{"data":{"status":"active"}}`)
	answerAcknowledged = []byte(`{"data":{"acknowledged":true}}`)
)

func sealed(r *envelope.Responder, plaintext []byte) outcome {
	return outcome{status: http.StatusOK, sealed: r.Seal(plaintext)}
}

// notification reports whether data is an error notification: it carries
// error, error_key or error_message (the docs disagree on the key,
// protocol.md 2.5).
func notification(data json.RawMessage) (Notification, bool) {
	if len(data) == 0 || !bytes.Contains(data, []byte(`"error`)) {
		return Notification{}, false
	}
	var d struct {
		Error        *string `json:"error"`
		ErrorKey     *string `json:"error_key"`
		ErrorMessage *string `json:"error_message"`
	}
	if json.Unmarshal(data, &d) != nil {
		return Notification{}, false
	}
	if d.Error == nil && d.ErrorKey == nil && d.ErrorMessage == nil {
		return Notification{}, false
	}
	var n Notification
	if d.Error != nil {
		n.Key = *d.Error
	} else if d.ErrorKey != nil {
		n.Key = *d.ErrorKey
	}
	if d.ErrorMessage != nil {
		n.Message = *d.ErrorMessage
	}
	return n, true
}

// Messages shown to the user on 427, by cause.
const (
	msgTokenMissing = "This form cannot be opened. Please ask for a new one."
	msgTokenInvalid = "This form link is not valid. Please ask for a new one."
	msgTokenExpired = "This form has expired. Please ask for a new one."
)

func (h *Handler) checkToken(ctx context.Context, req *decrypted, hreq *Request, resp *envelope.Responder) (outcome, bool) {
	if req.FlowToken == "" {
		return h.tokenRejected(resp, &TokenError{Msg: msgTokenMissing, Err: errors.New("request has no flow_token")}, nil), false
	}
	if out, ok := h.checkTokenSignature(ctx, req, resp); !ok {
		return out, false
	}
	// The validator runs under the deadline: a store that ignores its
	// context still gets WhatsApp its answer in time.
	claims, err := call(ctx, h.cfg.Timeout, func(ctx context.Context) (flowtoken.Claims, error) {
		return h.tokens.ValidateToken(ctx, h.flow.name, req.FlowToken)
	})
	if err != nil {
		var te *TokenError
		var to *timeoutError
		var pe *panicError
		switch {
		case errors.As(err, &to):
			return plain(http.StatusGatewayTimeout, "the flow token could not be checked in time", err), false
		case errors.As(err, &pe):
			attrs := append([]slog.Attr{slog.String("action", req.Action), slog.String("screen", req.Screen)}, panicAttrs(pe.value, pe.stack)...)
			h.log.LogAttrs(ctx, slog.LevelError, "flow-token validator panicked", attrs...)
			return plain(http.StatusInternalServerError, "cannot check the flow token", nil), false
		case errors.As(err, &te):
		case errors.Is(err, flowtoken.ErrExpired):
			te = &TokenError{Msg: msgTokenExpired, Err: err}
		case errors.Is(err, flowtoken.ErrMalformed), errors.Is(err, flowtoken.ErrForged), errors.Is(err, flowtoken.ErrWrongFlow):
			te = &TokenError{Msg: msgTokenInvalid, Err: err}
		case ctx.Err() != nil:
			out := plain(http.StatusGatewayTimeout, "the flow token could not be checked in time", nil)
			out.foreign = err
			return out, false
		default:
			// The validator could not decide (its store is down): a 427
			// would disable the user's button for good, a 500 lets them
			// try again.
			return failed("cannot check the flow token", "token validator", err), false
		}
		return h.tokenRejected(resp, te, err), false
	}
	hreq.Token = claims
	return outcome{}, true
}

// tokenRejected answers 427 with the encrypted error_msg the client shows
// (protocol.md 2.6: the client decrypts the 427 body). foreign is the error
// a validator or handler returned, which holds te; nil when the endpoint
// made te itself.
func (h *Handler) tokenRejected(resp *envelope.Responder, te *TokenError, foreign error) outcome {
	var body []byte
	if te.Msg != "" {
		b, _ := json.Marshal(struct {
			ErrorMsg string `json:"error_msg"`
		}{te.Msg})
		body = resp.Seal(b)
	}
	if foreign != nil {
		return outcome{status: StatusTokenInvalid, sealed: body, reason: "flow token", foreign: foreign}
	}
	return outcome{status: StatusTokenInvalid, sealed: body, reason: "flow token", err: te}
}

// closed answers 427 with the encrypted error_msg of a handler's
// CloseError: the client closes the flow (protocol.md 2.6).
func (h *Handler) closed(resp *envelope.Responder, ce *CloseError, foreign error) outcome {
	out := h.tokenRejected(resp, &TokenError{Msg: ce.Msg}, foreign)
	out.reason = "flow closed by the handler"
	return out
}

func majorVersion(v string) int {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0
	}
	return n
}

type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("no answer after %v", e.after) }

type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// call runs fn under ctx's deadline, recovering a panic (*panicError). A
// function that overruns keeps running until it notices its context is
// done, or for ever if it never does, but the caller gets a *timeoutError
// at the deadline: the request is answered in time whatever fn does.
func call[T any](ctx context.Context, timeout time.Duration, fn func(context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned fn does not block on it
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: &panicError{value: v, stack: debug.Stack()}}
			}
		}()
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		select {
		case res := <-done: // finished at the same moment: keep its answer
			return res.v, res.err
		default:
		}
		var zero T
		return zero, &timeoutError{after: timeout}
	}
}
