//go:build openssl && cgo

package ossl

/*
#cgo LDFLAGS: -lcrypto
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

// waflow_load_rsa parses a PKCS#1 RSAPrivateKey DER into an EVP_PKEY, or
// returns NULL.
static EVP_PKEY *waflow_load_rsa(const unsigned char *der, long len) {
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, len);
	ERR_clear_error();
	return k;
}

// waflow_sha256 fetches the SHA-256 implementation once, so calls do not
// look it up by name.
static EVP_MD *waflow_sha256(void) {
	return EVP_MD_fetch(NULL, "SHA256", NULL);
}

// waflow_oaep_sha256_decrypt undoes RSA-OAEP with SHA-256 as the OAEP and
// the MGF1 hash and an empty label (protocol.md 1.3). out must hold
// *outlen bytes; on success *outlen is the plaintext length. Returns 1 on
// success, 0 on any failure. The thread's error queue is left empty, as
// the goroutine may run on another thread next time.
static int waflow_oaep_sha256_decrypt(EVP_PKEY *key, const EVP_MD *sha256,
		const unsigned char *in, size_t inlen, unsigned char *out, size_t *outlen) {
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	if (ctx == NULL) {
		ERR_clear_error();
		return 0;
	}
	int ok = EVP_PKEY_decrypt_init(ctx) > 0
		&& EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0
		&& EVP_PKEY_CTX_set_rsa_oaep_md(ctx, sha256) > 0
		&& EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, sha256) > 0
		&& EVP_PKEY_decrypt(ctx, out, outlen, in, inlen) > 0;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}
*/
import "C"

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// ErrDecrypt is returned when a ciphertext does not decrypt: wrong key,
// wrong padding or hash, or tampered. OpenSSL's reason is deliberately not
// reported (it would be a padding oracle).
var ErrDecrypt = errors.New("ossl: RSA-OAEP decryption failed")

// sha256 is fetched once: in OpenSSL 3, passing EVP_sha256() would look the
// implementation up by name on every call.
var sha256 = C.waflow_sha256()

// PrivateKey is an RSA private key held by libcrypto.
type PrivateKey struct {
	pkey *C.EVP_PKEY
	size int
}

// NewPrivateKey hands k to libcrypto. The copy is freed when the returned
// key is garbage collected.
func NewPrivateKey(k *rsa.PrivateKey) (*PrivateKey, error) {
	if sha256 == nil {
		return nil, errors.New("ossl: libcrypto has no SHA-256 (is the default provider available?)")
	}
	der := x509.MarshalPKCS1PrivateKey(k)
	pkey := C.waflow_load_rsa((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	clear(der) // the private key stays in libcrypto only
	if pkey == nil {
		return nil, errors.New("ossl: libcrypto rejected the RSA private key")
	}
	p := &PrivateKey{pkey: pkey, size: int(C.EVP_PKEY_get_size(pkey))}
	if p.size != k.Size() {
		C.EVP_PKEY_free(pkey)
		return nil, fmt.Errorf("ossl: libcrypto sees a %d-byte key, crypto/rsa a %d-byte one", p.size, k.Size())
	}
	runtime.AddCleanup(p, func(pk *C.EVP_PKEY) { C.EVP_PKEY_free(pk) }, pkey)
	return p, nil
}

// Size is the modulus length in bytes, the length of every ciphertext.
func (p *PrivateKey) Size() int { return p.size }

// DecryptOAEP decrypts ciphertext, RSA-OAEP with SHA-256 for both the OAEP
// hash and MGF1 and an empty label, as crypto/rsa.DecryptOAEP(sha256.New(),
// nil, k, ciphertext, nil) does. It is safe for concurrent use.
func (p *PrivateKey) DecryptOAEP(ciphertext []byte) ([]byte, error) {
	if len(ciphertext) != p.size {
		return nil, ErrDecrypt
	}
	out := make([]byte, p.size)
	outLen := C.size_t(len(out))
	ok := C.waflow_oaep_sha256_decrypt(p.pkey, sha256,
		(*C.uchar)(unsafe.Pointer(&ciphertext[0])), C.size_t(len(ciphertext)),
		(*C.uchar)(unsafe.Pointer(&out[0])), &outLen)
	runtime.KeepAlive(p) // the cleanup must not free pkey during the call
	if ok != 1 {
		return nil, ErrDecrypt
	}
	return out[:outLen:outLen], nil
}

// Version is the libcrypto version string the binary runs with, e.g.
// "OpenSSL 3.0.11 19 Sep 2023".
func Version() string { return C.GoString(C.OpenSSL_version(C.OPENSSL_VERSION)) }
