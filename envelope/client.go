package envelope

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
)

// ClientSession is the WhatsApp client's side of one request: the AES key
// and IV it chose, kept to decrypt the answer.
type ClientSession struct {
	aead cipher.AEAD
	iv   [IVSize]byte
}

// EncryptRequest encrypts plaintext as the WhatsApp client does: a fresh
// random AES-128 key and 16-byte IV, AES-GCM with the tag appended, the key
// wrapped with RSA-OAEP SHA-256 for pub. It returns the JSON request body and
// the session that opens the answer. rnd is crypto/rand.Reader when nil.
func EncryptRequest(pub *rsa.PublicKey, plaintext []byte, rnd io.Reader) ([]byte, *ClientSession, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var key [KeySize]byte
	var iv [IVSize]byte
	if _, err := io.ReadFull(rnd, key[:]); err != nil {
		return nil, nil, err
	}
	if _, err := io.ReadFull(rnd, iv[:]); err != nil {
		return nil, nil, err
	}
	return EncryptRequestWithKey(pub, key[:], iv[:], plaintext, rnd)
}

// EncryptRequestWithKey is EncryptRequest with a chosen AES key and IV, for
// tests that need reproducible ciphertext.
func EncryptRequestWithKey(pub *rsa.PublicKey, aesKey, iv, plaintext []byte, rnd io.Reader) ([]byte, *ClientSession, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if len(aesKey) != KeySize || len(iv) != IVSize {
		return nil, nil, fmt.Errorf("envelope: need a %d-byte key and a %d-byte IV", KeySize, IVSize)
	}
	aead, err := newGCM(aesKey)
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rnd, pub, aesKey, nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(Body{
		EncryptedFlowData: base64.StdEncoding.EncodeToString(aead.Seal(nil, iv, plaintext, nil)),
		EncryptedAESKey:   base64.StdEncoding.EncodeToString(wrapped),
		InitialVector:     base64.StdEncoding.EncodeToString(iv),
	})
	if err != nil {
		return nil, nil, err
	}
	s := &ClientSession{aead: aead}
	for i, b := range iv {
		s.iv[i] = ^b
	}
	return body, s, nil
}

// DecryptResponse opens a response body (base64 of AES-GCM under the
// flipped IV), as the client does. Errors wrap ErrMalformed (not base64,
// too short) or ErrDecrypt (wrong key or IV, tampered).
func (s *ClientSession) DecryptResponse(body []byte) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: response body is not base64: %v", ErrMalformed, err)
	}
	if len(ct) < TagSize {
		return nil, fmt.Errorf("%w: response is %d bytes, shorter than the GCM tag", ErrMalformed, len(ct))
	}
	plain, err := s.aead.Open(nil, s.iv[:], ct, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: response does not decrypt with the request's key and flipped IV", ErrDecrypt)
	}
	return plain, nil
}
