package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults used by New for the zero values of Options.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v25.0"
	DefaultTimeout = 30 * time.Second
)

// MaxResponseBytes bounds how much of a response body the client reads. The
// largest legitimate answers (a flow list with validation errors) are far
// smaller; anything bigger is refused rather than buffered.
const MaxResponseBytes = 16 << 20

// Errors returned by New and by the operations before anything is sent.
var (
	// ErrNoAccessToken means no access token is configured: the client
	// refuses to exist rather than send unauthenticated requests.
	ErrNoAccessToken = errors.New("graph: no access token configured")
	// ErrInvalidID means a Graph object id (phone number, WABA, flow) is
	// empty or contains characters that cannot be part of a path segment.
	ErrInvalidID = errors.New("graph: invalid id")
	// ErrInvalidRequest means the request was refused before sending
	// because a required field is missing or a value is out of range.
	ErrInvalidRequest = errors.New("graph: invalid request")
	// ErrOutcomeUnknown wraps the error of a request that is not safe to
	// repeat (sending a message, creating or publishing a flow) when it
	// failed after it may have reached Meta: a 5xx answer, a timeout or a
	// connection lost after the request was written. It was not retried;
	// the caller decides whether a possible duplicate is acceptable.
	ErrOutcomeUnknown = errors.New("graph: outcome unknown: Meta may have carried out the request, so it was not retried")
	// ErrUnexpectedResponse means a 2xx answer could not be understood
	// (not JSON, a missing id, or "success": false).
	ErrUnexpectedResponse = errors.New("graph: unexpected response")
	// ErrUnreachable means the Graph API host could not be reached in a way
	// that a few seconds of retries would not heal: its name does not
	// resolve, no route leads to it, or a host other than this machine
	// refused the connection. The request is not retried; IsTemporary still
	// reports it, for a worker that tries again minutes later.
	ErrUnreachable = errors.New("the Graph API host cannot be reached (not retried: check the network and the Graph API URL)")
)

// RetryPolicy says how often and how patiently a failed request is repeated.
// Only 429, 5xx and network errors are retried, never another 4xx; see the
// package documentation for requests that are not safe to repeat.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	// Values below 1 mean 1 (no retry).
	MaxAttempts int
	// BaseDelay is the wait before the first retry; each further retry
	// doubles it, up to MaxDelay.
	BaseDelay time.Duration
	// MaxDelay caps the wait between two attempts. A Retry-After longer
	// than MaxDelay is not waited for: the error is returned with
	// Error.RetryAfter set so the caller can schedule the work later.
	MaxDelay time.Duration
	// Jitter is the fraction of each computed wait, between 0 and 1, that
	// is randomised, so that many clients throttled together do not come
	// back together. 0 waits exactly; 0.5 waits between 50 % and 100 %.
	Jitter float64
	// Sleep waits for d or until ctx is done. Nil uses a timer; tests
	// set it to record the waits instead of sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultRetryPolicy is used when Options.Retry is nil: four attempts over
// roughly four seconds, which rides out a Graph API hiccup without holding a
// command or a worker for long.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts: 4,
	BaseDelay:   500 * time.Millisecond,
	MaxDelay:    30 * time.Second,
	Jitter:      0.5,
}

// Options configures a Client. Only AccessToken is required.
type Options struct {
	// BaseURL is the Graph API root, DefaultBaseURL when empty. Tests and
	// proxies point it elsewhere; a path prefix is kept.
	BaseURL string
	// Version is the Graph API version, such as "v25.0"; DefaultVersion
	// when empty.
	Version string
	// AccessToken is the system-user access token sent as
	// "Authorization: Bearer". It is never logged nor put in an error.
	AccessToken string
	// HTTPClient sends the requests; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Timeout bounds each attempt, from sending to the end of the body;
	// DefaultTimeout when 0, none when negative.
	Timeout time.Duration
	// Retry is the retry policy; DefaultRetryPolicy when nil.
	Retry *RetryPolicy
	// Logger receives one warning per retried attempt; slog.Default()
	// when nil. Only method, path, status, codes, trace id and timings
	// are logged, never the token or a body.
	Logger *slog.Logger
}

// Client is a typed WhatsApp Cloud API / Graph API client. It is safe for
// concurrent use.
type Client struct {
	base    *url.URL
	version string
	token   string
	http    *http.Client
	timeout time.Duration
	retry   RetryPolicy
	log     *slog.Logger
}

