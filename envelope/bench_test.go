package envelope_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/waflow/waflow/envelope"
)

// BenchmarkDecryptOAEP is the RSA step alone: the floor of every request.
func BenchmarkDecryptOAEP(b *testing.B) {
	k, _ := twoKeys(b)
	k.Precompute()
	ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &k.PublicKey, make([]byte, 16), nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := rsa.DecryptOAEP(sha256.New(), nil, k, ct, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpenSeal is one request's envelope work: parse, unwrap, decrypt,
// seal the answer.
func BenchmarkOpenSeal(b *testing.B) {
	k, _ := twoKeys(b)
	pk, _ := envelope.NewPrivateKeys(k)
	body, _, _ := envelope.EncryptRequest(&k.PublicKey, []byte(`{"version":"3.0","action":"ping"}`), nil)
	answer := []byte(`{"data":{"status":"active"}}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, r, err := envelope.Open(body, pk)
			if err != nil {
				b.Fatal(err)
			}
			r.Seal(answer)
		}
	})
}

// BenchmarkParse is the envelope's JSON and base64 step of a request body as
// WhatsApp sends it.
func BenchmarkParse(b *testing.B) {
	k, _ := twoKeys(b)
	body, _, _ := envelope.EncryptRequest(&k.PublicKey, []byte(`{"version":"3.0","action":"ping"}`), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
