//go:build !openssl

package envelope

import (
	"crypto/rsa"
	"crypto/sha256"
)

// Backend names the RSA implementation this binary decrypts with: "go"
// (crypto/rsa) by default, "openssl" when built with -tags openssl.
const Backend = "go"

type goKey struct{ k *rsa.PrivateKey }

func newOAEPKey(k *rsa.PrivateKey) (oaepKey, error) {
	k.Precompute()
	return goKey{k}, nil
}

func (g goKey) size() int { return g.k.Size() }

func (g goKey) decrypt(ct []byte) ([]byte, error) {
	// crypto/rsa uses the OAEP hash for MGF1 too, which is what WhatsApp
	// needs (protocol.md 1.3).
	return rsa.DecryptOAEP(sha256.New(), nil, g.k, ct, nil)
}
