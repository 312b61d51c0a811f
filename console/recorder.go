package console

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/waflow/waflow/console/consolestore"
)

// MinuteStore is what a Recorder writes to.
type MinuteStore interface {
	AddMinutes(ctx context.Context, ms []consolestore.Minute) error
	PruneMinutes(ctx context.Context, before time.Time) (int64, error)
	PruneSessions(ctx context.Context, now time.Time) (int64, error)
}

// Retention is how long the per-minute figures are kept.
const Retention = 30 * 24 * time.Hour

// Recorder counts what each flow's data endpoint does, by minute, in
// memory, and adds it to the database's minutes every flush: every
// replica runs one and their counts add up, and a crash loses at most what
// was counted since the last flush. Its Observe methods are safe for
// concurrent use and never block on the database.
type Recorder struct {
	store MinuteStore
	now   func() time.Time
	log   *slog.Logger

	mu  sync.Mutex
	cur map[minuteKey]*consolestore.Minute
}

type minuteKey struct {
	flow   string
	minute int64 // unix minutes
}

// NewRecorder returns a Recorder writing to store; now is time.Now and
// log slog.Default() when nil.
func NewRecorder(store MinuteStore, now func() time.Time, log *slog.Logger) *Recorder {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{store: store, now: now, log: log, cur: map[minuteKey]*consolestore.Minute{}}
}

// minute returns the counts of flow's current minute; r.mu held.
func (r *Recorder) minute(flow string) *consolestore.Minute {
	t := r.now().UTC().Truncate(time.Minute)
	k := minuteKey{flow, t.Unix() / 60}
	m := r.cur[k]
	if m == nil {
		m = &consolestore.Minute{Flow: flow, Start: t}
		r.cur[k] = m
	}
	return m
}

// ObserveRequest counts one data-endpoint request of flow answered with
// status after d.
func (r *Recorder) ObserveRequest(flow string, status int, d time.Duration) {
	if r == nil {
		return
	}
	b := len(consolestore.LatencyBounds)
	for i, bound := range consolestore.LatencyBounds {
		if d <= bound {
			b = i
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.minute(flow)
	m.Requests++
	m.Latency[b]++
	switch {
	case status == 421:
		m.Err421++
	case status == 427:
		m.Err427++
	case status == 432:
		m.Err432++
	case status >= 500:
		m.HandlerFailures++
	}
}

// ObserveForwardFailure counts a folder flow's request whose backend
// failed (package forward).
func (r *Recorder) ObserveForwardFailure(flow string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.minute(flow).ForwardFailures++
}

// ObserveCompletion counts a completion of flow handled.
func (r *Recorder) ObserveCompletion(flow string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.minute(flow).Completions++
}

// Flush adds what was counted since the last flush to the store. When the
// store fails the counts are kept for the next flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	cur := r.cur
	r.cur = map[minuteKey]*consolestore.Minute{}
	r.mu.Unlock()
	if len(cur) == 0 {
		return nil
	}
	ms := make([]consolestore.Minute, 0, len(cur))
	for _, m := range cur {
		ms = append(ms, *m)
	}
	err := r.store.AddMinutes(ctx, ms)
	if err != nil {
		r.mu.Lock()
		for k, m := range cur {
			if n := r.cur[k]; n != nil {
				n.Add(*m)
			} else {
				r.cur[k] = m
			}
		}
		r.mu.Unlock()
	}
	return err
}

// Run flushes every interval (5 s when zero) and prunes minutes older than
// Retention and expired sessions every hour, until ctx is done; then it
// flushes once more.
func (r *Recorder) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := r.Flush(fctx); err != nil {
				r.log.Warn("console: last flush of the minute figures failed", "error", err)
			}
			cancel()
			return
		case <-tick.C:
			if err := r.Flush(ctx); err != nil {
				r.log.Warn("console: flushing the minute figures failed; kept for the next flush", "error", err)
			}
			if now := r.now(); now.Sub(lastPrune) >= time.Hour {
				lastPrune = now
				if _, err := r.store.PruneMinutes(ctx, now.Add(-Retention)); err != nil {
					r.log.Warn("console: pruning the minute figures failed", "error", err)
				}
				if _, err := r.store.PruneSessions(ctx, now); err != nil {
					r.log.Warn("console: pruning expired sessions failed", "error", err)
				}
			}
		}
	}
}
