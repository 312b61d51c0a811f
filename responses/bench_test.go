package responses_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/responses"
	"github.com/waflow/waflow/sqlite"
)

// benchRows is how many completions BenchmarkExport exports.
const benchRows = 100_000

// fillStore keeps n completions of flow "survey" in a new SQLite store, each
// a feedback-survey answer, received a second apart.
func fillStore(b *testing.B, n int) *sqlite.DB {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "waflow.db"), sqlite.Options{Synchronous: "NORMAL", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Many writers at once, so that the store's group commit batches them.
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c := waflow.Completion{
					MessageID: fmt.Sprintf("wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQTk%08d", i), Flow: "survey",
					WAID: "15551234567", UserID: "US.13491208655302741918", Status: waflow.CompletionRejected, Result: "replayed completion",
					Response: fmt.Appendf(nil, `{"flow_token":"~","rating":"%d","comments":"Good service, would come again #%d","follow_up":true,`+
						`"contact_method":"email","contact_value":"someone%d@example.com","contact_time":"morning"}`, i%5+1, i, i),
					CompletedAt: start.Add(time.Duration(i) * time.Second), ReceivedAt: start.Add(time.Duration(i) * time.Second),
				}
				if _, err := db.KeepCompletion(ctx, c); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return db
}

// peakHeap samples the live heap until stop is called, which returns the
// largest sample.
func peakHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkExport exports 100,000 completions of one flow from SQLite, read
// with EachCompletion, in each format. It reports the time per export, the
// bytes written, and the peak of the live heap during the export (sampled
// every millisecond, after a GC), which stays small and flat whatever the
// number of rows: the export streams.
//
// On a shared 2-core VM (2026-12-03), per 100,000 rows: csv 1.2 s (19.6 MiB
// written), jsonl 0.85 s and json 0.91 s (48.9 MiB), each with a peak live
// heap of 4.6 MiB; about 34 allocations a row, most in the SQLite driver.
func BenchmarkExport(b *testing.B) {
	if testing.Short() {
		b.Skip("fills a database with 100,000 completions")
	}
	db := fillStore(b, benchRows)
	fields := []string{"rating", "comments", "follow_up", "contact_method", "contact_value", "contact_time"}
	for _, f := range []responses.Format{responses.CSV, responses.JSONLines, responses.JSON} {
		b.Run(string(f), func(b *testing.B) {
			var out countingWriter
			var peak uint64
			b.ReportAllocs()
			for b.Loop() {
				runtime.GC()
				stop := peakHeap()
				out.n = 0
				n, err := responses.Export(&out, f, fields, db.EachCompletion(context.Background(), waflow.CompletionRange{Flow: "survey"}))
				peak = max(peak, stop())
				if err != nil || n != benchRows {
					b.Fatalf("Export = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(out.n)/(1<<20), "output-MiB")
			b.ReportMetric(float64(benchRows), "rows")
		})
	}
}
