package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Result is what a run measured.
type Result struct {
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Concurrency int     `json:"concurrency,omitempty"` // closed loop
	Rate        float64 `json:"rate,omitempty"`        // open loop, requests per second asked for
	Elapsed     float64 `json:"elapsed_seconds"`
	// Requests counts the answered and failed requests; OK those whose
	// answer passed its check.
	Requests int64 `json:"requests"`
	OK       int64 `json:"ok"`
	Failed   int64 `json:"failed"`
	// PerSecond is OK answers per second of the run.
	PerSecond float64 `json:"ok_per_second"`
	// Latency is over the OK answers, in milliseconds.
	Latency Latency      `json:"latency_ms"`
	Errors  []ErrorCount `json:"errors,omitempty"`
	// LateStarts counts open-loop requests the generator sent more than
	// 1 ms after they were due: when it is a sizeable share, the generator
	// itself was short of CPU and the figures understate the rate asked.
	LateStarts int64 `json:"late_starts,omitempty"`
	// GeneratorCPUSeconds is the CPU time the generator process used
	// during the run (-1 where the platform does not say).
	GeneratorCPUSeconds float64 `json:"generator_cpu_seconds"`
	// Server is the server process's memory at the end and CPU time during
	// the run, when the caller measured it (see ReadProcess).
	Server *ProcessStats `json:"server,omitempty"`
}

// Latency percentiles, in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// ErrorCount is one kind of failure: how many, and one example.
type ErrorCount struct {
	Kind    string `json:"kind"`
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

func (r *runner) result(elapsed time.Duration) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	res := &Result{
		Mode:       r.cfg.Source.Name(),
		URL:        r.cfg.URL,
		Elapsed:    elapsed.Seconds(),
		OK:         int64(len(lat)),
		Failed:     r.failed,
		LateStarts: r.late.Load(),
		PerSecond:  float64(len(lat)) / elapsed.Seconds(),

		GeneratorCPUSeconds: -1,
	}
	res.Requests = res.OK + res.Failed
	if r.cfg.Rate > 0 {
		res.Rate = r.cfg.Rate
	} else {
		res.Concurrency = r.cfg.Concurrency
	}
	if len(lat) > 0 {
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		res.Latency = Latency{
			Min:  ms(lat[0]),
			Mean: ms(sum / time.Duration(len(lat))),
			P50:  ms(percentile(lat, 50)),
			P90:  ms(percentile(lat, 90)),
			P99:  ms(percentile(lat, 99)),
			Max:  ms(lat[len(lat)-1]),
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.failures)) {
		res.Errors = append(res.Errors, *r.failures[k])
	}
	return res
}

// percentile returns the p-th percentile of sorted (nearest rank), or 0
// for none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (len(sorted)*p + 99) / 100 // ceil(n*p/100), 1-based
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMs(d time.Duration) string { return fmt.Sprintf("%.1fms", ms(d)) }

// WriteText writes the report people read.
func (res *Result) WriteText(w io.Writer) {
	loop := fmt.Sprintf("closed loop, %d clients", res.Concurrency)
	if res.Rate > 0 {
		loop = fmt.Sprintf("open loop, %g requests/s", res.Rate)
	}
	fmt.Fprintf(w, "%s -> %s (%s)\n", res.Mode, res.URL, loop)
	fmt.Fprintf(w, "  requests   %d in %.2fs: %d ok, %d failed\n", res.Requests, res.Elapsed, res.OK, res.Failed)
	fmt.Fprintf(w, "  throughput %.1f ok/s\n", res.PerSecond)
	if res.OK > 0 {
		l := res.Latency
		fmt.Fprintf(w, "  latency    p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms  (mean %.2fms, min %.2fms; ok answers)\n",
			l.P50, l.P90, l.P99, l.Max, l.Mean, l.Min)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  failed     %d %s, e.g. %s\n", e.Count, e.Kind, oneLine(e.Example))
	}
	if res.Rate > 0 && res.LateStarts > 0 {
		fmt.Fprintf(w, "  late       %d requests sent over 1ms after they were due (the generator was short of CPU)\n", res.LateStarts)
	}
	if res.GeneratorCPUSeconds >= 0 {
		fmt.Fprintf(w, "  generator  %s\n", cpuLine(res.GeneratorCPUSeconds, res))
	}
	if m := res.Server; m != nil {
		fmt.Fprintf(w, "  server     pid %d: %s; resident %.1f MB now, %.1f MB at peak\n", m.PID, cpuLine(m.CPUSeconds, res), m.ResidentMB, m.PeakResidentMB)
	}
}

// cpuLine says how much CPU seconds is, for the run and per answer.
func cpuLine(seconds float64, res *Result) string {
	s := fmt.Sprintf("%.2fs CPU (%.0f%% of one core", seconds, 100*seconds/res.Elapsed)
	if res.Requests > 0 {
		s += fmt.Sprintf(", %.0fµs per request", 1e6*seconds/float64(res.Requests))
	}
	return s + ")"
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