var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// New returns a Client for opts. It fails with ErrNoAccessToken when no
// token is configured, and on a malformed base URL or version.
func New(opts Options) (*Client, error) {
	if strings.TrimSpace(opts.AccessToken) == "" {
		return nil, ErrNoAccessToken
	}
	if strings.ContainsAny(opts.AccessToken, "\r\n") {
		return nil, errors.New("graph: access token contains a line break (a file read without trimming?)")
	}
	c := &Client{
		version: opts.Version,
		token:   opts.AccessToken,
		http:    opts.HTTPClient,
		timeout: opts.Timeout,
		log:     opts.Logger,
	}
	raw := opts.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("graph: base URL %q: want an absolute http(s) URL without query, such as %s", raw, DefaultBaseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c.base = u
	if c.version == "" {
		c.version = DefaultVersion
	}
	if !versionRE.MatchString(c.version) {
		return nil, fmt.Errorf("graph: API version %q: want the form %s", c.version, DefaultVersion)
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if opts.Retry != nil {
		c.retry = *opts.Retry
	} else {
		c.retry = DefaultRetryPolicy
	}
	c.retry.MaxAttempts = max(c.retry.MaxAttempts, 1)
	c.retry.Jitter = min(max(c.retry.Jitter, 0), 1)
	if c.retry.Sleep == nil {
		c.retry.Sleep = sleep
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With(slog.String("component", "graph"))
	return c, nil
}

// Version returns the Graph API version the client calls.
func (c *Client) Version() string { return c.version }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call is one Graph API operation.
type call struct {
	op          string // what the caller asked for, for error messages: "publish flow 123"
	method      string
	segments    []string // path after the version, each escaped separately
	query       url.Values
	body        []byte
	contentType string
	// download, when set, is an absolute URL fetched instead of a Graph
	// API path (an asset's download_url). The access token goes with it
	// only when it is on the Graph API's own scheme and host, never to a
	// CDN and never over plain HTTP when the API is HTTPS.
	download *url.URL
	// auth sends the access token with a download whose host the caller
	// has checked (a media URL on one of MediaHosts).
	auth bool
	// limit bounds a 2xx answer's body instead of MaxResponseBytes.
	limit int64
	// unsafe marks a request whose repetition has a visible effect (a
	// second message, a second flow) or fails where the first succeeded.
	// It is retried only when Meta cannot have acted on it: a 429, or a
	// connection error before the request was written.
	unsafe bool
}

func (c *Client) url(cl *call) string {
	if cl.download != nil {
		return cl.download.String()
	}
	// checkID has refused "/", "..", "?" and "#", so JoinPath keeps every
	// id as one escaped path segment.
	u := c.base.JoinPath(append([]string{c.version}, cl.segments...)...)
	u.RawQuery = cl.query.Encode()
	return u.String()
}

// checkID validates a Graph object id used as a path segment.
func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidID, what)
	}
	if len(id) > 128 || strings.ContainsAny(id, "/?#% \t\r\n") || id == "." || id == ".." {
		return fmt.Errorf("%w: %s %q is not a Graph object id", ErrInvalidID, what, id)
	}
	return nil
}

func jsonCall(op, method string, body any, segments ...string) (*call, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: encoding the request: %w", op, err)
	}
	return &call{op: op, method: method, segments: segments, body: b, contentType: "application/json"}, nil
}

// do runs cl with retries and decodes a 2xx JSON answer into out (when
// non-nil). Errors from Meta are *Error, wrapped with the operation.
func (c *Client) do(ctx context.Context, cl *call, out any) error {
	var last error
	for attempt := 1; ; attempt++ {
		start := time.Now()
		body, status, hdr, err := c.attempt(ctx, cl)
		c.log.LogAttrs(ctx, slog.LevelDebug, "graph request",
			slog.String("op", cl.op), slog.String("method", cl.method), slog.Int("attempt", attempt),
			slog.Int("status", status), slog.Duration("duration", time.Since(start)), slog.Int("response_bytes", len(body)))
		var retry bool
		var retryAfter time.Duration
		switch {
		case err != nil && ctx.Err() != nil:
			// The caller gave up. If the request had been written, Meta
			// may still carry it out: say so, or a caller that retries
			// could send a message twice.
			var wroteErr *writtenError
			if cl.unsafe && errors.As(err, &wroteErr) {
				return fmt.Errorf("graph: %s: %w; %w", cl.op, ctx.Err(), ErrOutcomeUnknown)
			}
			return fmt.Errorf("graph: %s: %w", cl.op, ctx.Err())
		case errors.Is(err, errBodyTooLarge):
			// The same answer would come again: never retried.
			return fmt.Errorf("graph: %s: %w", cl.op, err)
		case err != nil:
			var wroteErr *writtenError
			written := errors.As(err, &wroteErr)
			if written {
				err = wroteErr.err
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no complete answer within %s: %w", c.timeout, err)
			}
			if cl.unsafe && written {
				return fmt.Errorf("graph: %s: %w; %w", cl.op, err, ErrOutcomeUnknown)
			}
			if !written && unreachable(err) {
				return fmt.Errorf("graph: %s: %w: %w", cl.op, err, ErrUnreachable)
			}
			last = fmt.Errorf("graph: %s: %w", cl.op, err)
			retry = true
		case status >= 200 && status < 300:
			if out == nil {
				return nil
			}
			if raw, ok := out.(*[]byte); ok { // a download: the body as it is
				*raw = body
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				err = fmt.Errorf("graph: %s: %w: HTTP %d body is not the expected JSON: %w", cl.op, ErrUnexpectedResponse, status, err)
				if cl.unsafe {
					err = fmt.Errorf("%w; %w", err, ErrOutcomeUnknown) // a 2xx means Meta took it
				}
				return err
			}
			return nil
		default:
			apiErr := parseError(status, hdr, body)
			retryAfter = apiErr.RetryAfter
			switch {
			case status == http.StatusTooManyRequests:
				retry = true
			case status >= 500 && cl.unsafe:
				return fmt.Errorf("graph: %s: %w; %w", cl.op, apiErr, ErrOutcomeUnknown)
			case status >= 500:
				retry = true
			}
			last = fmt.Errorf("graph: %s: %w", cl.op, apiErr)
		}
		if !retry {
			return last
		}
		if attempt >= c.retry.MaxAttempts {
			if attempt > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", last, attempt)
			}
			return last
		}
		wait := c.backoff(attempt)
		if retryAfter > 0 {
			if retryAfter > c.retry.MaxDelay {
				return fmt.Errorf("%w (Retry-After %s is longer than the retry policy waits)", last, retryAfter)
			}
			wait = max(wait, retryAfter)
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "graph request failed, retrying",
			slog.String("op", cl.op), slog.String("method", cl.method),
			slog.Int("attempt", attempt), slog.Int("status", status),
			slog.Duration("wait", wait), slog.String("error", errorSummary(last)))
		if err := c.retry.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w (retry abandoned: %w)", last, err)
		}
	}
}

