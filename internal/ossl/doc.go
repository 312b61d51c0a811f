// Package ossl decrypts RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) with
// OpenSSL's libcrypto through cgo: the one operation of a WhatsApp Flows
// request that costs anything, and about three times faster in OpenSSL 3
// than in crypto/rsa on the same CPU (docs/performance.md).
//
// It exists for the envelope package's "openssl" backend and is built only
// with -tags openssl and cgo, which need the libcrypto headers (Debian:
// libssl-dev). Otherwise the package is empty, so default and CGO_ENABLED=0
// builds of the module need neither a C compiler nor OpenSSL.
//
// A key is converted once, when it is loaded ([NewPrivateKey]); every
// decryption gets its own EVP_PKEY_CTX, so one key serves any number of
// goroutines at once.
package ossl
