package httperr_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/waflow/waflow/httperr"
)

// loadBooking stands for a store call that fails.
func loadBooking() error { return errors.New("database unavailable") }

// A handler tells the client one thing and logs another: here the store's
// failure is logged, and the client is asked to come back later.
func Example() {
	// A logger without the time, so that the output is the same every run.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	handler := func(w http.ResponseWriter, r *http.Request) {
		if err := loadBooking(); err != nil {
			httperr.Write(w, r, log, httperr.JSON,
				httperr.New(http.StatusServiceUnavailable, "try again in a minute", fmt.Errorf("loading the booking: %w", err)).
					WithHeader("Retry-After", "60"))
			return
		}
	}
	w := httptest.NewRecorder()
	handler(w, httptest.NewRequest(http.MethodGet, "/bookings/42", nil))
	fmt.Print(w.Code, " Retry-After: ", w.Header().Get("Retry-After"), " ", w.Body)
	// Output:
	// level=WARN msg="request refused" method=GET path=/bookings/42 status=503 error="loading the booking: database unavailable"
	// 503 Retry-After: 60 {"error":"try again in a minute"}
}
