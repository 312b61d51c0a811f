package simulator

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
)

// The actions the WhatsApp client sends to a data endpoint (protocol.md 2.1).
const (
	ActionPing         = "ping"
	ActionInit         = "INIT"
	ActionBack         = "BACK"
	ActionDataExchange = "data_exchange"
)

// maxAnswer bounds what the client reads of an answer. Meta's data channel
// carries at most 1 MB (protocol.md 6.7, Image).
const maxAnswer = 4 << 20

// Config is what a simulated WhatsApp client needs to talk to an endpoint.
type Config struct {
	// Flow is the Flow JSON the client renders. Required.
	Flow *flowjson.Flow
	// Name names the flow in reports and in completion webhooks.
	Name string

	// URL is the data endpoint, e.g. "http://127.0.0.1:8080/flows/NAME".
	// Handler, when set instead, is called in-process (no network).
	URL     string
	Handler http.Handler

	// PublicKey is the endpoint's public key: each request's AES key is
	// wrapped for it. Required for flows with a data endpoint.
	PublicKey *rsa.PublicKey
	// RefreshKey, when set, is called after a 421 answer, as WhatsApp
	// re-fetches the business's public key before its one retry
	// (protocol.md 2.7). Without it the retry uses the same key.
	RefreshKey func(ctx context.Context) (*rsa.PublicKey, error)
	// RetryDelay is the wait before that retry; default 500 ms, as the
	// client does.
	RetryDelay time.Duration
	// AppSecret signs each request (X-Hub-Signature-256) and, for Data API
	// 4.0 flows of Flow JSON 7.3 or later, the flow_token_signature JWT.
	// Required for flows with a data endpoint.
	AppSecret []byte
	// FlowToken is the token the flow message carried (protocol.md 7).
	FlowToken string

	// HTTPClient sends requests to URL; default a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one request; default 10 s, WhatsApp's limit.
	Timeout time.Duration
	// Rand is the source of AES keys and IVs; crypto/rand when nil.
	Rand io.Reader
	// Now is the clock (for the JWT expiry); time.Now when nil.
	Now func() time.Time
}

// Client plays the WhatsApp client's transport against one data endpoint:
// for each request a fresh AES-128 key and 16-byte IV, RSA-OAEP for the
// endpoint's key, X-Hub-Signature-256 with the app secret, and the answer
// opened with the flipped IV (protocol.md 1). A Client is safe for
// concurrent use; a [Session] on top of it plays one user.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Flow == nil {
		return nil, errors.New("simulator: a Flow is required")
	}
	if cfg.Flow.DataAPIVersion != "" {
		switch {
		case cfg.URL == "" && cfg.Handler == nil:
			return nil, errors.New("simulator: the flow has a data endpoint: set URL or Handler")
		case cfg.PublicKey == nil:
			return nil, errors.New("simulator: the flow has a data endpoint: set the endpoint's PublicKey")
		case len(cfg.AppSecret) == 0:
			return nil, fmt.Errorf("simulator: the flow has a data endpoint: set the AppSecret that signs requests: %w", signature.ErrNoSecret)
		}
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 500 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient}
	if c.http == nil {
		c.http = &http.Client{Timeout: cfg.Timeout}
	}
	return c, nil
}

// ErrNoEndpoint is returned for a request from a client configured
// without a data endpoint (a flow without data_api_version).
var ErrNoEndpoint = errors.New("simulator: no data endpoint configured (URL or Handler, PublicKey and AppSecret)")

func (c *Client) canSend() error {
	if (c.cfg.URL == "" && c.cfg.Handler == nil) || c.cfg.PublicKey == nil || len(c.cfg.AppSecret) == 0 {
		return ErrNoEndpoint
	}
	return nil
}

// Flow returns the client's Flow JSON.
func (c *Client) Flow() *flowjson.Flow { return c.cfg.Flow }

// Name returns the flow's name from the Config.
func (c *Client) Name() string { return c.cfg.Name }

// URL returns the data endpoint's URL from the Config: empty for an
// in-process Handler or a flow without an endpoint.
func (c *Client) URL() string { return c.cfg.URL }

