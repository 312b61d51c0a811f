package endpoint_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
)

// BenchmarkDecryptOAEP is the RSA step alone, the floor of every request.
// Compare BenchmarkEndpointPing with it: the endpoint may add at most 10%.
func BenchmarkDecryptOAEP(b *testing.B) {
	k, _ := testKeys(b)
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

// BenchmarkEndpointPing is a whole health check through the handler:
// signature, envelope, RSA, AES-GCM, answer, seal. The requests are
// encrypted before the timer starts, as WhatsApp's client does its own work.
func BenchmarkEndpointPing(b *testing.B) {
	k, _ := testKeys(b)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	h, err := endpoint.New(endpoint.Config{
		Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss},
		Logger: discardLogger(),
	}, endpoint.NewFlow("bench"))
	if err != nil {
		b.Fatal(err)
	}
	const pool = 64
	bodies := make([][]byte, pool)
	sigs := make([]string, pool)
	for i := range bodies {
		bodies[i], _, _ = envelope.EncryptRequest(&k.PublicKey, []byte(`{"version":"3.0","action":"ping"}`), nil)
		sigs[i] = signature.Sign(appSecret, bodies[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		w := &statusWriter{header: http.Header{}}
		for pb.Next() {
			r := httptest.NewRequest(http.MethodPost, "/flows/bench", bytes.NewReader(bodies[i%pool]))
			r.Header.Set(signature.Header, sigs[i%pool])
			h.ServeHTTP(w, r)
			if w.status != 200 {
				b.Fatalf("status %d", w.status)
			}
			i++
		}
	})
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// statusWriter is a ResponseWriter that keeps only the status, so the
// benchmark measures the handler and not a recorder.
type statusWriter struct {
	header http.Header
	status int
}

func (w *statusWriter) Header() http.Header         { return w.header }
func (w *statusWriter) WriteHeader(code int)        { w.status = code }
func (w *statusWriter) Write(p []byte) (int, error) { return len(p), nil }
