package loadgen

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
)

// DefaultPool is how many distinct encrypted requests NewPing and NewInit
// prepare when asked for none.
const DefaultPool = 256

// EndpointOptions are what the data-endpoint sources need.
type EndpointOptions struct {
	// PublicKey is the endpoint's public key, the one registered with Meta.
	PublicKey *rsa.PublicKey
	// AppSecret signs each request (X-Hub-Signature-256).
	AppSecret []byte
	// Version is the Data API version sent; default "3.0".
	Version string
	// Pool is the number of distinct requests encrypted up front and sent
	// in turn; default DefaultPool.
	Pool int
}

func (o *EndpointOptions) check() error {
	if o.PublicKey == nil {
		return errors.New("loadgen: no public key to encrypt requests for")
	}
	if len(o.AppSecret) == 0 {
		return errors.New("loadgen: no app secret to sign requests with")
	}
	if o.Version == "" {
		o.Version = "3.0"
	}
	if o.Pool <= 0 {
		o.Pool = DefaultPool
	}
	return nil
}

// NewPing returns the source of health checks (protocol.md 2.2): each
// answer must be 200 and decrypt to {"data":{"status":"active"}}.
func NewPing(opts EndpointOptions) (Source, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	plain, _ := json.Marshal(map[string]string{"version": opts.Version, "action": "ping"})
	return newEncryptedPool("ping", opts, func(int) ([]byte, error) { return plain, nil }, checkPing)
}

// activeAnswer is the health-check answer as Meta's examples and waflow
// write it; other spellings of the same JSON are parsed.
var activeAnswer = []byte(`{"data":{"status":"active"}}`)

func checkPing(plain []byte) error {
	if bytes.Equal(plain, activeAnswer) {
		return nil
	}
	var a struct {
		Data struct {
			Status string `json:"status"`
		} `json:"data"`
	}
	if err := json.Unmarshal(plain, &a); err != nil || a.Data.Status != "active" {
		return Failf("answer", "want {\"data\":{\"status\":\"active\"}}, got %s", snippet(plain))
	}
	return nil
}

// NewInit returns the source of INIT requests (protocol.md 2.3), the first
// request of a flow, with the flow token token(i) for pool entry i; for
// Data API 4.0 and later each also carries the flow_token_signature JWT,
// signed with the app secret and valid for JWTLifetime. Each answer must be
// 200 and decrypt to a JSON object naming a screen.
func NewInit(opts EndpointOptions, token func(i int) (string, error)) (Source, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if token == nil {
		return nil, errors.New("loadgen: INIT requests need flow tokens")
	}
	return newEncryptedPool("init", opts, func(i int) ([]byte, error) {
		t, err := token(i)
		if err != nil {
			return nil, fmt.Errorf("flow token: %w", err)
		}
		m := map[string]any{"version": opts.Version, "action": "INIT", "flow_token": t, "data": map[string]any{}}
		if signsToken(opts.Version) {
			// Data API 4.0 requests carry the token signed with the app
			// secret, as WhatsApp's client sends it (protocol.md 7); a
			// server with RequireTokenSignature refuses them without it.
			m["flow_token_signature"] = flowtoken.SignJWT(t, opts.AppSecret, time.Now().Add(JWTLifetime))
		}
		return json.Marshal(m)
	}, checkScreen)
}

// JWTLifetime is how long the flow_token_signature of the INIT requests
// NewInit prepares stays valid: longer than any load run.
const JWTLifetime = 24 * time.Hour

// signsToken reports whether requests of Data API version v carry the
// flow_token_signature: 4.0 and later.
func signsToken(v string) bool {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 4
}

func checkScreen(plain []byte) error {
	var a struct {
		Screen string `json:"screen"`
	}
	if err := json.Unmarshal(plain, &a); err != nil || a.Screen == "" {
		return Failf("answer", "want a JSON object with a screen, got %s", snippet(plain))
	}
	return nil
}

// encryptedPool is a Source of requests encrypted before the run.
type encryptedPool struct {
	name string
	reqs []*Request
}

func newEncryptedPool(name string, opts EndpointOptions, plaintext func(i int) ([]byte, error), check func(plain []byte) error) (*encryptedPool, error) {
	p := &encryptedPool{name: name, reqs: make([]*Request, opts.Pool)}
	for i := range p.reqs {
		plain, err := plaintext(i)
		if err != nil {
			return nil, err
		}
		body, sess, err := envelope.EncryptRequest(opts.PublicKey, plain, nil)
		if err != nil {
			return nil, fmt.Errorf("loadgen: encrypting request %d: %w", i, err)
		}
		p.reqs[i] = &Request{
			Body: body,
			Header: http.Header{
				"Content-Type":   {"application/json"},
				signature.Header: {signature.Sign(opts.AppSecret, body)},
			},
			Check: func(status int, body []byte) error {
				if status != http.StatusOK {
					return statusFailure(status, body, sess)
				}
				plain, err := sess.DecryptResponse(body)
				if err != nil {
					return Failf("decrypt", "%v", err)
				}
				return check(plain)
			},
		}
	}
	return p, nil
}

func (p *encryptedPool) Name() string { return p.name }

func (p *encryptedPool) Request(i int64) (*Request, error) { return p.reqs[i%int64(len(p.reqs))], nil }

