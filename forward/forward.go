package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/stdwebhooks"
)

// DefaultTimeout bounds a backend's answer when Config.Timeout is zero. It
// is below the endpoint's own deadline (endpoint.DefaultTimeout, 3 s, which
// also covers the token check), so that a slow backend is reported as a
// forward failure by the forwarder, and well under Meta's 10 s.
const DefaultTimeout = 2500 * time.Millisecond

// MaxAnswerBytes bounds the body of a backend's answer.
const MaxAnswerBytes = 1 << 20

// TokenPolicy says who judges flow tokens.
type TokenPolicy string

// Token policies.
const (
	// TokensWaflow (the default, also written "waflow"): waflow issues and
	// checks the flow tokens, the backend sees only requests with a valid
	// one and is told the user's WhatsApp id.
	TokensWaflow TokenPolicy = ""
	// TokensBackend: waflow forwards whatever token arrives, unchecked,
	// and the backend's 427 is the verdict. For a business that sends flow
	// messages from its own systems with tokens of its own.
	TokensBackend TokenPolicy = "backend"
)

// ParseTokenPolicy reads a policy as written in configuration: "",
// "waflow" or "backend".
func ParseTokenPolicy(s string) (TokenPolicy, error) {
	switch s {
	case "", "waflow":
		return TokensWaflow, nil
	case "backend":
		return TokensBackend, nil
	}
	return "", fmt.Errorf("forward: token policy %q: want waflow or backend", s)
}

// Config configures a forwarder.
type Config struct {
	// URL is the backend's http(s) URL. Required.
	URL string
	// Secret signs the requests: "whsec_" and the base64 of at least 24
	// random bytes (stdwebhooks.NewSecret makes one). Required. Secrets
	// lists older secrets still signed with during a rotation.
	Secret  string
	Secrets []string
	// Timeout bounds the backend's answer; DefaultTimeout when zero. The
	// endpoint's own deadline (endpoint.Config.Timeout) applies too.
	Timeout time.Duration
	// Client sends the requests; a client shared by all forwarders, with
	// keep-alive connections and no redirects, when nil.
	Client *http.Client
	// Logger gets one line per failed request (Debug for the others); it
	// never gets values. slog.Default() when nil.
	Logger *slog.Logger
	// TokenPolicy says who judges flow tokens; TokensWaflow by default.
	TokenPolicy TokenPolicy
	// Observe, when set, is called once per forwarded request, e.g. for
	// metrics.
	Observe func(Observation)
	// Now returns the current time (the signature's timestamp); time.Now
	// when nil.
	Now func() time.Time
	// Spec, when set, is the flow's Flow JSON: the submitted values are
	// checked against its screens before a request is forwarded
	// (endpoint.CheckValues), and every backend answer is checked against
	// its routing and data models before it is encrypted
	// (endpoint.NewFlowFromJSON; a wrong answer is never sent). Without it
	// the backend's answers reach WhatsApp unchecked.
	Spec *flowjson.Flow
	// MediaURL, when set, makes the URL a backend fetches a stored media
	// file from (a signed, short-lived URL served by waflow,
	// media.URLSigner): each file of Request.Media carries one. The files
	// themselves are received by endpoint.ReceiveMedia before the request
	// is forwarded (docs/forwarding.md).
	MediaURL func(key string) string
}

// Outcome is how a forwarded request ended.
type Outcome string

// Outcomes.
const (
	OutcomeAnswered      Outcome = "answered"       // a screen (or SUCCESS) to show
	OutcomeTokenRejected Outcome = "token_rejected" // the backend's 427
	OutcomeFailed        Outcome = "failed"         // a forward failure: the endpoint answers 500
)

// Failure names what went wrong with a backend.
type Failure string

// Failures.
const (
	FailureTimeout     Failure = "timeout"     // no answer within Config.Timeout
	FailureUnreachable Failure = "unreachable" // no connection, or it broke
	FailureStatus      Failure = "status"      // a status other than 200 and 427
	FailureTooLarge    Failure = "too_large"   // a body over MaxAnswerBytes
	FailureNotJSON     Failure = "not_json"    // a body that is not JSON
	FailureBadAnswer   Failure = "bad_answer"  // JSON, but not an answer (no screen, data not an object, ...)
)

// Observation describes one forwarded request.
type Observation struct {
	Flow   string
	Action string
	Screen string
	// RequestID is the webhook-id (and Request.ID) of the request.
	RequestID string
	Outcome   Outcome
	// Failure is set when Outcome is OutcomeFailed.
	Failure Failure
	// Status is the backend's HTTP status; 0 when there was none.
	Status   int
	Duration time.Duration
}