// WaitReady pings the endpoint until it answers or within passes: for a
// script that has just started the server. Only a failed connection is
// waited out; any other error, or an answer, ends the wait.
func (c *Client) WaitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		_, err := c.Send(ctx, Request{Action: ActionPing})
		var te *TransportError
		if err == nil || !errors.As(err, &te) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the endpoint did not answer within %s: %w", within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Request is what the simulated phone sends in one data-endpoint request,
// before [Client.Send] adds the version, token and signature and encrypts it
// (protocol.md 2.2, 2.3, 2.5). The server side of the same request is
// endpoint.Request (docs/architecture.md, "Which Request is which").
type Request struct {
	Action string
	// Screen is the screen that sent the request; empty for INIT and ping.
	Screen string
	// Data is the resolved payload of the action that fired; nil for INIT,
	// BACK and ping.
	Data map[string]any
}

// plaintext builds the decrypted request body as WhatsApp sends it.
func (c *Client) plaintext(r Request) ([]byte, error) {
	version := c.cfg.Flow.DataAPIVersion
	if version == "" {
		version = "3.0"
	}
	m := map[string]any{"version": version, "action": r.Action}
	if r.Action != ActionPing {
		m["flow_token"] = c.cfg.FlowToken
		if r.Action != ActionInit {
			m["screen"] = r.Screen
		}
		if r.Data != nil {
			m["data"] = r.Data
		}
		if c.signsToken() {
			// The client signs the token only for Data API 4.0 on Flow JSON
			// 7.3 and later (protocol.md 7).
			m["flow_token_signature"] = flowtoken.SignJWT(c.cfg.FlowToken, c.cfg.AppSecret, c.cfg.Now().Add(time.Hour))
		}
	}
	return json.Marshal(m)
}

func (c *Client) signsToken() bool {
	v, ok := flowjson.ParseVersion(c.cfg.Flow.Version)
	return c.cfg.Flow.DataAPIVersion == "4.0" && ok && v.AtLeast(flowjson.Version{Major: 7, Minor: 3})
}

// Answer is what came back for one request.
type Answer struct {
	// Status is the HTTP status of the last attempt.
	Status int
	// Attempts is 2 when a 421 was retried.
	Attempts int
	// Plain is the decrypted body (empty for an empty body).
	Plain []byte
	// Body is Plain decoded, when it is a JSON object.
	Body map[string]any
	// Latency is the time from sending the request to reading the whole
	// answer, for the last attempt (encryption and checks excluded).
	Latency time.Duration
	// Violations lists what is wrong with the transport: a status the
	// client does not accept, an answer that does not decrypt or is not a
	// JSON object. The content is checked by [Session].
	Violations []Violation
}

