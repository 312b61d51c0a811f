// Package metrics is waflow's Prometheus registry: the metrics of the data
// endpoint, the webhook receiver and its worker, and the inbox depth, with
// small typed methods for the code that records them, and the /metrics
// handler.
//
// Label values are bounded: flows come from the route table, actions and
// event kinds are clamped to the known sets, so a caller cannot grow the
// number of series.
package metrics
