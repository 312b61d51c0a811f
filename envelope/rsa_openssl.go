//go:build openssl && cgo

package envelope

import (
	"crypto/rsa"

	"github.com/waflow/waflow/internal/ossl"
)

// Backend names the RSA implementation this binary decrypts with: "go"
// (crypto/rsa) by default, "openssl" when built with -tags openssl.
const Backend = "openssl"

// osslKey decrypts with libcrypto; the key was handed over once, at
// NewPrivateKeys.
type osslKey struct{ k *ossl.PrivateKey }

func newOAEPKey(k *rsa.PrivateKey) (oaepKey, error) {
	p, err := ossl.NewPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return osslKey{p}, nil
}

func (o osslKey) size() int { return o.k.Size() }

func (o osslKey) decrypt(ct []byte) ([]byte, error) { return o.k.DecryptOAEP(ct) }