// errorSummary is what a retry log line says about the failure: the Graph
// codes and trace id when Meta answered, the transport error otherwise.
func errorSummary(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return fmt.Sprintf("code %d subcode %d fbtrace_id %s", e.Code, e.Subcode, e.FBTraceID)
	}
	return err.Error()
}

// backoff returns the wait after failed attempt n (1-based).
func (c *Client) backoff(n int) time.Duration {
	d := c.retry.BaseDelay
	for i := 1; i < n && d < c.retry.MaxDelay; i++ {
		d *= 2
	}
	if c.retry.MaxDelay > 0 {
		d = min(d, c.retry.MaxDelay)
	}
	if c.retry.Jitter > 0 && d > 0 {
		fixed := time.Duration(float64(d) * (1 - c.retry.Jitter))
		d = fixed + time.Duration(rand.Float64()*float64(d-fixed))
	}
	return d
}

// errBodyTooLarge marks an answer larger than the call accepts.
var errBodyTooLarge = errors.New("too large")

// unreachable reports whether a connection error will not heal within the
// retry policy's seconds: a name that does not resolve, no route to the
// network or host, or a refusal from another machine. A refusal from this
// machine is retried: a local proxy or test server may be restarting.
func unreachable(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsNotFound
	}
	if errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var opErr *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) && errors.As(err, &opErr) && opErr.Addr != nil {
		host, _, splitErr := net.SplitHostPort(opErr.Addr.String())
		if splitErr != nil {
			host = opErr.Addr.String()
		}
		ip := net.ParseIP(host)
		return ip != nil && !ip.IsLoopback()
	}
	return false
}

// writtenError marks a transport error that happened after the whole
// request had been written to the connection.
type writtenError struct{ err error }

func (e *writtenError) Error() string { return e.err.Error() }
func (e *writtenError) Unwrap() error { return e.err }

// attempt sends cl once and reads the whole answer under the per-attempt
// timeout.
func (c *Client) attempt(ctx context.Context, cl *call) (body []byte, status int, hdr http.Header, err error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var written atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				written.Store(true)
			}
		},
	})
	var rd io.Reader
	if cl.body != nil {
		rd = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.url(cl), rd)
	if err != nil {
		return nil, 0, nil, err
	}
	if cl.download == nil || cl.auth || (cl.download.Host == c.base.Host && cl.download.Scheme == c.base.Scheme) {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if cl.auth {
		req.Header.Set("Accept", "*/*")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", "waflow-graph/1")
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if cl.download != nil && errors.As(err, &ue) {
			// A download URL may carry a signature in its query.
			bare := *cl.download
			bare.RawQuery = ""
			ue.URL = bare.String()
		}
		if written.Load() {
			return nil, 0, nil, &writtenError{err}
		}
		return nil, 0, nil, err
	}
	defer resp.Body.Close()
	limit := int64(MaxResponseBytes)
	if cl.limit > 0 && resp.StatusCode/100 == 2 { // an error answer is read as usual
		limit = cl.limit
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, 0, nil, &writtenError{fmt.Errorf("reading the HTTP %d answer: %w", resp.StatusCode, err)}
	}
	if int64(len(body)) > limit {
		return nil, 0, nil, &writtenError{fmt.Errorf("HTTP %d answer: %w: more than %d bytes", resp.StatusCode, errBodyTooLarge, limit)}
	}
	return body, resp.StatusCode, resp.Header, nil
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date relative to now. It returns 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

// successResponse is the answer of the operations that only say whether
// they worked.
type successResponse struct {
	Success bool `json:"success"`
}

func (c *Client) doSuccess(ctx context.Context, cl *call) error {
	var r successResponse
	if err := c.do(ctx, cl, &r); err != nil {
		return err
	}
	if !r.Success {
		return fmt.Errorf("graph: %s: %w: Meta answered without \"success\": true", cl.op, ErrUnexpectedResponse)
	}
	return nil
}