// statusFailure describes an answer other than 200; a 427 carries an
// encrypted message for the user (protocol.md 2.6), shown decrypted.
func statusFailure(status int, body []byte, sess *envelope.ClientSession) error {
	if sess != nil && len(body) > 0 {
		if plain, err := sess.DecryptResponse(body); err == nil {
			body = plain
		}
	}
	return Failf("status "+strconv.Itoa(status), "%s", snippet(body))
}

func snippet(b []byte) string {
	if len(b) == 0 {
		return "(empty body)"
	}
	if len(b) > 160 {
		b = b[:160]
	}
	if !utf8.Valid(b) {
		return fmt.Sprintf("%d bytes of binary", len(b))
	}
	return strconv.Quote(string(b))
}

// WebhookOptions configure NewWebhook.
type WebhookOptions struct {
	// AppSecret signs each delivery (X-Hub-Signature-256). Required.
	AppSecret []byte
	// DuplicateRatio is the share of deliveries, 0 to 0.9, that repeat the
	// previous one byte for byte, as Meta's retries do (protocol.md 4.1).
	DuplicateRatio float64
	// FlowToken gives the flow token of message m; when nil, messages
	// carry a placeholder that no receiver will accept as a flow token.
	FlowToken func(m int64) (string, error)
	// RunID makes the message ids of this run unique; default random.
	RunID string
	// Now gives the message timestamp; default time.Now.
	Now func() time.Time
}

// NewWebhook returns the source of flow-completion webhooks (protocol.md
// 4.2): one nfm_reply message per delivery with a wamid unique to the run,
// but for the share of duplicates asked for. Each answer must be 200.
func NewWebhook(opts WebhookOptions) (Source, error) {
	if len(opts.AppSecret) == 0 {
		return nil, errors.New("loadgen: no app secret to sign webhooks with")
	}
	if opts.DuplicateRatio < 0 || opts.DuplicateRatio > 0.9 || math.IsNaN(opts.DuplicateRatio) {
		return nil, fmt.Errorf("loadgen: duplicate ratio %v: want 0 to 0.9", opts.DuplicateRatio)
	}
	if opts.RunID == "" {
		var b [6]byte
		rand.Read(b[:])
		opts.RunID = hex.EncodeToString(b[:])
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &webhookSource{opts: opts, bodies: map[int64][]byte{}}, nil
}

type webhookSource struct {
	opts   WebhookOptions
	mu     sync.Mutex
	bodies map[int64][]byte // recent messages, so a duplicate is the same bytes
}

func (s *webhookSource) Name() string { return "webhook" }

// message is the message number of delivery i: deliveries are duplicates
// of the one before at the rate asked, spread evenly (ratio 0.25: every
// fourth delivery repeats the third).
func (s *webhookSource) message(i int64) int64 {
	return i - int64(math.Floor(float64(i)*s.opts.DuplicateRatio))
}

func (s *webhookSource) Request(i int64) (*Request, error) {
	m := s.message(i)
	s.mu.Lock()
	body, ok := s.bodies[m]
	s.mu.Unlock()
	if !ok {
		var err error
		if body, err = s.build(m); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if b, ok := s.bodies[m]; ok {
			body = b // another goroutine built it first
		} else {
			s.bodies[m] = body
			delete(s.bodies, m-1000) // old enough that no duplicate will ask again
		}
		s.mu.Unlock()
	}
	return &Request{
		Body: body,
		Header: http.Header{
			"Content-Type":   {"application/json"},
			signature.Header: {signature.Sign(s.opts.AppSecret, body)},
		},
		Check: func(status int, body []byte) error {
			if status != http.StatusOK {
				return statusFailure(status, body, nil)
			}
			return nil
		},
	}, nil
}

// build writes the completion webhook of message m, shaped as Meta sends
// it (protocol.md 4.2: entry, changes, value.messages[0].interactive
// nfm_reply with response_json a string of JSON).
func (s *webhookSource) build(m int64) ([]byte, error) {
	token := "bench-" + s.opts.RunID + "-" + strconv.FormatInt(m, 10)
	if s.opts.FlowToken != nil {
		var err error
		if token, err = s.opts.FlowToken(m); err != nil {
			return nil, fmt.Errorf("loadgen: flow token for message %d: %w", m, err)
		}
	}
	response, err := json.Marshal(map[string]any{"flow_token": token, "bench_message": m})
	if err != nil {
		return nil, err
	}
	const business = "15550000000"
	waID := fmt.Sprintf("4915%09d", m%1_000_000_000)
	type obj = map[string]any
	return json.Marshal(obj{
		"object": "whatsapp_business_account",
		"entry": []obj{{
			"id": "100000000000001",
			"changes": []obj{{
				"field": "messages",
				"value": obj{
					"messaging_product": "whatsapp",
					"metadata":          obj{"display_phone_number": business, "phone_number_id": "100000000000002"},
					"contacts":          []obj{{"profile": obj{"name": "waflow bench"}, "wa_id": waID}},
					"messages": []obj{{
						"context":   obj{"from": business, "id": "wamid.bench-flow-message-" + s.opts.RunID},
						"from":      waID,
						"id":        "wamid.bench-" + s.opts.RunID + "-" + strconv.FormatInt(m, 10),
						"timestamp": strconv.FormatInt(s.opts.Now().Unix(), 10),
						"type":      "interactive",
						"interactive": obj{
							"type":      "nfm_reply",
							"nfm_reply": obj{"name": "flow", "body": "Sent", "response_json": string(response)},
						},
					}},
				},
			}},
		}},
	})
}
