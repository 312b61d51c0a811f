package loadgen_test

import (
	"testing"

	"github.com/waflow/waflow/internal/loadgen"
)

// BenchmarkFullPathPing runs 8 clients against an endpoint on 127.0.0.1 in
// the same process: HTTP over loopback, the handler, RSA and the client's
// checks. Its CPU profile shows the generator's share (runner.do and the
// HTTP client) next to the server's.
func BenchmarkFullPathPing(b *testing.B) {
	url, _ := startEndpoint(b)
	k, _ := testKeys(b)
	src := pingSource(b, &k.PublicKey, appSecret)
	b.ResetTimer()
	res, err := loadgen.Run(b.Context(), loadgen.Config{URL: url, Source: src, Concurrency: 8, Requests: int64(b.N)})
	if err != nil || res.Failed > 0 {
		b.Fatal(res.Errors, err)
	}
	b.ReportMetric(res.PerSecond, "ok/s")
	b.ReportMetric(res.Latency.P50, "p50-ms")
	b.ReportMetric(res.Latency.P99, "p99-ms")
}