// Request is the JSON body POSTed to the backend.
type Request struct {
	// ID identifies the request: the webhook-id header, an idempotency key.
	ID     string `json:"id"`
	Flow   string `json:"flow"`
	Action string `json:"action"` // INIT, BACK or data_exchange
	// Screen is the screen that sent the request; "" for INIT.
	Screen string `json:"screen"`
	// Data is the request's data, the resolved payload of the action that
	// fired, after the value checks; {} when there is none.
	Data      json.RawMessage `json:"data"`
	FlowToken string          `json:"flow_token"`
	// FlowTokenChecked reports whether waflow checked the token (policy
	// waflow) or left it to the backend (policy backend).
	FlowTokenChecked bool `json:"flow_token_checked"`
	// User is who the user is, where known: from a token waflow issued.
	User *User `json:"user,omitempty"`
	// DataAPIVersion is the flow's Data API version, "3.0" or "4.0".
	DataAPIVersion string `json:"data_api_version"`
	// Media holds, by payload key, the PhotoPicker or DocumentPicker files
	// the endpoint received and stored (endpoint.ReceiveMedia), each with
	// a signed URL to fetch it from; absent when there are none.
	Media map[string][]File `json:"media,omitempty"`
}

// File is a media file received and stored by waflow: its description
// (media_id, sha256, mime_type, size, file_name) and where to fetch it.
type File struct {
	endpoint.StoredFile
	// URL is a short-lived signed URL to the file's bytes (GET); "" when
	// the forwarder has no Config.MediaURL.
	URL string `json:"url,omitempty"`
}

// User identifies the WhatsApp user.
type User struct {
	WAID string `json:"wa_id"`
}

// Forwarder forwards one flow's requests to its backend.
type Forwarder struct {
	url      string
	signer   *stdwebhooks.Signer
	timeout  time.Duration
	client   *http.Client
	log      *slog.Logger
	policy   TokenPolicy
	observe  func(Observation)
	now      func() time.Time
	spec     *flowjson.Flow
	mediaURL func(key string) string
}

// New checks cfg and returns a Forwarder.
func New(cfg Config) (*Forwarder, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("forward: backend URL %q: want an http or https URL", redactURL(cfg.URL))
	}
	if cfg.Secret == "" {
		return nil, errors.New("forward: no secret to sign the backend requests with")
	}
	signer, err := stdwebhooks.NewSigner(append([]string{cfg.Secret}, cfg.Secrets...)...)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	if _, err := ParseTokenPolicy(string(cfg.TokenPolicy)); err != nil {
		return nil, err
	}
	fw := &Forwarder{url: cfg.URL, signer: signer, timeout: cfg.Timeout, client: cfg.Client,
		log: cfg.Logger, policy: cfg.TokenPolicy, observe: cfg.Observe, now: cfg.Now, spec: cfg.Spec, mediaURL: cfg.MediaURL}
	if fw.policy == "waflow" {
		fw.policy = TokensWaflow
	}
	if fw.timeout <= 0 {
		fw.timeout = DefaultTimeout
	}
	if fw.client == nil {
		fw.client = sharedClient
	}
	if fw.log == nil {
		fw.log = slog.Default()
	}
	if fw.now == nil {
		fw.now = time.Now
	}
	return fw, nil
}

// redactURL drops a URL's user information and query, which may hold
// credentials, for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// NewFlow returns the endpoint.Flow called name whose INIT, BACK and
// data_exchange requests, on every screen, cfg's backend answers. Add the
// value check with Flow.Use before the endpoint is made.
func NewFlow(name string, cfg Config) (*endpoint.Flow, error) {
	fw, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return fw.Flow(name), nil
}

// Flow returns an endpoint.Flow called name answered by fw (see NewFlow).
func (fw *Forwarder) Flow(name string) *endpoint.Flow {
	f := endpoint.NewFlow(name)
	if fw.spec != nil {
		f = endpoint.NewFlowFromJSON(name, fw.spec)
		f.Use(endpoint.CheckValues(endpoint.ValueCheck{Spec: fw.spec, Logger: fw.log}))
	}
	for _, a := range []string{endpoint.ActionInit, endpoint.ActionBack, endpoint.ActionDataExchange} {
		f.Handle(a, "", fw.Handle)
	}
	if fw.policy == TokensBackend {
		f.Tokens = backendTokens{}
	}
	return f
}

// backendTokens accepts every token: the backend judges them.
type backendTokens struct{}

func (backendTokens) ValidateToken(_ context.Context, flow, _ string) (flowtoken.Claims, error) {
	return flowtoken.Claims{Flow: flow}, nil
}

