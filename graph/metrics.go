package graph

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// MetricName names a flow endpoint metric (protocol.md 3.3).
type MetricName string

// Metrics the Metrics API serves for endpoint flows.
const (
	MetricRequestCount   MetricName = "ENDPOINT_REQUEST_COUNT"
	MetricRequestError   MetricName = "ENDPOINT_REQUEST_ERROR" // keys: timeout_error, unexpected_http_status_code, cannot_be_served, no_http_response_error
	MetricErrorRate      MetricName = "ENDPOINT_REQUEST_ERROR_RATE"
	MetricLatencySeconds MetricName = "ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL" // keys: 1 … 10 and 10+
	MetricAvailability   MetricName = "ENDPOINT_AVAILABILITY"                 // keys: succeeded, failed
)

// Granularity is the width of a metric's data points.
type Granularity string

// Granularities. DAY reaches back 90 days, HOUR 30.
const (
	GranularityDay      Granularity = "DAY"
	GranularityHour     Granularity = "HOUR"
	GranularityLifetime Granularity = "LIFETIME"
)

// MetricsRequest asks for one metric of a flow.
type MetricsRequest struct {
	Name        MetricName  // required
	Granularity Granularity // required
	// Since and Until bound the period by calendar day (UTC); zero means
	// unbounded on that side.
	Since, Until time.Time
}

// Metric is a flow metric's data points. Metrics lag by hours.
type Metric struct {
	Name        MetricName  `json:"name"`
	Granularity Granularity `json:"granularity"`
	DataPoints  []DataPoint `json:"data_points"`
}

// DataPoint is one period of a Metric.
type DataPoint struct {
	Timestamp Timestamp     `json:"timestamp"`
	Data      []MetricValue `json:"data"`
}

// MetricValue is one keyed value of a DataPoint, such as
// {"key": "timeout_error", "value": 3}.
type MetricValue struct {
	Key   string  `json:"key"`
	Value float64 `json:"value"`
}

var metricNameRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// FlowMetrics returns a metric of a flow with GET
// /{FLOW_ID}?fields=metric.name(N).granularity(G).since(D).until(D). A flow
// with fewer than 250 endpoint requests fails with code 139006 (see
// IsMetricsThresholdNotReached).
func (c *Client) FlowMetrics(ctx context.Context, flowID string, req MetricsRequest) (*Metric, error) {
	op := fmt.Sprintf("get %s metric of flow %s", req.Name, flowID)
	if err := checkID("flow ID", flowID); err != nil {
		return nil, fmt.Errorf("graph: get flow metrics: %w", err)
	}
	if !metricNameRE.MatchString(string(req.Name)) {
		return nil, fmt.Errorf("graph: %s: %w", op, invalid("metric name %q: want one such as %s", req.Name, MetricRequestCount))
	}
	switch req.Granularity {
	case GranularityDay, GranularityHour, GranularityLifetime:
	default:
		return nil, fmt.Errorf("graph: %s: %w", op, invalid("granularity %q: want DAY, HOUR or LIFETIME", req.Granularity))
	}
	if !req.Since.IsZero() && !req.Until.IsZero() && req.Until.Before(req.Since) {
		return nil, fmt.Errorf("graph: %s: %w", op, invalid("until %s is before since %s", day(req.Until), day(req.Since)))
	}
	field := fmt.Sprintf("metric.name(%s).granularity(%s)", req.Name, req.Granularity)
	if !req.Since.IsZero() {
		field += ".since(" + day(req.Since) + ")"
	}
	if !req.Until.IsZero() {
		field += ".until(" + day(req.Until) + ")"
	}
	var r struct {
		Metric *Metric `json:"metric"`
	}
	cl := &call{op: op, method: "GET", segments: []string{flowID}, query: url.Values{"fields": {field}}}
	if err := c.do(ctx, cl, &r); err != nil {
		return nil, err
	}
	if r.Metric == nil {
		return nil, fmt.Errorf("graph: %s: %w: no metric in the answer", op, ErrUnexpectedResponse)
	}
	return r.Metric, nil
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
