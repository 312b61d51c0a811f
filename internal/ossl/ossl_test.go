//go:build openssl && cgo

package ossl_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/waflow/waflow/internal/ossl"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/keys"
)

var (
	keyOnce sync.Once
	keyA    *rsa.PrivateKey
	keyB    *rsa.PrivateKey
)

func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		keyA, keyB = testkeys.Key(0), testkeys.Key(1)
	})
	if keyA == nil || keyB == nil {
		t.Fatal("cannot generate test keys")
	}
	return keyA, keyB
}

// TestMetaVector unwraps the AES key of a request WhatsApp sent
// (protocol.md 8.2).
func TestMetaVector(t *testing.T) {
	k, err := keys.ParsePrivateKey(vectors.Read(t, "private_key.pem"), []byte("pywa"))
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Key string `json:"encrypted_aes_key"`
	}
	if err := json.Unmarshal(vectors.Read(t, "request.json"), &req); err != nil {
		t.Fatal(err)
	}
	wrapped, err := base64.StdEncoding.DecodeString(req.Key)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ossl.NewPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.DecryptOAEP(wrapped)
	if err != nil {
		t.Fatalf("DecryptOAEP(WhatsApp's wrapped key): %v", err)
	}
	if want := "712727b6b509f2e1ba62d9b91989ecc3"; hex.EncodeToString(got) != want {
		t.Fatalf("AES key = %x, want %s", got, want)
	}
}

// TestMatchesCryptoRSA decrypts what crypto/rsa encrypts, and refuses what
// it would refuse.
func TestMatchesCryptoRSA(t *testing.T) {
	a, b := testKeys(t)
	p, err := ossl.NewPrivateKey(a)
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != 256 {
		t.Fatalf("Size() = %d, want 256 for RSA-2048", p.Size())
	}
	for _, n := range []int{0, 1, 16, 190} { // 190 = 256 - 2*32 - 2, the OAEP maximum
		msg := bytes.Repeat([]byte{byte(n)}, n)
		ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &a.PublicKey, msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.DecryptOAEP(ct)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%d-byte message: got %x, %v", n, got, err)
		}
	}

	good, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &a.PublicKey, make([]byte, 16), nil)
	otherKey, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &b.PublicKey, make([]byte, 16), nil)
	sha1OAEP, _ := rsa.EncryptOAEP(sha1.New(), rand.Reader, &a.PublicKey, make([]byte, 16), nil)
	labelled, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &a.PublicKey, make([]byte, 16), []byte("label"))
	tampered := bytes.Clone(good)
	tampered[100] ^= 1
	for name, ct := range map[string][]byte{
		"another key":            otherKey,
		"SHA-1 OAEP":             sha1OAEP,
		"a label":                labelled,
		"one bit flipped":        tampered,
		"short":                  good[:255],
		"long":                   append(bytes.Clone(good), 0),
		"empty":                  nil,
		"all ones, over modulus": bytes.Repeat([]byte{0xff}, 256),
	} {
		if got, err := p.DecryptOAEP(ct); !errors.Is(err, ossl.ErrDecrypt) {
			t.Errorf("%s: got %x, %v; want ErrDecrypt", name, got, err)
		}
	}
	// A failure leaves nothing behind: the next call succeeds.
	if _, err := p.DecryptOAEP(good); err != nil {
		t.Fatalf("after failures: %v", err)
	}
}

// TestConcurrent shares one key between goroutines; run it with -race.
func TestConcurrent(t *testing.T) {
	a, _ := testKeys(t)
	p, err := ossl.NewPrivateKey(a)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				msg := []byte{byte(g), byte(i)}
				ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &a.PublicKey, msg, nil)
				got, err := p.DecryptOAEP(ct)
				if err != nil || !bytes.Equal(got, msg) {
					t.Errorf("goroutine %d, call %d: got %x, %v", g, i, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestVersion(t *testing.T) {
	if v := ossl.Version(); !strings.HasPrefix(v, "OpenSSL 3") {
		t.Errorf("Version() = %q; want OpenSSL 3.x (EVP_MD_fetch needs it)", v)
	}
}

// BenchmarkDecryptOAEP is the OpenSSL RSA step alone, on every core; compare
// it with envelope's BenchmarkDecryptOAEP (crypto/rsa).
func BenchmarkDecryptOAEP(b *testing.B) {
	a, _ := testKeys(b)
	p, err := ossl.NewPrivateKey(a)
	if err != nil {
		b.Fatal(err)
	}
	ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &a.PublicKey, make([]byte, 16), nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.DecryptOAEP(ct); err != nil {
				b.Fatal(err)
			}
		}
	})
}
