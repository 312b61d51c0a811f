package reminders_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/waflow/waflow/storetest"
)

// benchTick measures one Tick over n bookings starting within the next day,
// with each replica's usual case: all of them reminded already (sent), or
// none of them due yet (idle).
func benchTick(b *testing.B, n int, sent bool) {
	clock := storetest.NewClock(start.Add(-30 * time.Minute))
	st := openSQLite(b, clock.Now)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute)
		_, _, err := st.Book(ctx, bookingFor(fmt.Sprint("BK-", i), fmt.Sprint("u", i%50), at), 5)
		if err != nil {
			b.Fatal(err)
		}
	}
	cfg := config(st, clock.Now)
	if !sent {
		cfg.BookingLead, cfg.MaxLead = 15*time.Minute, 24*time.Hour // none due half an hour ahead
	}
	s, err := newSchedulerB(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r, err := s.Tick(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if sent && r.Enqueued+r.Skipped != n || !sent && r.Enqueued != 0 {
		b.Fatalf("first tick %+v", r)
	}
	for b.Loop() {
		if _, err := s.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/booking")
}

func BenchmarkTickSent200(b *testing.B) { benchTick(b, 200, true) }
func BenchmarkTickIdle200(b *testing.B) { benchTick(b, 200, false) }
