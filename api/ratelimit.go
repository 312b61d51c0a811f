package api

import (
	"math"
	"sync"
	"time"
)

// limiter is a token bucket per key: each key may make Burst requests at
// once and Rate a second over time. It is kept in memory, so each replica
// counts its own requests. Only keys that authenticated get a bucket, so
// the map grows with the number of keys, never with what strangers send.
type limiter struct {
	rate  float64 // tokens added per second
	burst float64
	mu    sync.Mutex
	keys  map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), keys: map[string]*bucket{}}
}

// allow takes a token from id's bucket at now. When there is none, it
// returns false and how long until there is.
func (l *limiter) allow(id string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[id]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.keys[id] = b
	}
	if now.After(b.at) {
		b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// retryAfter is wait in whole seconds for Retry-After, at least 1.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
