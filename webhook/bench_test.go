package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/webhook"
)

// senders is the number of concurrent webhook senders of the benchmark.
const senders = 32

// BenchmarkWebhookIngest measures signed completion webhooks through the
// receiver: verify the signature, parse, commit to the SQLite inbox in a
// temporary folder, answer 200. Each of the 32 concurrent senders gets its
// 200 only after the commit (group commit shares one transaction among the
// requests waiting at that moment). The sub-benchmark names give the
// durability setting; FULL is the default. "http" goes through a real
// loopback HTTP server, "handler" calls ServeHTTP directly.
//
//	go test -run XXX -bench WebhookIngest ./webhook
func BenchmarkWebhookIngest(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		for _, via := range []string{"handler", "http"} {
			b.Run(fmt.Sprintf("sync=%s/%s", sync, via), func(b *testing.B) { benchIngest(b, sync, via == "http") })
		}
	}
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchIngest(b *testing.B, sync string, overHTTP bool) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "waflow.db"), sqlite.Options{Synchronous: sync, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	durability, _ := store.Durability(ctx)
	v, _ := signature.New(appSecret)
	recv, err := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: v, VerifyToken: verifyToken, Inbox: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}

	// The bodies and their signatures are made up front: signing is the
	// sender's work, not ours.
	at := time.Unix(1730231903, 0)
	bodies, sigs := make([][]byte, b.N), make([]string, b.N)
	for i := range b.N {
		bodies[i] = notification(messagesChange(nfmReply(fmt.Sprintf("wamid.bench.%d", i), "wamid.sent",
			responseJSON("wf1.benchmark-token", map[string]any{"guests": i % 8, "name": "Zoë"}), at)))
		sigs[i] = signature.Sign(appSecret, bodies[i])
	}

	var send func(i int) int
	if overHTTP {
		srv := httptest.NewServer(recv)
		defer srv.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
		send = func(i int) int {
			req, _ := http.NewRequest("POST", srv.URL+"/webhook", bytes.NewReader(bodies[i]))
			req.Header.Set(signature.Header, sigs[i])
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return 0
			}
			resp.Body.Close()
			return resp.StatusCode
		}
	} else {
		send = func(i int) int {
			req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(bodies[i]))
			req.Header.Set(signature.Header, sigs[i])
			rec := httptest.NewRecorder()
			recv.ServeHTTP(rec, req)
			return rec.Code
		}
	}

	var next, ok atomic.Int64
	b.SetParallelism((senders + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if send(int(next.Add(1)-1)) == http.StatusOK {
				ok.Add(1)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// CPU time per event (senders included) does not depend on what else
	// the machine runs: GOMAXPROCS / cpu-µs/event bounds events/s on an
	// otherwise idle machine.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e3, "cpu-µs/event")
	// Every 200 meant committed: all of them are in the inbox.
	st, err := store.InboxStats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if ok.Load() != int64(b.N) || st.Pending != int64(b.N) {
		b.Fatalf("%d of %d answered 200, %d stored", ok.Load(), b.N, st.Pending)
	}
	b.Logf("%s, %d senders: %d events", durability, senders, b.N)
}
