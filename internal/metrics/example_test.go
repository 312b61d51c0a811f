package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/waflow/waflow/internal/metrics"
)

func Example() {
	m := metrics.New(nil)
	m.ObserveEndpoint("book_table", "INIT", 200, 120*time.Millisecond)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "waflow_endpoint_requests_total{") {
			fmt.Println(line)
		}
	}
	// Output:
	// waflow_endpoint_requests_total{action="INIT",flow="book_table",status="200"} 1
}
