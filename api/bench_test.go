package api_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/api"
)

// BenchmarkListResponses answers GET /api/v1/flows/{name}/responses, a
// page of 100, over 100,000 stored responses of the flow (and 10,000 of
// another) in SQLite: the first page, a page 90,000 responses deep through
// its cursor, and a filtered page (status and since). Keyset pagination
// reads only the page, so the deep page should cost what the first does.
func BenchmarkListResponses(b *testing.B) {
	h := newHarness(b, func(c *api.Config) {
		// Measure the page, not the limiter: the clock moves, the bucket
		// never runs dry.
		c.Now, c.Rate, c.Burst = time.Now, 1e9, 1e9
	})
	const n, other = 100_000, 10_000
	start := time.Now()
	const writers = 64 // concurrent writes share the driver's transactions
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n+other; i += writers {
				flow := "feedback_survey"
				if i >= n {
					flow = "expense_entry"
				}
				c := waflow.Completion{
					MessageID:   fmt.Sprintf("wamid.bench.%06d", i),
					Flow:        flow,
					WAID:        "15550001111",
					Response:    []byte(`{"flow_token":"x","rating":"4","comments":"Lovely evening, thank you","follow_up":true}`),
					CompletedAt: epoch.Add(time.Duration(i) * time.Second),
					ReceivedAt:  epoch.Add(time.Duration(i) * time.Second),
					Status:      waflow.CompletionRejected,
					Result:      "bench",
				}
				if i%4 == 0 {
					c.Result = "other"
				}
				if _, err := h.db.KeepCompletion(b.Context(), c); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("stored %d responses in %v", n+other, time.Since(start).Round(time.Millisecond))

	// The cursor 90,000 responses deep: walk there once with pages of
	// 1,000.
	deep := ""
	for range 90 {
		q := "limit=1000"
		if deep != "" {
			q += "&cursor=" + deep
		}
		deep = nextCursor(b, h, "/api/v1/flows/feedback_survey/responses?"+q)
	}
	for _, bc := range []struct{ name, target string }{
		{"first", "/api/v1/flows/feedback_survey/responses?limit=100"},
		{"deep", "/api/v1/flows/feedback_survey/responses?limit=100&cursor=" + deep},
		{"filtered", "/api/v1/flows/feedback_survey/responses?limit=100&status=rejected&since=" + epoch.Add(50_000*time.Second).Format(time.RFC3339)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if nextCursor(b, h, bc.target) == "" {
				b.Fatal("no next page")
			}
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", bc.target, nil)
				req.Header.Set("Authorization", "Bearer "+h.keyText["reader"])
				w := httptest.NewRecorder()
				h.api.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

func nextCursor(tb testing.TB, h *harness, target string) string {
	tb.Helper()
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("Authorization", "Bearer "+h.keyText["reader"])
	w := httptest.NewRecorder()
	h.api.ServeHTTP(w, req)
	var p struct {
		Responses  []json.RawMessage `json:"responses"`
		NextCursor *string           `json:"next_cursor"`
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.NextCursor == nil || len(p.Responses) == 0 {
		tb.Fatalf("%s: %d %.300s", target, w.Code, w.Body)
	}
	return *p.NextCursor
}
