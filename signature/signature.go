// Package signature signs and verifies the X-Hub-Signature-256 header that
// Meta puts on every data-endpoint request and every webhook: "sha256=" and
// the lowercase hex HMAC-SHA256 of the raw request body, keyed with the Meta
// app secret (protocol.md 1.2 and 4.1).
//
// Verification runs over the exact bytes received, before any JSON decoding,
// compares in constant time, and accepts several secrets so that an app
// secret can be rotated without downtime: during the overlap both the old and
// the new secret are configured.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"sync"
)

// Header is the HTTP header that carries the signature.
const Header = "X-Hub-Signature-256"

const prefix = "sha256="

// Errors returned by Verify and ParseHeader. Each says what was wrong, so a
// caller can log it and answer with the status its protocol wants (432 on the
// data endpoint, 401 on the webhook).
var (
	// ErrNoSecret means no app secret is configured: refuse, never skip.
	ErrNoSecret = errors.New("signature: no app secret configured")
	// ErrNotSigned means the request has no X-Hub-Signature-256 header.
	ErrNotSigned = errors.New("signature: missing X-Hub-Signature-256 header")
	// ErrMalformed means the header is not "sha256=" followed by 64 hex digits.
	ErrMalformed = errors.New(`signature: malformed X-Hub-Signature-256 header, want "sha256=" and 64 hex digits`)
	// ErrMismatch means the signature is well formed but matches the body
	// under none of the configured secrets.
	ErrMismatch = errors.New("signature: X-Hub-Signature-256 does not match the body")
)

// Sign returns the X-Hub-Signature-256 header value for body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	var sum [sha256.Size]byte
	var out [len(prefix) + 2*sha256.Size]byte
	copy(out[:], prefix)
	hex.Encode(out[len(prefix):], m.Sum(sum[:0]))
	return string(out[:])
}

// ParseHeader returns the 32-byte MAC carried by an X-Hub-Signature-256
// header value. The prefix is matched case-insensitively and the hex digits
// in either case, as Meta documents lowercase but HTTP stacks differ.
func ParseHeader(h string) ([]byte, error) {
	if h == "" {
		return nil, ErrNotSigned
	}
	if len(h) != len(prefix)+2*sha256.Size || !strings.EqualFold(h[:len(prefix)], prefix) {
		return nil, ErrMalformed
	}
	mac := make([]byte, sha256.Size)
	if _, err := hex.Decode(mac, []byte(h[len(prefix):])); err != nil {
		return nil, ErrMalformed
	}
	return mac, nil
}

// Verifier checks signatures against one or more app secrets. The zero value
// has no secret and rejects everything with ErrNoSecret; build one with New.
type Verifier struct {
	secrets [][]byte
	// macs keeps keyed HMAC states per secret: keying HMAC-SHA256 hashes
	// the secret into two pads, work that every request would otherwise
	// repeat (hmac.Reset returns a state to just after keying).
	macs []sync.Pool
}

// New returns a Verifier that accepts a signature made with any of secrets
// (current first, then the ones being rotated out). Empty secrets are
// ignored; with none left, New returns ErrNoSecret.
func New(secrets ...[]byte) (*Verifier, error) {
	v := &Verifier{}
	for _, s := range secrets {
		if len(s) > 0 {
			v.secrets = append(v.secrets, append([]byte(nil), s...))
		}
	}
	if len(v.secrets) == 0 {
		return nil, ErrNoSecret
	}
	v.macs = make([]sync.Pool, len(v.secrets))
	for i, s := range v.secrets {
		v.macs[i].New = func() any { return hmac.New(sha256.New, s) }
	}
	return v, nil
}

// Verify reports whether header is a valid signature of body under one of
// the verifier's secrets. It returns nil or one of ErrNoSecret, ErrNotSigned,
// ErrMalformed and ErrMismatch.
func (v *Verifier) Verify(body []byte, header string) error {
	if v == nil || len(v.secrets) == 0 {
		return ErrNoSecret
	}
	got, err := ParseHeader(header)
	if err != nil {
		return err
	}
	if !v.match(body, got) {
		return ErrMismatch
	}
	return nil
}

// VerifyMAC reports whether mac is the HMAC-SHA256 of message under one of
// the verifier's secrets. The Data API 4.0 flow_token_signature is such a
// MAC, keyed with the same app secret as X-Hub-Signature-256 (protocol.md
// §7), so one Verifier holds the app secrets for both checks. A nil or
// zero Verifier reports false.
func (v *Verifier) VerifyMAC(message, mac []byte) bool {
	if v == nil || len(v.secrets) == 0 {
		return false
	}
	return v.match(message, mac)
}

// match compares in constant time and tries every secret, whatever matched,
// so the time taken does not tell which secret is current.
func (v *Verifier) match(message, mac []byte) bool {
	var sum [sha256.Size]byte
	ok := false
	for i := range v.secrets {
		m := v.macs[i].Get().(hash.Hash)
		m.Reset()
		m.Write(message)
		if hmac.Equal(m.Sum(sum[:0]), mac) {
			ok = true
		}
		v.macs[i].Put(m)
	}
	return ok
}

// Verify is a shorthand for New(secrets...) followed by Verify.
func Verify(body []byte, header string, secrets ...[]byte) error {
	v, err := New(secrets...)
	if err != nil {
		return err
	}
	return v.Verify(body, header)
}
