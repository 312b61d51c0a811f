// Package keys loads and creates the RSA key pair of a WhatsApp Flows data
// endpoint.
//
// WhatsApp encrypts a fresh AES key for every endpoint request with the
// business public key registered for the phone number, so the endpoint needs
// the matching private key (protocol.md 1.5 and 1.6). Meta requires RSA-2048.
// The private key arrives in whatever PEM form the business's tooling wrote:
//
//   - "BEGIN RSA PRIVATE KEY" (PKCS#1), unencrypted;
//   - "BEGIN RSA PRIVATE KEY" with "Proc-Type: 4,ENCRYPTED" (legacy OpenSSL
//     encryption, what Meta's Node key generator writes);
//   - "BEGIN PRIVATE KEY" (PKCS#8), unencrypted;
//   - "BEGIN ENCRYPTED PRIVATE KEY" (PKCS#8 PBES2, what "openssl genrsa -des3"
//     writes on OpenSSL 3, and what the standard library cannot open).
//
// Every error names what is wrong (no PEM, passphrase missing, wrong
// passphrase, not RSA, too short), so a misconfigured server says so at
// start-up rather than answering every request with 421.
package keys

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/youmark/pkcs8"
)

// MinBits is the smallest RSA key accepted; Meta requires 2048-bit keys.
const MinBits = 2048

// Errors returned by ParsePrivateKey and ParsePrivateKeys, tested with errors.Is.
var (
	ErrNotPEM              = errors.New("keys: no PEM private key found (expected a -----BEGIN ... PRIVATE KEY----- block)")
	ErrPassphraseRequired  = errors.New("keys: the private key is encrypted and no passphrase was given")
	ErrIncorrectPassphrase = errors.New("keys: wrong passphrase for the private key")
	ErrNotRSA              = errors.New("keys: the private key is not an RSA key")
	ErrTooShort            = fmt.Errorf("keys: the RSA key is shorter than %d bits", MinBits)
	ErrPublicKey           = errors.New("keys: this is a public key; the private key is needed")
)

// ParsePrivateKey parses one PEM private key in any of the formats of the
// package documentation. passphrase may be empty for unencrypted keys.
// When pemData holds several keys, the first one is returned.
func ParsePrivateKey(pemData, passphrase []byte) (*rsa.PrivateKey, error) {
	ks, err := ParsePrivateKeys(pemData, passphrase)
	if err != nil {
		return nil, err
	}
	return ks[0], nil
}

// ParsePrivateKeys parses every private-key PEM block in pemData, in order,
// all with the same passphrase. Several keys let an endpoint decrypt with
// the current key and, during a rotation, the previous one.
func ParsePrivateKeys(pemData, passphrase []byte) ([]*rsa.PrivateKey, error) {
	var out []*rsa.PrivateKey
	rest := NormalizePEM(pemData)
	sawPublic := false
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
			sawPublic = true
			continue
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		k, err := parseBlock(block, passphrase)
		if err != nil {
			if n > 1 || len(out) > 0 {
				return nil, fmt.Errorf("key %d: %w", n, err)
			}
			return nil, err
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		if sawPublic {
			return nil, ErrPublicKey
		}
		return nil, ErrNotPEM
	}
	return out, nil
}

func parseBlock(block *pem.Block, passphrase []byte) (*rsa.PrivateKey, error) {
	der := block.Bytes
	switch {
	case block.Type == "ENCRYPTED PRIVATE KEY":
		if len(passphrase) == 0 {
			return nil, ErrPassphraseRequired
		}
		k, _, err := pkcs8.ParsePrivateKey(der, passphrase)
		if err != nil {
			if strings.Contains(err.Error(), "incorrect password") {
				return nil, ErrIncorrectPassphrase
			}
			return nil, fmt.Errorf("keys: cannot open the encrypted PKCS#8 key: %w", err)
		}
		return checkRSA(k)
	//lint:ignore SA1019 legacy Proc-Type encryption is what Meta's Node key generator writes
	case x509.IsEncryptedPEMBlock(block):
		if len(passphrase) == 0 {
			return nil, ErrPassphraseRequired
		}
		//lint:ignore SA1019 see above
		plain, err := x509.DecryptPEMBlock(block, passphrase)
		if err != nil {
			if errors.Is(err, x509.IncorrectPasswordError) {
				return nil, ErrIncorrectPassphrase
			}
			return nil, fmt.Errorf("keys: cannot decrypt the PEM block: %w", err)
		}
		k, err := parseDER(block.Type, plain)
		if err != nil {
			// The CBC padding check passes for about one wrong passphrase
			// in 256; the DER then does not parse.
			return nil, ErrIncorrectPassphrase
		}
		return checkRSA(k)
	default:
		k, err := parseDER(block.Type, der)
		if err != nil {
			return nil, err
		}
		return checkRSA(k)
	}
}

