package envelope

import (
	"crypto/rsa"
	"errors"
	"fmt"
)

// PrivateKeys unwraps AES keys with one or more RSA private keys: the
// current key first, then the keys being rotated out (protocol.md 1.6:
// clients cache the public key, so requests encrypted to the previous key
// keep arriving for a while after a rotation).
type PrivateKeys struct {
	keys []oaepKey
}

// oaepKey is one private key in the RSA backend this binary was built with
// (see Backend).
type oaepKey interface {
	// size is the modulus length in bytes: the length of every ciphertext.
	size() int
	// decrypt undoes RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label.
	decrypt(ciphertext []byte) ([]byte, error)
}

// NewPrivateKeys returns a KeyUnwrapper for keys, tried in order.
func NewPrivateKeys(keys ...*rsa.PrivateKey) (*PrivateKeys, error) {
	if len(keys) == 0 {
		return nil, errors.New("envelope: no private key configured")
	}
	p := &PrivateKeys{}
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("envelope: private key %d is nil", i+1)
		}
		ok, err := newOAEPKey(k)
		if err != nil {
			return nil, fmt.Errorf("envelope: private key %d: %w", i+1, err)
		}
		p.keys = append(p.keys, ok)
	}
	return p, nil
}

// UnwrapKey implements KeyUnwrapper.
func (p *PrivateKeys) UnwrapKey(wrapped []byte) ([]byte, error) {
	sized := false
	for _, k := range p.keys {
		if len(wrapped) != k.size() {
			continue
		}
		sized = true
		if key, err := k.decrypt(wrapped); err == nil {
			return key, nil
		}
	}
	if !sized {
		return nil, fmt.Errorf("%w: encrypted_aes_key is %d bytes; an RSA-%d key wraps to %d", ErrMalformed, len(wrapped), p.keys[0].size()*8, p.keys[0].size())
	}
	return nil, fmt.Errorf("%w: encrypted_aes_key does not decrypt with the configured private key(s) (RSA-OAEP, SHA-256); is the public key registered with Meta the one of this key?", ErrDecrypt)
}
