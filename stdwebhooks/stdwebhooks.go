// Package stdwebhooks signs and verifies HTTP requests the Standard
// Webhooks way (https://www.standardwebhooks.com, specification 1.0.0,
// symmetric scheme), so that a receiver in any language checks them with
// an existing library:
//
//   - three headers: webhook-id (a unique id, never containing a '.'),
//     webhook-timestamp (Unix seconds) and webhook-signature;
//   - the signed content is "{webhook-id}.{webhook-timestamp}.{body}", the
//     body exactly as sent;
//   - the signature is "v1," followed by the standard base64 of
//     HMAC-SHA256(key, content); the header holds one or more of them,
//     separated by spaces, so a secret can be rotated with no downtime;
//   - a secret is written "whsec_" followed by the base64 of the key, at
//     least 24 bytes of randomness.
//
// A [Verifier] accepts a request when one of its secrets produced one of
// the header's v1 signatures (compared in constant time) and the timestamp
// is within [DefaultTolerance] of its clock, which bounds replays. Waflow
// signs the requests it forwards to a flow's backend with it (package
// forward), and its events.
package stdwebhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed request.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every serialized secret.
const SecretPrefix = "whsec_"

// MinKeyBytes is the shortest key the specification allows.
const MinKeyBytes = 24

// DefaultTolerance is how far a timestamp may be from the verifier's clock,
// either way, as the specification's libraries default to.
const DefaultTolerance = 5 * time.Minute

// Errors a Verifier returns; match them with errors.Is.
var (
	ErrSecret         = errors.New("stdwebhooks: bad secret")
	ErrMissingHeader  = errors.New("stdwebhooks: missing header")
	ErrTimestamp      = errors.New("stdwebhooks: timestamp not valid or out of tolerance")
	ErrNoMatch        = errors.New("stdwebhooks: no matching signature")
	ErrInvalidID      = errors.New("stdwebhooks: webhook-id must be non-empty, without '.' or spaces")
	errNoSecretsGiven = fmt.Errorf("%w: no secret given", ErrSecret)
)

// signatureVersion identifies the symmetric scheme (HMAC-SHA256).
const signatureVersion = "v1"

// ParseSecret decodes a "whsec_<base64>" secret into its key. The prefix
// may be left out, as the specification's libraries allow; the key must
// have at least MinKeyBytes bytes.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), SecretPrefix))
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// The error names the offset of a bad character, never the secret.
		return nil, fmt.Errorf("%w: not base64 after %s", ErrSecret, SecretPrefix)
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrSecret, len(key), MinKeyBytes)
	}
	return key, nil
}

// NewSecret returns a fresh random secret of 32 bytes, serialized with
// SecretPrefix.
func NewSecret() string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(randomBytes(32))
}

// NewID returns a fresh webhook-id: "msg_" and 22 base64url characters
// (128 random bits).
func NewID() string {
	return "msg_" + base64.RawURLEncoding.EncodeToString(randomBytes(16))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}

func parseSecrets(secrets []string) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, errNoSecretsGiven
	}
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		k, err := ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// validID reports whether id can be signed unambiguously: the content is
// split on '.', and the header on spaces.
func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, ". \t\r\n")
}

func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Signer signs requests with one or more secrets: the first is the
// current one, the others those being rotated out.
type Signer struct {
	keys [][]byte
}

// NewSigner returns a Signer for the "whsec_" secrets given, at least one.
func NewSigner(secrets ...string) (*Signer, error) {
	keys, err := parseSecrets(secrets)
	if err != nil {
		return nil, err
	}
	return &Signer{keys: keys}, nil
}

// Sign returns the webhook-signature header of body sent with id at ts:
// one "v1,<base64>" per secret, separated by spaces.
func (s *Signer) Sign(id string, ts time.Time, body []byte) (string, error) {
	if !validID(id) {
		return "", ErrInvalidID
	}
	t := strconv.FormatInt(ts.Unix(), 10)
	var b strings.Builder
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(signatureVersion)
		b.WriteByte(',')
		b.WriteString(base64.StdEncoding.EncodeToString(mac(k, id, t, body)))
	}
	return b.String(), nil
}

// SetHeaders signs body and sets the three headers on h.
func (s *Signer) SetHeaders(h http.Header, id string, ts time.Time, body []byte) error {
	sig, err := s.Sign(id, ts, body)
	if err != nil {
		return err
	}
	// Set by their canonical names: net/http sends Webhook-Id, and header
	// names are case-insensitive.
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Verifier checks signed requests against one or more secrets (several
// during a rotation).
type Verifier struct {
	keys [][]byte
	// Tolerance is how far the timestamp may be from Now, either way;
	// DefaultTolerance when zero.
	Tolerance time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// NewVerifier returns a Verifier for the "whsec_" secrets given, at least
// one.
func NewVerifier(secrets ...string) (*Verifier, error) {
	keys, err := parseSecrets(secrets)
	if err != nil {
		return nil, err
	}
	return &Verifier{keys: keys}, nil
}

// Verify checks the signature headers in h over body, the raw bytes
// received.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	return v.VerifyValues(h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body)
}

// VerifyValues checks the three header values over body.
func (v *Verifier) VerifyValues(id, timestamp, signature string, body []byte) error {
	switch {
	case id == "":
		return fmt.Errorf("%w %s", ErrMissingHeader, HeaderID)
	case timestamp == "":
		return fmt.Errorf("%w %s", ErrMissingHeader, HeaderTimestamp)
	case signature == "":
		return fmt.Errorf("%w %s", ErrMissingHeader, HeaderSignature)
	}
	if !validID(id) {
		return ErrInvalidID
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || sec < 0 {
		return ErrTimestamp
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := now().Sub(time.Unix(sec, 0)); d > tol || d < -tol {
		return ErrTimestamp
	}
	var want [][]byte
	for _, k := range v.keys {
		want = append(want, mac(k, id, timestamp, body))
	}
	for _, part := range strings.Fields(signature) {
		ver, enc, ok := strings.Cut(part, ",")
		if !ok || ver != signatureVersion {
			continue // another scheme (v1a) or a malformed entry
		}
		got, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			continue
		}
		for _, w := range want {
			if hmac.Equal(got, w) {
				return nil
			}
		}
	}
	return ErrNoMatch
}
