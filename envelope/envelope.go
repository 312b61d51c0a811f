// Package envelope implements the encryption of WhatsApp Flows data-endpoint
// requests and responses (protocol.md sections 1.3 and 1.4).
//
// WhatsApp posts a JSON body with three standard-base64 fields:
//
//	{"encrypted_flow_data": AES-128-GCM ciphertext with the 16-byte tag appended,
//	 "encrypted_aes_key":   the AES key, RSA-OAEP (SHA-256, MGF1-SHA-256) wrapped,
//	 "initial_vector":      the 16-byte GCM nonce}
//
// [Open] unwraps the key with the business private key, decrypts the payload
// and returns a [Responder] that seals the answer with the same AES key and
// the IV with every bit flipped, base64-encoded, as the client expects.
//
// Errors fall in two classes that the endpoint answers differently:
// [ErrMalformed] (the body is not a request: HTTP 400) and [ErrDecrypt] (it
// is one, but not for our key, or it was tampered with: HTTP 421, which makes
// the client refresh the public key and retry once).
//
// The client side ([EncryptRequest]) is here too, for the simulator, the load
// generator and tests.
package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Sizes fixed by the protocol.
const (
	KeySize = 16 // AES-128
	IVSize  = 16 // WhatsApp's GCM nonce is 16 bytes, not the usual 12
	TagSize = 16
)

// Error classes, tested with errors.Is. The wrapped message says what exactly
// was wrong.
var (
	// ErrMalformed means the body is not a well-formed request envelope:
	// not JSON, a field missing or not base64, a wrong key or IV length.
	ErrMalformed = errors.New("envelope: malformed request")
	// ErrDecrypt means the envelope is well formed but cannot be opened:
	// the AES key was not wrapped for any configured private key, or the
	// GCM tag does not authenticate the ciphertext.
	ErrDecrypt = errors.New("envelope: cannot decrypt request")
)

// Request is the JSON body of a data-endpoint request.
type Request struct {
	EncryptedFlowData string `json:"encrypted_flow_data"`
	EncryptedAESKey   string `json:"encrypted_aes_key"`
	InitialVector     string `json:"initial_vector"`
}

// Parsed is a request envelope with its fields decoded from base64.
type Parsed struct {
	FlowData   []byte // ciphertext with the GCM tag appended
	WrappedKey []byte // RSA-OAEP ciphertext of the AES key
	IV         []byte // IVSize bytes
}

// Parse decodes a request body. Every error wraps ErrMalformed.
func Parse(body []byte) (*Parsed, error) {
	var r Request
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: body is not a JSON object: %v", ErrMalformed, err)
	}
	return r.decode()
}

func (r *Request) decode() (*Parsed, error) {
	var errs []error
	field := func(name, v string, dst *[]byte) {
		if v == "" {
			errs = append(errs, fmt.Errorf("missing %s", name))
			return
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s is not standard base64: %v", name, err))
			return
		}
		*dst = b
	}
	var p Parsed
	field("encrypted_flow_data", r.EncryptedFlowData, &p.FlowData)
	field("encrypted_aes_key", r.EncryptedAESKey, &p.WrappedKey)
	field("initial_vector", r.InitialVector, &p.IV)
	if p.IV != nil && len(p.IV) != IVSize {
		errs = append(errs, fmt.Errorf("initial_vector is %d bytes, want %d", len(p.IV), IVSize))
	}
	if p.FlowData != nil && len(p.FlowData) < TagSize {
		errs = append(errs, fmt.Errorf("encrypted_flow_data is %d bytes, shorter than the %d-byte GCM tag", len(p.FlowData), TagSize))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, errors.Join(errs...))
	}
	return &p, nil
}

// KeyUnwrapper recovers the AES key the client wrapped with RSA-OAEP
// (SHA-256 for both the OAEP hash and MGF1, empty label).
type KeyUnwrapper interface {
	// UnwrapKey returns the unwrapped key, or an error wrapping
	// ErrMalformed when wrapped has a length no configured key can have,
	// or ErrDecrypt when no configured key opens it.
	UnwrapKey(wrapped []byte) ([]byte, error)
}

// Open decrypts a request body with the private keys of u and returns the
// plaintext JSON and the Responder for the answer. Errors wrap ErrMalformed
// or ErrDecrypt.
func Open(body []byte, u KeyUnwrapper) ([]byte, *Responder, error) {
	p, err := Parse(body)
	if err != nil {
		return nil, nil, err
	}
	return p.Open(u)
}

// Open decrypts a parsed envelope; see the package function Open.
func (p *Parsed) Open(u KeyUnwrapper) ([]byte, *Responder, error) {
	key, err := u.UnwrapKey(p.WrappedKey)
	if err != nil {
		return nil, nil, err
	}
	if len(key) != KeySize {
		return nil, nil, fmt.Errorf("%w: the AES key is %d bytes, want %d (AES-128)", ErrMalformed, len(key), KeySize)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, nil, err
	}
	plain, err := aead.Open(nil, p.IV, p.FlowData, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: AES-GCM authentication failed (tampered ciphertext or tag, or the wrong IV)", ErrDecrypt)
	}
	r := &Responder{aead: aead}
	for i, b := range p.IV {
		r.iv[i] = ^b
	}
	return plain, r, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// The 16-byte nonce is the protocol's; cipher.NewGCM would insist on 12.
	return cipher.NewGCMWithNonceSize(block, IVSize)
}

// Responder seals the answer to one request: the request's AES key, the
// request's IV with every bit flipped (protocol.md 1.4).
type Responder struct {
	aead cipher.AEAD
	iv   [IVSize]byte
}

// NewResponder returns the Responder for a request whose AES key and IV are
// known, for tests and tools that skip the RSA step.
func NewResponder(aesKey, requestIV []byte) (*Responder, error) {
	if len(aesKey) != KeySize || len(requestIV) != IVSize {
		return nil, fmt.Errorf("%w: need a %d-byte key and a %d-byte IV", ErrMalformed, KeySize, IVSize)
	}
	aead, err := newGCM(aesKey)
	if err != nil {
		return nil, err
	}
	r := &Responder{aead: aead}
	for i, b := range requestIV {
		r.iv[i] = ^b
	}
	return r, nil
}

// Seal encrypts plaintext and returns the response body: standard base64
// of ciphertext || tag.
func (r *Responder) Seal(plaintext []byte) []byte {
	return r.AppendSeal(nil, plaintext)
}

// AppendSeal appends the base64 response body for plaintext to dst.
func (r *Responder) AppendSeal(dst, plaintext []byte) []byte {
	ct := r.aead.Seal(nil, r.iv[:], plaintext, nil)
	return base64.StdEncoding.AppendEncode(dst, ct)
}
