package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowjson"
)

// LatencyBuckets are the upper bounds, in seconds, of the latency
// histograms. Meta watches the endpoint's p90 and alerts when it crosses
// 1 s, 5 s and 7 s over 30 minutes, and gives up on a request after 10 s
// (protocol.md 3.2): fine buckets below 1 s show how close the p90 is to the
// first alert, and whole seconds from 1 to 10 match Meta's own
// ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL histogram.
var LatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

// Metrics holds the registry and its metrics. Its methods are safe for
// concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	endpointRequests *prometheus.CounterVec
	endpointLatency  *prometheus.HistogramVec
	answersRefused   *prometheus.CounterVec
	webhookRequests  *prometheus.CounterVec
	webhookLatency   prometheus.Histogram
	webhookEvents    *prometheus.CounterVec
	webhookDups      prometheus.Counter
	processed        *prometheus.CounterVec
	failures         *prometheus.CounterVec
	flowEvents       *prometheus.CounterVec
	forwarded        *prometheus.CounterVec
	tokenSignatures  *prometheus.CounterVec
	mediaFiles       *prometheus.CounterVec
}

// New returns a registry with waflow's metrics and the Go runtime and
// process collectors. logger receives scrape errors; slog.Default() when
// nil.
func New(logger *slog.Logger) *Metrics {
	if logger == nil {
		logger = slog.Default()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: logger,
		endpointRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_endpoint_requests_total",
			Help: "Data-endpoint requests answered, by flow, action and HTTP status.",
		}, []string{"flow", "action", "status"}),
		endpointLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waflow_endpoint_request_duration_seconds",
			Help:    "Time to answer a data-endpoint request, by flow and action. Meta alerts on p90 above 1 s.",
			Buckets: LatencyBuckets,
		}, []string{"flow", "action"}),
		answersRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_endpoint_answers_refused_total",
			Help: "Data-endpoint answers not sent because they break the flow's Flow JSON (answered 500 instead), by flow and the rule broken.",
		}, []string{"flow", "rule"}),
		webhookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_webhook_requests_total",
			Help: "Webhook requests answered, by HTTP status. Anything but 200 makes WhatsApp retry for up to 7 days.",
		}, []string{"status"}),
		webhookLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waflow_webhook_request_duration_seconds",
			Help:    "Time to verify, store and answer a webhook POST.",
			Buckets: LatencyBuckets,
		}),
		webhookEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_webhook_events_total",
			Help: "Events in accepted webhook POSTs, duplicates included, by kind.",
		}, []string{"kind"}),
		webhookDups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waflow_webhook_duplicate_events_total",
			Help: "Events already in the inbox when WhatsApp sent them again.",
		}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_inbox_events_processed_total",
			Help: "Inbox events settled by the worker, by kind and final state (done, rejected, dead).",
		}, []string{"kind", "state"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_inbox_processing_failures_total",
			Help: "Failed processing attempts of inbox events (each is retried with backoff, or dead-lettered), by kind.",
		}, []string{"kind"}),
		flowEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_flow_events_total",
			Help: "flows webhooks processed (status changes and health alerts), by event and state (new status or alert state).",
		}, []string{"event", "state"}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_forward_requests_total",
			Help: "Data-endpoint requests forwarded to a folder flow's backend, by flow, outcome (answered, token_rejected, failed) and failure (timeout, unreachable, status, too_large, not_json, bad_answer; empty unless failed).",
		}, []string{"flow", "outcome", "failure"}),
		tokenSignatures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_endpoint_token_signatures_total",
			Help: "Data API 4.0 flow_token_signature checks, by flow and result (valid, missing, bad_hmac, mismatch, expired, malformed). Anything but valid is answered all the same unless WAFLOW_REQUIRE_TOKEN_SIGNATURE=true.",
		}, []string{"flow", "result"}),
		mediaFiles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waflow_media_files_total",
			Help: "PhotoPicker and DocumentPicker files sent to the data endpoint, by flow and result: stored, or why they were refused (url, host, too_large, download, timeout, encrypted_hash, hmac, decrypt, plaintext_hash, type, metadata, store).",
		}, []string{"flow", "result"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.endpointRequests, m.endpointLatency, m.answersRefused,
		m.webhookRequests, m.webhookLatency, m.webhookEvents, m.webhookDups,
		m.processed, m.failures, m.flowEvents, m.forwarded, m.tokenSignatures, m.mediaFiles,
	)
	return m
}

// Registry returns the registry, for tests and for registering more
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format. A collector
// that fails (the database is down) is left out of the scrape and logged;
// the other metrics are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slogPrinter{m.log},
	})
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics scrape", "error", v) }

var endpointActions = map[string]bool{"INIT": true, "BACK": true, "data_exchange": true, "ping": true, "": true}

