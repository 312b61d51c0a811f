package endpoint_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

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

// BenchmarkEndpointPingTail runs 4 clients per core (8 on two cores, the
// issue's overload point) and reports the latency of a whole request, p50
// and p99, with the RSA work bounded to the number of cores (the default)
// and unbounded. Bounded, p99 stays within a small multiple of p50;
// unbounded, the scheduler time-slices the decryptions and the tail grows.
func BenchmarkEndpointPingTail(b *testing.B) {
	k, _ := testKeys(b)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	const pool = 64
	bodies := make([][]byte, pool)
	sigs := make([]string, pool)
	for i := range bodies {
		bodies[i], _, _ = envelope.EncryptRequest(&k.PublicKey, []byte(`{"version":"3.0","action":"ping"}`), nil)
		sigs[i] = signature.Sign(appSecret, bodies[i])
	}
	pk, _ := envelope.NewPrivateKeys(k)
	for _, bc := range []struct {
		name string
		keys *envelope.PrivateKeys
	}{{"bounded", pk}, {"unbounded", pk.WithMaxConcurrent(0)}} {
		b.Run(bc.name, func(b *testing.B) {
			h, err := endpoint.New(endpoint.Config{
				Keys: bc.keys, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss},
				Logger: discardLogger(),
			}, endpoint.NewFlow("bench"))
			if err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			var all []time.Duration
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				i := 0
				w := &statusWriter{header: http.Header{}}
				for pb.Next() {
					r := httptest.NewRequest(http.MethodPost, "/flows/bench", bytes.NewReader(bodies[i%pool]))
					r.Header.Set(signature.Header, sigs[i%pool])
					start := time.Now()
					h.ServeHTTP(w, r)
					mine = append(mine, time.Since(start))
					if w.status != 200 {
						b.Fatalf("status %d", w.status)
					}
					i++
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(all)
			p50, p99 := all[len(all)/2], all[len(all)*99/100]
			b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
			b.ReportMetric(float64(p99)/float64(p50), "p99/p50")
		})
	}
}

// BenchmarkEndpointPingWithoutRSA is BenchmarkEndpointPing with the RSA step
// replaced by a table lookup: what the endpoint itself costs per request.
func BenchmarkEndpointPingWithoutRSA(b *testing.B) {
	k, _ := testKeys(b)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	const pool = 64
	bodies := make([][]byte, pool)
	sigs := make([]string, pool)
	unwrapped := knownKeys{}
	for i := range bodies {
		aesKey, iv := make([]byte, envelope.KeySize), make([]byte, envelope.IVSize)
		rand.Read(aesKey)
		rand.Read(iv)
		bodies[i], _, _ = envelope.EncryptRequestWithKey(&k.PublicKey, aesKey, iv, []byte(`{"version":"3.0","action":"ping"}`), nil)
		sigs[i] = signature.Sign(appSecret, bodies[i])
		p, err := envelope.Parse(bodies[i])
		if err != nil {
			b.Fatal(err)
		}
		unwrapped[string(p.WrappedKey)] = aesKey
	}
	h, err := endpoint.New(endpoint.Config{
		Keys: unwrapped, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss},
		Logger: discardLogger(),
	}, endpoint.NewFlow("bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		w := &statusWriter{header: http.Header{}}
		r := httptest.NewRequest(http.MethodPost, "/flows/bench", nil)
		body := &bytes.Reader{}
		for pb.Next() {
			body.Reset(bodies[i%pool])
			r.Body = io.NopCloser(body)
			r.ContentLength = int64(len(bodies[i%pool]))
			r.Header.Set(signature.Header, sigs[i%pool])
			h.ServeHTTP(w, r)
			if w.status != 200 {
				b.Fatalf("status %d", w.status)
			}
			i++
		}
	})
}

// knownKeys "unwraps" the AES keys of requests encrypted up front.
type knownKeys map[string][]byte

func (k knownKeys) UnwrapKey(wrapped []byte) ([]byte, error) {
	if key, ok := k[string(wrapped)]; ok {
		return key, nil
	}
	return nil, envelope.ErrDecrypt
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

// BenchmarkEndpointAnswerWithoutRSA measures what the answer check adds
// (NewFlowFromJSON) to a data_exchange and an INIT request, RSA aside:
// "unchecked" is the same flow with UncheckedAnswers, as a flow served
// without its Flow JSON.
func BenchmarkEndpointAnswerWithoutRSA(b *testing.B) {
	k, _ := testKeys(b)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	token, _, _ := iss.Issue("booking", "4915112345678")
	spec := orderSpec(b)
	many := make([]map[string]any, 20)
	for i := range many {
		many[i] = map[string]any{"id": "p" + strconv.Itoa(i), "title": "Product " + strconv.Itoa(i)}
	}
	for _, req := range []struct{ name, plain string }{
		{"data_exchange", `{"version":"3.0","action":"data_exchange","screen":"PICK","data":{"product":"tea"},"flow_token":"` + token + `"}`},
		{"INIT", `{"version":"3.0","action":"INIT","screen":"","data":{},"flow_token":"` + token + `"}`},
	} {
		const pool = 64
		bodies := make([][]byte, pool)
		sigs := make([]string, pool)
		unwrapped := knownKeys{}
		for i := range bodies {
			aesKey, iv := make([]byte, envelope.KeySize), make([]byte, envelope.IVSize)
			rand.Read(aesKey)
			rand.Read(iv)
			bodies[i], _, _ = envelope.EncryptRequestWithKey(&k.PublicKey, aesKey, iv, []byte(req.plain), nil)
			sigs[i] = signature.Sign(appSecret, bodies[i])
			p, err := envelope.Parse(bodies[i])
			if err != nil {
				b.Fatal(err)
			}
			unwrapped[string(p.WrappedKey)] = aesKey
		}
		for _, unchecked := range []bool{true, false} {
			name := req.name + "/checked"
			if unchecked {
				name = req.name + "/unchecked"
			}
			b.Run(name, func(b *testing.B) {
				flow := orderFlow(spec)
				flow.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
					return endpoint.Next("PICK", map[string]any{"products": many, "product_error": ""}), nil
				})
				flow.UncheckedAnswers = unchecked
				h, err := endpoint.New(endpoint.Config{
					Keys: unwrapped, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss},
					Logger: discardLogger(),
				}, flow)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					w := &statusWriter{header: http.Header{}}
					r := httptest.NewRequest(http.MethodPost, "/flows/booking", nil)
					body := &bytes.Reader{}
					for pb.Next() {
						body.Reset(bodies[i%pool])
						r.Body = io.NopCloser(body)
						r.ContentLength = int64(len(bodies[i%pool]))
						r.Header.Set(signature.Header, sigs[i%pool])
						h.ServeHTTP(w, r)
						if w.status != 200 {
							b.Fatalf("status %d", w.status)
						}
						i++
					}
				})
			})
		}
	}
}
