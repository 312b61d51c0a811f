package envelope

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"runtime"
)

// PrivateKeys unwraps AES keys with one or more RSA private keys: the
// current key first, then the keys being rotated out (protocol.md 1.6:
// clients cache the public key, so requests encrypted to the previous key
// keep arriving for a while after a rotation).
//
// At most one decryption per core runs at once (the smaller of GOMAXPROCS
// and the number of CPUs; see WithMaxConcurrent); the others wait their
// turn, first come first served. An RSA-2048 decryption is a millisecond of
// CPU: with more of them in flight than cores, the Go scheduler
// time-slices them and a few requests end up waiting tens of milliseconds
// while most finish in two. Queued in order instead, every request waits
// about as long as the queue ahead of it. (Running with GOMAXPROCS one
// above the number of cores leaves a P free to poll the network while every
// core decrypts; docs/performance.md measures the difference.)
type PrivateKeys struct {
	keys []oaepKey
	// slots holds a token for each decryption in progress; nil when
	// unbounded. A send blocks while it is full, and blocked senders are
	// served in the order they came: the runtime keeps them in a FIFO
	// queue and a receive hands the freed slot straight to the first of
	// them, so a newcomer cannot overtake (runtime/chan.go, recv).
	slots chan struct{}
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
	p := &PrivateKeys{slots: make(chan struct{}, min(runtime.GOMAXPROCS(0), runtime.NumCPU()))}
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

// WithMaxConcurrent returns keys that run at most n decryptions at once
// (no bound when n <= 0), sharing p's keys. The default, one per core, keeps
// every core busy; a smaller n leaves cores to other work.
func (p *PrivateKeys) WithMaxConcurrent(n int) *PrivateKeys {
	q := &PrivateKeys{keys: p.keys}
	if n > 0 {
		q.slots = make(chan struct{}, n)
	}
	return q
}

// UnwrapKey implements KeyUnwrapper. It waits for a free slot first (see
// PrivateKeys).
func (p *PrivateKeys) UnwrapKey(wrapped []byte) ([]byte, error) {
	if p.slots != nil {
		p.slots <- struct{}{}
		defer func() { <-p.slots }()
	}
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