// ObserveEndpoint records one data-endpoint request. An action outside
// INIT, BACK, data_exchange and ping is recorded as "other"; "" means the
// request could not be decrypted.
func (m *Metrics) ObserveEndpoint(flow, action string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if !endpointActions[action] {
		action = "other"
	}
	m.endpointRequests.WithLabelValues(flow, action, strconv.Itoa(status)).Inc()
	m.endpointLatency.WithLabelValues(flow, action).Observe(d.Seconds())
}

// ObserveForward records one request forwarded to a backend (package
// forward's Observation: outcome and failure are its fixed words).
func (m *Metrics) ObserveForward(flow, outcome, failure string) {
	if m == nil {
		return
	}
	m.forwarded.WithLabelValues(flow, outcome, failure).Inc()
}

// TokenSignature records the result of one flow_token_signature check
// (endpoint.Observation.TokenSignature); "" records nothing.
func (m *Metrics) TokenSignature(flow, result string) {
	if m == nil || result == "" {
		return
	}
	m.tokenSignatures.WithLabelValues(flow, result).Inc()
}

// MediaFile records one media file received by the data endpoint
// (endpoint.MediaConfig.Observe).
func (m *Metrics) MediaFile(flow, result string) {
	if m == nil {
		return
	}
	m.mediaFiles.WithLabelValues(flow, result).Inc()
}

// AnswerRefused records a data-endpoint answer the endpoint refused to send
// because it breaks the flow's Flow JSON (endpoint.Observation.AnswerRule).
// A rule outside flowjson.AnswerRules is recorded as "other".
func (m *Metrics) AnswerRefused(flow, rule string) {
	if m == nil {
		return
	}
	if !slices.Contains(flowjson.AnswerRules, rule) {
		rule = "other"
	}
	m.answersRefused.WithLabelValues(flow, rule).Inc()
}

// WebhookRequest records one answered webhook request.
func (m *Metrics) WebhookRequest(status int, d time.Duration) {
	if m == nil {
		return
	}
	m.webhookRequests.WithLabelValues(strconv.Itoa(status)).Inc()
	m.webhookLatency.Observe(d.Seconds())
}

// kindLabel clamps an event kind to the known set.
func kindLabel(kind string) string {
	switch waflow.EventKind(kind) {
	case waflow.EventCompletion, waflow.EventMessage, waflow.EventStatus, waflow.EventFlows, waflow.EventOther:
		return kind
	}
	return "other"
}

// WebhookEvent records one event of an accepted webhook POST.
func (m *Metrics) WebhookEvent(kind string) {
	if m == nil {
		return
	}
	m.webhookEvents.WithLabelValues(kindLabel(kind)).Inc()
}

// WebhookDuplicates records n events that were already in the inbox.
func (m *Metrics) WebhookDuplicates(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.webhookDups.Add(float64(n))
}

// EventProcessed records an inbox event settled in its final state.
func (m *Metrics) EventProcessed(kind, state string) {
	if m == nil {
		return
	}
	switch waflow.InboxState(state) {
	case waflow.InboxDone, waflow.InboxRejected, waflow.InboxDead:
	default:
		state = "other"
	}
	m.processed.WithLabelValues(kindLabel(kind), state).Inc()
}

// ProcessingFailure records a failed attempt at processing an inbox event.
func (m *Metrics) ProcessingFailure(kind string) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(kindLabel(kind)).Inc()
}

var flowEventNames = map[string]bool{
	"FLOW_STATUS_CHANGE": true, "CLIENT_ERROR_RATE": true, "ENDPOINT_ERROR_RATE": true,
	"ENDPOINT_LATENCY": true, "ENDPOINT_AVAILABILITY": true, "FLOW_VERSION_EXPIRY_WARNING": true,
}

var flowStates = map[string]bool{
	"": true, "ACTIVATED": true, "DEACTIVATED": true,
	"DRAFT": true, "PUBLISHED": true, "DEPRECATED": true, "BLOCKED": true, "THROTTLED": true,
}

// FlowEvent records a processed flows webhook: event is FLOW_STATUS_CHANGE,
// ENDPOINT_LATENCY... and state the new status or the alert state. Unknown
// values are recorded as "OTHER".
func (m *Metrics) FlowEvent(event, state string) {
	if m == nil {
		return
	}
	if !flowEventNames[event] {
		event = "OTHER"
	}
	if !flowStates[state] {
		state = "OTHER"
	}
	m.flowEvents.WithLabelValues(event, state).Inc()
}

// WatchInbox adds the inbox depth gauge, waflow_inbox_events{state}, whose
// values stats reads at every scrape (InboxStore.InboxStats).
func (m *Metrics) WatchInbox(stats func(context.Context) (waflow.InboxStats, error)) {
	m.reg.MustRegister(&inboxCollector{stats: stats, desc: prometheus.NewDesc("waflow_inbox_events",
		"Inbox events waiting (pending), being processed (processing) and dead-lettered (dead).", []string{"state"}, nil)})
}

type inboxCollector struct {
	stats func(context.Context) (waflow.InboxStats, error)
	desc  *prometheus.Desc
}

func (c *inboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *inboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.Pending), "pending")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.Processing), "processing")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.Dead), "dead")
}