// Send encrypts, signs and sends one request and opens the answer. A
// transport failure (no connection, timeout) is an error; everything the
// endpoint answered, right or wrong, is in the Answer.
func (c *Client) Send(ctx context.Context, r Request) (*Answer, error) {
	if err := c.canSend(); err != nil {
		return nil, err
	}
	plain, err := c.plaintext(r)
	if err != nil {
		return nil, err
	}
	pub := c.cfg.PublicKey
	var a *Answer
	for attempt := 1; attempt <= 2; attempt++ {
		a, err = c.sendOnce(ctx, pub, plain)
		if err != nil {
			return nil, err
		}
		a.Attempts = attempt
		if a.Status != 421 || attempt == 2 {
			break
		}
		// 421: the client refreshes the public key and retries once after
		// about 500 ms (protocol.md 2.7).
		if c.cfg.RefreshKey != nil {
			if pub, err = c.cfg.RefreshKey(ctx); err != nil {
				return nil, fmt.Errorf("simulator: refreshing the public key after a 421: %w", err)
			}
		}
		select {
		case <-time.After(c.cfg.RetryDelay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a.Violations = transportViolations(a)
	return a, nil
}

// TransportError is a request that got no answer: no connection, a
// timeout, a broken connection.
type TransportError struct {
	URL string
	Err error
}

// Error names the URL and what went wrong.
func (e *TransportError) Error() string { return "simulator: POST " + e.URL + ": " + e.Err.Error() }

// Unwrap returns the transport's error, for errors.Is and errors.As.
func (e *TransportError) Unwrap() error { return e.Err }

// Prepared is one encrypted request ready to send, with the check of its
// answer: what a load generator needs to replay a simulator step many
// times (the AES key is fixed once prepared).
type Prepared struct {
	Body   []byte
	Header http.Header
	// Check opens the answer and returns an error naming the first
	// transport violation, or nil.
	Check func(status int, body []byte) error
}

// Prepare encrypts and signs r without sending it.
func (c *Client) Prepare(r Request) (*Prepared, error) {
	if err := c.canSend(); err != nil {
		return nil, err
	}
	plain, err := c.plaintext(r)
	if err != nil {
		return nil, err
	}
	body, sess, err := envelope.EncryptRequest(c.cfg.PublicKey, plain, c.cfg.Rand)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(signature.Header, signature.Sign(c.cfg.AppSecret, body))
	return &Prepared{Body: body, Header: h, Check: func(status int, b []byte) error {
		a := &Answer{Status: status}
		open(a, sess, b)
		if vs := transportViolations(a); len(vs) > 0 {
			return vs[0]
		}
		return nil
	}}, nil
}

func (c *Client) sendOnce(ctx context.Context, pub *rsa.PublicKey, plain []byte) (*Answer, error) {
	body, sess, err := envelope.EncryptRequest(pub, plain, c.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("simulator: encrypting the request: %w", err)
	}
	url := c.cfg.URL
	if url == "" {
		url = "http://flowtest.invalid/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signature.Header, signature.Sign(c.cfg.AppSecret, body))
	start := time.Now()
	var status int
	var raw []byte
	if c.cfg.Handler != nil {
		status, raw = serve(c.cfg.Handler, req)
	} else {
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, &TransportError{URL: c.cfg.URL, Err: err}
		}
		raw, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
		if err != nil {
			return nil, &TransportError{URL: c.cfg.URL, Err: fmt.Errorf("reading the answer: %w", err)}
		}
		status = resp.StatusCode
	}
	a := &Answer{Status: status, Latency: time.Since(start)}
	open(a, sess, raw)
	return a, nil
}

// open decrypts an answer body into a. Bodies of 200 and 427 answers are
// sealed with the flipped IV; others are kept as they came.
func open(a *Answer, sess *envelope.ClientSession, raw []byte) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	if a.Status != http.StatusOK && a.Status != 427 {
		a.Plain = raw
		return
	}
	plain, err := sess.DecryptResponse(raw)
	if err != nil {
		a.Violations = append(a.Violations, Violation{Rule: RuleDecrypt, Message: err.Error()})
		return
	}
	a.Plain = plain
	var m map[string]any
	if json.Unmarshal(plain, &m) == nil {
		a.Body = m
	}
}

// transportViolations checks the status and the envelope of an answer.
func transportViolations(a *Answer) []Violation {
	vs := a.Violations
	switch a.Status {
	case http.StatusOK:
		if len(vs) == 0 && a.Body == nil {
			vs = append(vs, Violation{Rule: RuleNotJSON, Message: "the decrypted answer is not a JSON object: " + snippet(a.Plain)})
		}
	case 427:
		// A flow-token error: an empty body, or a sealed {"error_msg"}.
	case 421:
		vs = append(vs, Violation{Rule: RuleDecryptionRefused, Message: "the endpoint answered 421 (cannot decrypt the request) twice, after the key refresh too"})
	default:
		msg := fmt.Sprintf("the endpoint answered HTTP %d; the client shows a generic error", a.Status)
		if len(a.Plain) > 0 {
			msg += ": " + snippet(a.Plain)
		}
		vs = append(vs, Violation{Rule: RuleStatus, Message: msg})
	}
	return vs
}

func snippet(b []byte) string {
	const max = 120
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) > max {
		return fmt.Sprintf("%q…", b[:max])
	}
	return fmt.Sprintf("%q", b)
}
