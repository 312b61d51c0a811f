package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/metrics"
	"github.com/waflow/waflow/webhook"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, l+"\n") {
			t.Errorf("metrics lack %q", l)
		}
	}
}

func TestMetrics(t *testing.T) {
	m := metrics.New(nil)
	m.ObserveEndpoint("book_table", "data_exchange", 200, 300*time.Millisecond)
	m.ObserveEndpoint("book_table", "data_exchange", 200, 1500*time.Millisecond)
	m.ObserveEndpoint("book_table", "<script>", 421, time.Millisecond)
	m.AnswerRefused("book_table", "invalid-screen-transition")
	m.AnswerRefused("book_table", "<made up>")
	m.TokenSignature("book_table", "bad_hmac")
	m.TokenSignature("book_table", "bad_hmac")
	m.TokenSignature("book_table", "")
	m.MediaFile("receipts", "hmac")
	m.WebhookRequest(200, 3*time.Millisecond)
	m.WebhookRequest(401, time.Millisecond)
	m.WebhookEvent("completion")
	m.WebhookEvent("completion")
	m.WebhookEvent("made-up")
	m.WebhookDuplicates(2)
	m.EventProcessed("completion", "done")
	m.EventProcessed("completion", "rejected")
	m.ProcessingFailure("completion")
	m.FlowEvent("ENDPOINT_LATENCY", "ACTIVATED")
	m.FlowEvent("SOMETHING_NEW", "x")
	m.WatchInbox(func(context.Context) (waflow.InboxStats, error) {
		return waflow.InboxStats{Pending: 7, Processing: 2, Dead: 1}, nil
	})
	body := scrape(t, m)
	wantLines(t, body,
		`waflow_endpoint_token_signatures_total{flow="book_table",result="bad_hmac"} 2`,
		`waflow_media_files_total{flow="receipts",result="hmac"} 1`,
		`waflow_endpoint_requests_total{action="data_exchange",flow="book_table",status="200"} 2`,
		`waflow_endpoint_requests_total{action="other",flow="book_table",status="421"} 1`,
		// p90 under 1 s is readable straight off the buckets.
		`waflow_endpoint_request_duration_seconds_bucket{action="data_exchange",flow="book_table",le="0.5"} 1`,
		`waflow_endpoint_request_duration_seconds_bucket{action="data_exchange",flow="book_table",le="1"} 1`,
		`waflow_endpoint_request_duration_seconds_bucket{action="data_exchange",flow="book_table",le="2"} 2`,
		`waflow_endpoint_request_duration_seconds_bucket{action="data_exchange",flow="book_table",le="10"} 2`,
		`waflow_endpoint_answers_refused_total{flow="book_table",rule="invalid-screen-transition"} 1`,
		`waflow_endpoint_answers_refused_total{flow="book_table",rule="other"} 1`,
		`waflow_webhook_requests_total{status="200"} 1`,
		`waflow_webhook_requests_total{status="401"} 1`,
		`waflow_webhook_events_total{kind="completion"} 2`,
		`waflow_webhook_events_total{kind="other"} 1`,
		`waflow_webhook_duplicate_events_total 2`,
		`waflow_inbox_events_processed_total{kind="completion",state="done"} 1`,
		`waflow_inbox_events_processed_total{kind="completion",state="rejected"} 1`,
		`waflow_inbox_processing_failures_total{kind="completion"} 1`,
		`waflow_flow_events_total{event="ENDPOINT_LATENCY",state="ACTIVATED"} 1`,
		`waflow_flow_events_total{event="OTHER",state="OTHER"} 1`,
		`waflow_inbox_events{state="pending"} 7`,
		`waflow_inbox_events{state="processing"} 2`,
		`waflow_inbox_events{state="dead"} 1`,
	)
	if !strings.Contains(body, "go_goroutines") {
		t.Error("the Go runtime collector is missing")
	}
}

// A failing inbox query leaves the gauge out but serves everything else.
func TestInboxDepthError(t *testing.T) {
	m := metrics.New(nil)
	m.WebhookEvent("status")
	m.WatchInbox(func(context.Context) (waflow.InboxStats, error) {
		return waflow.InboxStats{}, errors.New("database is down")
	})
	body := scrape(t, m)
	wantLines(t, body, `waflow_webhook_events_total{kind="status"} 1`)
	if strings.Contains(body, "waflow_inbox_events{") {
		t.Error("the inbox gauge was served despite the error")
	}
}

func TestNilMetrics(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveEndpoint("f", "INIT", 200, time.Second)
	m.WebhookRequest(200, time.Second)
	m.WebhookEvent("completion")
	m.WebhookDuplicates(1)
	m.EventProcessed("completion", "done")
	m.ProcessingFailure("completion")
	m.FlowEvent("ENDPOINT_LATENCY", "ACTIVATED")
}

// Metrics is what the webhook receiver and worker report to.
var _ webhook.Observer = (*metrics.Metrics)(nil)
