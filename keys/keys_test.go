package keys_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/keys"
)

var (
	sharedKeyOnce sync.Once
	sharedKey     *rsa.PrivateKey
)

// testKey returns one RSA-2048 key shared by the tests of this file;
// generating one costs about 100 ms.
func testKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	sharedKeyOnce.Do(func() {
		k, err := keys.Generate()
		if err != nil {
			panic(err)
		}
		sharedKey = k
	})
	return sharedKey
}

// openssl runs the openssl command, which writes the formats Go cannot:
// encrypted PKCS#8 from "genrsa -des3" and legacy Proc-Type encryption.
func openssl(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl command not found; it writes the key formats under test (apt-get install openssl)")
	}
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestParseFormats(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	der8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der8})
	os.WriteFile(filepath.Join(dir, "plain.pem"), pkcs1, 0o600)

	// What "openssl genrsa -des3" writes on OpenSSL 3, from our key.
	genrsa := filepath.Join(dir, "genrsa-des3.pem")
	openssl(t, "pkcs8", "-topk8", "-in", filepath.Join(dir, "plain.pem"), "-out", genrsa, "-v2", "des3", "-v2prf", "hmacWithSHA256", "-passout", "pass:s3cret")
	// What Meta's Node key generator and "openssl genrsa -des3" on
	// OpenSSL 1.x write: PKCS#1 with Proc-Type: 4,ENCRYPTED.
	legacy := filepath.Join(dir, "legacy.pem")
	openssl(t, "rsa", "-in", filepath.Join(dir, "plain.pem"), "-out", legacy, "-traditional", "-des3", "-passout", "pass:s3cret")
	// A fresh "openssl genrsa -des3" key, not derived from ours.
	fresh := filepath.Join(dir, "fresh.pem")
	openssl(t, "genrsa", "-des3", "-out", fresh, "-passout", "pass:s3cret", "2048")
	ours, err := keys.MarshalPrivateKey(k, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !strings.Contains(string(read(legacy)), "Proc-Type: 4,ENCRYPTED") {
		t.Fatalf("openssl -traditional did not write a legacy encrypted PEM:\n%s", read(legacy))
	}
	if !strings.Contains(string(read(fresh)), "BEGIN ENCRYPTED PRIVATE KEY") {
		t.Fatalf("openssl genrsa -des3 did not write encrypted PKCS#8:\n%.80s", read(fresh))
	}

	tests := []struct {
		name      string
		pem       []byte
		pass      string
		encrypted bool
		same      bool // the key is k
	}{
		{"PKCS#1", pkcs1, "", false, true},
		{"PKCS#8", pkcs8, "", false, true},
		{"PKCS#8 PBES2 3DES (openssl pkcs8 -v2 des3)", read(genrsa), "s3cret", true, true},
		{"legacy Proc-Type DES-EDE3-CBC (openssl -traditional)", read(legacy), "s3cret", true, true},
		{"openssl genrsa -des3", read(fresh), "s3cret", true, false},
		{"waflow keygen PKCS#8 PBES2 AES-256", ours, "s3cret", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keys.ParsePrivateKey(tt.pem, []byte(tt.pass))
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if tt.same && !got.Equal(k) {
				t.Fatal("parsed key differs from the original")
			}
			if got.N.BitLen() != 2048 {
				t.Fatalf("bits = %d", got.N.BitLen())
			}
			if !tt.encrypted {
				return
			}
			if _, err := keys.ParsePrivateKey(tt.pem, nil); !errors.Is(err, keys.ErrPassphraseRequired) {
				t.Errorf("no passphrase: err = %v, want ErrPassphraseRequired", err)
			}
			if _, err := keys.ParsePrivateKey(tt.pem, []byte("wrong")); !errors.Is(err, keys.ErrIncorrectPassphrase) {
				t.Errorf("wrong passphrase: err = %v, want ErrIncorrectPassphrase", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	ec8, _ := x509.MarshalPKCS8PrivateKey(ec)
	short, _ := rsa.GenerateKey(rand.Reader, 1024)
	pub, _ := keys.MarshalPublicKey(&testKey(t).PublicKey)
	tests := []struct {
		name string
		pem  []byte
		want error
	}{
		{"empty", nil, keys.ErrNotPEM},
		{"not PEM", []byte("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), keys.ErrNotPEM},
		{"a path instead of the key", []byte("/etc/waflow/private.pem"), keys.ErrNotPEM},
		{"EC key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), keys.ErrNotRSA},
		{"EC key in PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ec8}), keys.ErrNotRSA},
		{"RSA-1024", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(short)}), keys.ErrTooShort},
		{"public key", pub, keys.ErrPublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keys.ParsePrivateKey(tt.pem, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseFromEnvironmentAndRotation(t *testing.T) {
	k := testKey(t)
	k2, _ := keys.Generate()
	p1, _ := keys.MarshalPrivateKey(k, nil)
	p2, _ := keys.MarshalPrivateKey(k2, nil)
	// An environment variable holding two keys on one line, with literal \n.
	env := `"` + strings.ReplaceAll(string(p1)+string(p2), "\n", `\n`) + `"`
	ks, err := keys.ParsePrivateKeys([]byte(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 2 || !ks[0].Equal(k) || !ks[1].Equal(k2) {
		t.Fatalf("got %d keys in the wrong order or different", len(ks))
	}
	// A bad second key names which one is bad.
	_, err = keys.ParsePrivateKeys(append(p1, []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")...), nil)
	if !errors.Is(err, keys.ErrNotRSA) || !strings.Contains(err.Error(), "key 2") {
		t.Fatalf("err = %v, want ErrNotRSA naming key 2", err)
	}
}

// TestMetaVectorKey opens the key of the real WhatsApp vectors: encrypted
// PKCS#8 (PBES2, PBKDF2-HMAC-SHA256, DES-EDE3-CBC), passphrase "pywa".
func TestMetaVectorKey(t *testing.T) {
	b := vectors.Read(t, "private_key.pem")
	k, err := keys.ParsePrivateKey(b, []byte("pywa"))
	if err != nil {
		t.Fatal(err)
	}
	if k.N.BitLen() != 2048 {
		t.Fatalf("bits = %d", k.N.BitLen())
	}
	if _, err := keys.ParsePrivateKey(b, []byte("pyw")); !errors.Is(err, keys.ErrIncorrectPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

func TestPublicKeyAndFingerprint(t *testing.T) {
	k := testKey(t)
	p, err := keys.MarshalPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(p), "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("public key is not SPKI PEM:\n%s", p)
	}
	back, err := keys.ParsePublicKey(p)
	if err != nil || !keys.Equal(back, &k.PublicKey) {
		t.Fatalf("ParsePublicKey round trip: %v", err)
	}
	fp := keys.Fingerprint(&k.PublicKey)
	if len(fp) != len("SHA256:")+64 || fp != keys.Fingerprint(back) {
		t.Fatalf("fingerprint %q", fp)
	}
	// The fingerprint is what openssl computes over the DER SPKI.
	if _, err := exec.LookPath("openssl"); err == nil {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "pub.pem"), p, 0o600)
		openssl(t, "pkey", "-pubin", "-in", filepath.Join(dir, "pub.pem"), "-outform", "DER", "-out", filepath.Join(dir, "pub.der"))
		out, err := exec.Command("openssl", "dgst", "-sha256", "-r", filepath.Join(dir, "pub.der")).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := "SHA256:" + strings.Fields(string(out))[0]; fp != want {
			t.Fatalf("Fingerprint = %s, openssl says %s", fp, want)
		}
	}
	k2, _ := keys.Generate()
	if keys.Fingerprint(&k2.PublicKey) == fp {
		t.Fatal("two keys share a fingerprint")
	}
}

func FuzzParsePrivateKey(f *testing.F) {
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"), []byte(""))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"), []byte("x"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,0011223344556677\n\nAAAAAAAAAAA=\n-----END RSA PRIVATE KEY-----\n"), []byte("x"))
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		k, err := keys.ParsePrivateKey(data, pass)
		if err == nil && k.N.BitLen() < keys.MinBits {
			t.Fatalf("accepted a %d-bit key", k.N.BitLen())
		}
	})
}
