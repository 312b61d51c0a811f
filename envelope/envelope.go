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

// Body is the JSON body WhatsApp POSTs to the data endpoint: the encrypted
// request, still sealed (protocol.md 2.1). The decrypted request a handler
// sees is endpoint.Request; the JSON a forwarded backend receives is
// forward.Request (docs/architecture.md, "Which Request is which").
type Body struct {
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
	if f, ok := scanFields(body); ok {
		return f.decode()
	}
	// Anything but the plain shape WhatsApp sends (see scanFields) takes
	// the general path, which also finds the words for what is wrong.
	var r Body
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: body is not a JSON object: %v", ErrMalformed, err)
	}
	return fields{[]byte(r.EncryptedFlowData), []byte(r.EncryptedAESKey), []byte(r.InitialVector)}.decode()
}

// Request is the old name of [Body].
//
// Deprecated: use Body; "Request" is the decrypted request (endpoint.Request).
type Request = Body

// fields are the base64 texts of a request's three fields.
type fields struct{ flowData, aesKey, iv []byte }

func (f fields) decode() (*Parsed, error) {
	// One buffer for the three decoded fields: one allocation, not three.
	enc := base64.StdEncoding
	buf := make([]byte, enc.DecodedLen(len(f.flowData))+enc.DecodedLen(len(f.aesKey))+enc.DecodedLen(len(f.iv)))
	var errs []error
	field := func(name string, src []byte) []byte {
		if len(src) == 0 {
			errs = append(errs, fmt.Errorf("missing %s", name))
			return nil
		}
		n, err := enc.Decode(buf, src)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s is not standard base64: %v", name, err))
			return nil
		}
		b := buf[:n:n]
		buf = buf[n:]
		return b
	}
	var p Parsed
	p.FlowData = field("encrypted_flow_data", f.flowData)
	p.WrappedKey = field("encrypted_aes_key", f.aesKey)
	p.IV = field("initial_vector", f.iv)
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

// scanFields reads a body of the shape WhatsApp sends, a JSON object of the
// three fields with plain base64 strings, without encoding/json (whose
// reflection and validation pass cost more than everything else on the
// request path but the RSA step). It reports false for anything outside
// that shape (another field, a repeated one, an escape, a value that is not
// a string of base64 characters, trailing bytes), and Parse hands such
// bodies to json.Unmarshal. Where it reports true, json.Unmarshal would
// give the same three values (FuzzScanFields checks this).
func scanFields(b []byte) (f fields, ok bool) {
	i := 0
	skipSpace := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	// str reads a string of the characters allowed, and no escapes.
	str := func(allowed *[256]bool) ([]byte, bool) {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		start := i + 1
		for i = start; i < len(b) && b[i] != '"'; i++ {
			if !allowed[b[i]] {
				return nil, false
			}
		}
		if i == len(b) {
			return nil, false
		}
		i++ // the closing quote
		return b[start : i-1], true
	}
	skipSpace()
	if i == len(b) || b[i] != '{' {
		return fields{}, false
	}
	i++
	skipSpace()
	if i < len(b) && b[i] == '}' {
		i++
		skipSpace()
		return fields{}, i == len(b)
	}
	for {
		name, ok := str(&nameChars)
		if !ok {
			return fields{}, false
		}
		var dst *[]byte
		switch string(name) {
		case "encrypted_flow_data":
			dst = &f.flowData
		case "encrypted_aes_key":
			dst = &f.aesKey
		case "initial_vector":
			dst = &f.iv
		default:
			return fields{}, false
		}
		if *dst != nil {
			return fields{}, false // repeated: json.Unmarshal's last-wins is for it to decide
		}
		skipSpace()
		if i == len(b) || b[i] != ':' {
			return fields{}, false
		}
		i++
		skipSpace()
		if *dst, ok = str(&base64Chars); !ok {
			return fields{}, false
		}
		skipSpace()
		if i == len(b) {
			return fields{}, false
		}
		switch b[i] {
		case ',':
			i++
			skipSpace()
			continue
		case '}':
			i++
			skipSpace()
			return f, i == len(b)
		}
		return fields{}, false
	}
}

// The characters scanFields accepts in field names and in values: a table,
// because the values are most of the body.
var nameChars, base64Chars [256]bool

func init() {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyz_") {
		nameChars[c] = true
	}
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		base64Chars[c] = true
	}
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
