package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/admission"
)

// Behind an admission.Budget, a body that finds the budget exhausted is
// answered 503 with Retry-After and nothing is stored, and a small signed
// notification still gets through while large unsigned bodies hold the rest.
func TestReceiverBusy(t *testing.T) {
	store := openStore(t, nil)
	budget := admission.New(admission.Config{MaxBytes: 64 << 10, Reserve: 8 << 10, SmallBody: 16 << 10})
	srv := budget.Handler(newReceiver(t, store))

	// An unsigned body of unknown length holds 56 KiB: all that large
	// bodies may use.
	pr, pw := io.Pipe()
	held := httptest.NewRequest(http.MethodPost, "/webhook", pr)
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

	// A large signed notification is refused, for WhatsApp to retry.
	at := time.Unix(1730231903, 0)
	large := notification(messagesChange(nfmReply("wamid.LARGE", "", `{"comment":"`+strings.Repeat("x", 20<<10)+`"}`, at)))
	w := post(srv, large, signed(large))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "server busy") {
		t.Fatalf("over the budget: %d, Retry-After %q, %q; want 503, 1, a message saying the server is busy", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if evs := allEvents(t, store); len(evs) != 0 {
		t.Fatalf("a refused POST stored %d events", len(evs))
	}

	// A small one gets through.
	small := notification(messagesChange(nfmReply("wamid.SMALL", "", `{}`, at)))
	if w := post(srv, small, signed(small)); w.Code != http.StatusOK {
		t.Fatalf("a small signed notification while the budget is taken: %d %q", w.Code, w.Body)
	}

	pw.Close()
	if code := <-done; code != http.StatusUnauthorized {
		t.Errorf("the held unsigned body, once complete: %d, want 401", code)
	}
	if n := budget.InUse(); n != 0 {
		t.Errorf("%d bytes still in the budget after every request ended", n)
	}
	if evs := allEvents(t, store); len(evs) != 1 {
		t.Errorf("%d events stored, want 1 (the small notification)", len(evs))
	}
}