func parseDER(typ string, der []byte) (any, error) {
	switch typ {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			// Some tools label PKCS#8 as RSA PRIVATE KEY.
			if k8, err8 := x509.ParsePKCS8PrivateKey(der); err8 == nil {
				return k8, nil
			}
			return nil, fmt.Errorf("keys: invalid PKCS#1 RSA private key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("keys: invalid PKCS#8 private key: %w", err)
		}
		return k, nil
	default:
		// "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY", ...
		return nil, fmt.Errorf("%w (PEM type %q)", ErrNotRSA, typ)
	}
}

func checkRSA(k any) (*rsa.PrivateKey, error) {
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w (found %T)", ErrNotRSA, k)
	}
	if bits := rk.N.BitLen(); bits < MinBits {
		return nil, fmt.Errorf("%w: it has %d bits", ErrTooShort, bits)
	}
	rk.Precompute()
	return rk, nil
}

// NormalizePEM turns a PEM that went through an environment variable or a
// one-line secret store back into PEM: literal "\n" sequences become
// newlines, "\r\n" becomes "\n", and surrounding quotes and spaces go.
func NormalizePEM(b []byte) []byte {
	s := strings.TrimSpace(string(b))
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = s[1 : len(s)-1]
	}
	s = strings.ReplaceAll(s, `\r\n`, "\n")
	s = strings.ReplaceAll(s, `\n`, "\n")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return []byte(s)
}

// Generate returns a new RSA-2048 private key.
func Generate() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, MinBits)
}

// MarshalPrivateKey returns k as PEM: "ENCRYPTED PRIVATE KEY" (PKCS#8, PBES2
// with PBKDF2-HMAC-SHA256 and AES-256-CBC) when passphrase is not empty,
// otherwise an unencrypted "PRIVATE KEY".
func MarshalPrivateKey(k *rsa.PrivateKey, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := pkcs8.MarshalPrivateKey(k, passphrase, &pkcs8.Opts{
		Cipher: pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{
			SaltSize:       16,
			IterationCount: 600_000, // OWASP's 2023 figure for PBKDF2-HMAC-SHA256
			HMACHash:       crypto.SHA256,
		},
	})
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey returns pub as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo),
// the only form Meta's whatsapp_business_encryption endpoint and the
// WhatsApp client accept (protocol.md 1.6).
func MarshalPublicKey(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKey parses a PEM "PUBLIC KEY" (SPKI) or "RSA PUBLIC KEY"
// (PKCS#1), as returned by Meta's whatsapp_business_encryption endpoint.
func ParsePublicKey(pemData []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(NormalizePEM(pemData))
	if block == nil {
		return nil, errors.New("keys: no PEM public key found (expected -----BEGIN PUBLIC KEY-----)")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("keys: PEM type %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: invalid public key: %w", err)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("keys: the public key is not RSA (found %T)", pub)
	}
	return rk, nil
}

// Fingerprint returns "SHA256:" and the lowercase hex SHA-256 of the
// public key's DER SubjectPublicKeyInfo, the same value
// "openssl pkey -pubin -outform DER | sha256sum" prints.
func Fingerprint(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "SHA256:invalid-key"
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// Equal reports whether two public keys are the same key.
func Equal(a, b *rsa.PublicKey) bool {
	return a != nil && b != nil && a.E == b.E && bytes.Equal(a.N.Bytes(), b.N.Bytes())
}
