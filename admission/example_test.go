package admission_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/waflow/waflow/admission"
)

// A handler behind a Budget reads its body as usual; past the budget the
// read fails with a *BusyError, which the handler turns into 503 with
// Retry-After.
func ExampleBudget_Handler() {
	budget := admission.New(admission.Config{MaxBytes: 4 << 10})
	h := budget.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := admission.ReadAll(r.Body)
		var busy *admission.BusyError
		if errors.As(err, &busy) {
			busy.SetHeaders(w.Header())
			http.Error(w, busy.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "read %d bytes", len(body))
	}))
	for _, size := range []int{1 << 10, 8 << 10} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/webhook", strings.NewReader(strings.Repeat("x", size))))
		fmt.Println(rec.Code, rec.Header().Get("Retry-After"), strings.TrimSpace(rec.Body.String()))
	}
	fmt.Println("held after both:", budget.InUse())
	// Output:
	// 200  read 1024 bytes
	// 503 1 server busy: too many request bytes in flight; retry later
	// held after both: 0
}
