package endpoint_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/admission"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
)

// Behind an admission.Budget, a body that finds the budget exhausted is
// answered 503 with Retry-After, and a small signed request still gets
// through while large unsigned bodies hold the rest.
func TestBusyBudget(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	k, _ := testKeys(t)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	h, err := endpoint.New(endpoint.Config{
		Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss},
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil)),
	}, endpoint.NewFlow("booking"))
	if err != nil {
		t.Fatal(err)
	}
	budget := admission.New(admission.Config{MaxBytes: 64 << 10, Reserve: 8 << 10, SmallBody: 16 << 10})
	srv := budget.Handler(h)

	// An unsigned body of unknown length holds 56 KiB: all that large
	// bodies may use.
	pr, pw := io.Pipe()
	held := httptest.NewRequest(http.MethodPost, "/flows/booking", pr)
	held.ContentLength = -1
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, held)
		done <- w.Code
	}()
	pw.Write(make([]byte, 56<<10))
	for deadline := time.Now().Add(10 * time.Second); budget.InUse() != 56<<10; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the held body: %d bytes in the budget, want %d", budget.InUse(), 56<<10)
		}
	}

	// A large body is refused.
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/flows/booking", bytes.NewReader(make([]byte, 20<<10))))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "server busy") {
		t.Fatalf("over the budget: %d, Retry-After %q, %q; want 503, 1, a message saying the server is busy", w.Code, w.Header().Get("Retry-After"), w.Body)
	}

	// A refusal for load is logged as a warning, not as an error.
	logMu.Lock()
	l := logs.String()
	logMu.Unlock()
	if !strings.Contains(l, "level=WARN") || !strings.Contains(l, "status=503") || strings.Contains(l, "level=ERROR") {
		t.Errorf("the refusal's log line: %q, want a warning with status=503", l)
	}

	// A signed ping gets its answer.
	body, sess, err := envelope.EncryptRequest(&k.PublicKey, []byte(`{"version":"3.0","action":"ping"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/flows/booking", bytes.NewReader(body))
	req.Header.Set(signature.Header, signature.Sign(appSecret, body))
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("a signed ping while the budget is taken: %d %q", w.Code, w.Body)
	}
	if plain, err := sess.DecryptResponse(w.Body.Bytes()); err != nil || !strings.Contains(string(plain), "active") {
		t.Fatalf("the ping's answer: %q, %v", plain, err)
	}

	pw.Close()
	if code := <-done; code != endpoint.StatusSignatureFailed {
		t.Errorf("the held unsigned body, once complete: %d, want %d", code, endpoint.StatusSignatureFailed)
	}
	if n := budget.InUse(); n != 0 {
		t.Errorf("%d bytes still in the budget after every request ended", n)
	}
}
