package console

import (
	"sync"
	"time"
)

// limiter counts failed sign-ins per key (an account, an address) in a
// sliding window and refuses once a key has max failures in it. An
// attempt counts from its start (take) until it succeeds. It is per
// process: with several replicas an attacker gets max per replica, still
// a handful per window.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}}
}

// take counts an attempt of key at now, before it is checked, so that
// attempts made in parallel are counted as they start, not as they fail:
// it returns zero when key may try, or how long it must wait, counting
// nothing. A successful attempt gives its count back (release, reset).
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.recent(key, now)
	if len(ts) >= l.max {
		return ts[len(ts)-l.max].Add(l.window).Sub(now)
	}
	l.fails[key] = append(ts, now)
	if len(l.fails) > 100_000 { // bound memory under a spray of names
		for k := range l.fails {
			if len(l.recent(k, now)) == 0 {
				delete(l.fails, k)
			}
		}
	}
	return 0
}

// release gives back the attempt of key that take counted at at.
func (l *limiter) release(key string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.fails[key]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(at) {
			ts = append(ts[:i:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
}

// reset forgets key's failures (a successful sign-in).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// recent drops key's failures older than the window; l.mu held.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}
