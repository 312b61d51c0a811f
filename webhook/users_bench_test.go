package webhook_test

import (
	"fmt"
	"testing"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/storetest"
	"github.com/waflow/waflow/webhook"
)

// BenchmarkWorkerUsers measures what recording the users of each event
// (WorkerConfig.Users: a SeeUser write per message) costs the worker, side
// by side with the worker that records none, on text messages with a phone
// number and a BSUID: of users seen for the first time (every message a
// write), and of ten users writing again and again (a read each).
func BenchmarkWorkerUsers(b *testing.B) {
	for _, tc := range []struct {
		name      string
		withUsers bool
		users     int // distinct users; 0: one per message
	}{{"users=none", false, 0}, {"users=new", true, 0}, {"users=repeat", true, 10}} {
		withUsers := tc.withUsers
		b.Run(tc.name, func(b *testing.B) {
			clock := storetest.NewClock(storetest.Epoch)
			store := openStore(b, clock.Now)
			cfg := webhook.WorkerConfig{Store: store, Tokens: newIssuer(b, clock.Now), Now: clock.Now, Logger: quiet, Batch: 64}
			if withUsers {
				cfg.Users = store
			}
			w, err := webhook.NewWorker(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var evs []waflow.InboxEvent
			for i := range b.N {
				u := i
				if tc.users > 0 {
					u = i % tc.users
				}
				change := messagesChange(map[string]any{"id": fmt.Sprintf("wamid.b%d", i), "from": fmt.Sprintf("1555%07d", u),
					"from_user_id": fmt.Sprintf("US.%020d", u), "type": "text", "timestamp": "1730231903", "text": map[string]any{"body": "hi"}})
				more, err := webhook.Parse(notification(change))
				if err != nil {
					b.Fatal(err)
				}
				evs = append(evs, more...)
			}
			if _, err := store.AddEvents(ctx, evs); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			done := 0
			for done < b.N {
				n, err := w.ProcessBatch(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatalf("processed %d of %d events", done, b.N)
				}
				done += n
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