// sharedClient is the default client of every forwarder: one pool of
// keep-alive connections per backend host. It never follows a redirect
// (Standard Webhooks counts a 3xx as a failure, and the signed body must
// not go elsewhere); each request's deadline comes from its context.
var sharedClient = &http.Client{
	Transport: &http.Transport{
		DialContext:            (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           512,
		MaxIdleConnsPerHost:    128, // a busy flow keeps many requests in flight to one backend
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    2 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Handle forwards one request and returns the backend's answer; it is the
// endpoint.HandlerFunc of the flows NewFlow makes.
func (fw *Forwarder) Handle(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	start := fw.now()
	id := stdwebhooks.NewID()
	body, err := json.Marshal(fw.request(id, r))
	if err != nil {
		// Only a Data that is not valid JSON, which the endpoint never
		// passes on.
		return nil, endpoint.Fail("forward: cannot encode the backend request", err)
	}
	status, answer, err := fw.send(ctx, id, start, body, r.FlowToken)
	obs := Observation{Flow: r.Flow, Action: r.Action, Screen: r.Screen, RequestID: id, Status: status, Duration: fw.now().Sub(start)}
	var te *endpoint.TokenError
	var fe *Error
	switch {
	case err == nil:
		obs.Outcome = OutcomeAnswered
	case errors.As(err, &te):
		obs.Outcome = OutcomeTokenRejected
	case errors.As(err, &fe):
		obs.Outcome, obs.Failure = OutcomeFailed, fe.Failure
	}
	fw.logResult(ctx, obs, fe)
	if fw.observe != nil {
		fw.observe(obs)
	}
	if fe != nil {
		return nil, fe.endpointError()
	}
	return answer, err
}

func (fw *Forwarder) request(id string, r *endpoint.Request) *Request {
	req := &Request{ID: id, Flow: r.Flow, Action: r.Action, Screen: r.Screen, Data: r.Data,
		FlowToken: r.FlowToken, FlowTokenChecked: fw.policy != TokensBackend, DataAPIVersion: r.Version}
	if len(req.Data) == 0 {
		req.Data = json.RawMessage("{}")
	}
	if req.FlowTokenChecked && r.Token.WAID != "" {
		req.User = &User{WAID: r.Token.WAID}
	}
	for key, files := range r.Media {
		if req.Media == nil {
			req.Media = map[string][]File{}
		}
		out := make([]File, len(files))
		for i, f := range files {
			out[i] = File{StoredFile: f}
			if fw.mediaURL != nil {
				out[i].URL = fw.mediaURL(f.Key)
			}
		}
		req.Media[key] = out
	}
	return req
}

func (fw *Forwarder) send(parent context.Context, id string, at time.Time, body []byte, flowToken string) (int, *endpoint.Response, error) {
	ctx, cancel := context.WithTimeout(parent, fw.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fw.url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, &Error{Failure: FailureUnreachable, Detail: "cannot make the request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "waflow-forward")
	if err := fw.signer.SetHeaders(req.Header, id, at, body); err != nil {
		return 0, nil, &Error{Failure: FailureUnreachable, Detail: "cannot sign the request", Err: err}
	}
	resp, err := fw.client.Do(req)
	if err != nil {
		if ctx.Err() != nil || isTimeout(err) {
			return 0, nil, &Error{Failure: FailureTimeout, Detail: fw.late(parent), Err: err}
		}
		return 0, nil, &Error{Failure: FailureUnreachable, Detail: transportDetail(err), Err: err}
	}
	defer resp.Body.Close()
	b, err := readCapped(resp.Body, resp.ContentLength, MaxAnswerBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return resp.StatusCode, nil, &Error{Failure: FailureTooLarge, Status: resp.StatusCode, Detail: fmt.Sprintf("answer over %d bytes", MaxAnswerBytes), Err: err}
	case err != nil && (ctx.Err() != nil || isTimeout(err)):
		return resp.StatusCode, nil, &Error{Failure: FailureTimeout, Status: resp.StatusCode, Detail: "answer cut short: " + fw.late(parent), Err: err}
	case err != nil:
		return resp.StatusCode, nil, &Error{Failure: FailureUnreachable, Status: resp.StatusCode, Detail: "the answer broke off", Err: err}
	}
	answer, err := ParseAnswer(resp.StatusCode, b, flowToken)
	return resp.StatusCode, answer, err
}

// late says which deadline passed: the forwarder's, or the request's own
// (the endpoint's, or the client went away).
func (fw *Forwarder) late(parent context.Context) string {
	if parent.Err() != nil {
		return "the request's deadline passed before the backend answered"
	}
	return fmt.Sprintf("no answer within %v", fw.timeout)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// transportDetail describes a transport error without the URL, which may
// hold credentials: "dial tcp 127.0.0.1:9: connect: connection refused".
func transportDetail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return "request failed"
}

var errTooLarge = errors.New("answer too large")

// readCapped reads at most limit bytes of body; one more is errTooLarge.
func readCapped(body io.Reader, announced, limit int64) ([]byte, error) {
	if announced > limit {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

func (fw *Forwarder) logResult(ctx context.Context, obs Observation, fe *Error) {
	level := slog.LevelDebug
	msg := "forwarded to the backend"
	if fe != nil {
		level, msg = slog.LevelError, "forward to the backend failed"
	}
	if !fw.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("flow", obs.Flow), slog.String("action", obs.Action), slog.String("screen", obs.Screen),
		slog.String("request_id", obs.RequestID), slog.String("outcome", string(obs.Outcome)),
		slog.Int("backend_status", obs.Status), slog.Duration("duration", obs.Duration),
	}
	if fe != nil {
		attrs = append(attrs, slog.String("failure", string(fe.Failure)), slog.String("detail", fe.Detail))
	}
	fw.log.LogAttrs(ctx, level, msg, attrs...)
}
