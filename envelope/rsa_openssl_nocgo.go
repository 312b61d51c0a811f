//go:build openssl && !cgo

package envelope

// The OpenSSL backend calls libcrypto through cgo. Rather than fall back to
// crypto/rsa silently, a -tags openssl build without cgo fails here, naming
// the fix.
var _ = the_openssl_build_tag_needs_cgo_set_CGO_ENABLED_1_and_install_libssl_dev
