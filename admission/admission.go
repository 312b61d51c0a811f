// Package admission bounds what unauthenticated requests can make a server
// hold: the bytes of request bodies read and not yet answered, over all
// requests (Budget), and the connections open at once (LimitListener).
//
// A webhook or data-endpoint body is only bytes from anyone until its
// X-Hub-Signature-256 is checked, and the check needs the whole body. Without
// a bound, a few hundred connections sending bodies as large as a route
// accepts make the server hold them all at once (issue 12: 200 webhook bodies
// of 3 MiB took the server from 22 MB to 1.29 GB resident). With a Budget,
// past its limit the request is answered 503 with Retry-After instead.
package admission

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/waflow/waflow/httperr"
)

// Defaults for Config.
const (
	DefaultMaxBytes   = 16 << 20
	DefaultSmallBody  = 64 << 10
	DefaultRetryAfter = time.Second
	DefaultIdleDelay  = time.Second
)

// readChunk bounds one read, so that the bytes a read brings before the
// budget is checked stay few.
const readChunk = 32 << 10

// Config configures a Budget.
type Config struct {
	// MaxBytes bounds the body bytes read and not yet released, over all
	// requests. Default DefaultMaxBytes (16 MiB).
	MaxBytes int64
	// SmallBody: a request announcing a Content-Length of at most
	// SmallBody bytes (WhatsApp's data-endpoint requests and most
	// notifications are a few kilobytes) may use the whole of MaxBytes;
	// any other request only MaxBytes minus Reserve. Large bodies from
	// many senders then cannot take the room small ones need. Default
	// DefaultSmallBody (64 KiB).
	SmallBody int64
	// Reserve is the part of MaxBytes only small bodies may use. Default
	// MaxBytes/8.
	Reserve int64
	// RetryAfter is sent, in whole seconds (at least 1), in the
	// Retry-After header of a refusal. Default DefaultRetryAfter (1 s).
	RetryAfter time.Duration
	// OnIdle, when set, is called (in its own goroutine) once the bytes in
	// use have stayed at zero for IdleDelay after a burst that held at
	// least a quarter of MaxBytes: the moment to hand the burst's memory
	// back to the system, e.g. with debug.FreeOSMemory.
	OnIdle func()
	// IdleDelay is how long the budget must stay unused before OnIdle.
	// Default DefaultIdleDelay (1 s).
	IdleDelay time.Duration
}

// Budget is a byte budget for request bodies, shared by the handlers
// Handler wraps. Bytes are taken as they arrive and given back when the
// handler returns. A Budget is safe for concurrent use.
type Budget struct {
	cfg Config

	mu    sync.Mutex
	used  int64
	peak  int64 // highest used since the last OnIdle
	timer *time.Timer
}

// New returns a Budget with cfg's limits (defaults for zero fields).
func New(cfg Config) *Budget {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.SmallBody <= 0 {
		cfg.SmallBody = DefaultSmallBody
	}
	if cfg.Reserve <= 0 || cfg.Reserve > cfg.MaxBytes {
		cfg.Reserve = cfg.MaxBytes / 8
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.IdleDelay <= 0 {
		cfg.IdleDelay = DefaultIdleDelay
	}
	return &Budget{cfg: cfg}
}

// InUse returns the body bytes held now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// acquire takes n bytes if the request's share of the budget has room for
// them.
func (b *Budget) acquire(n int64, small bool) bool {
	limit := b.cfg.MaxBytes
	if !small {
		limit -= b.cfg.Reserve
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > limit {
		return false
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return true
}

func (b *Budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if b.used != 0 || b.cfg.OnIdle == nil || b.peak < b.cfg.MaxBytes/4 {
		return
	}
	// A burst just ended; OnIdle once it has stayed over for IdleDelay.
	if b.timer == nil {
		b.timer = time.AfterFunc(b.cfg.IdleDelay, b.idle)
	} else {
		b.timer.Reset(b.cfg.IdleDelay)
	}
}

func (b *Budget) idle() {
	b.mu.Lock()
	if b.used != 0 || b.peak < b.cfg.MaxBytes/4 {
		b.mu.Unlock()
		return // busy again: the next release re-arms the timer
	}
	b.peak = 0
	b.mu.Unlock()
	b.cfg.OnIdle()
}

// Handler returns next with each request's body counted against the
// budget. When a read finds the budget exhausted it returns a *BusyError
// (every later read too), and next is expected to answer 503 with the
// error's headers (BusyError.SetHeaders); package endpoint and package
// webhook do. The bytes read are given back when next returns, however the
// request ended: answered, refused, or the client gone mid-body.
func (b *Budget) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		body := &body{rc: r.Body, b: b, small: r.ContentLength >= 0 && r.ContentLength <= b.cfg.SmallBody}
		defer body.done()
		r2 := *r
		r2.Body = body
		next.ServeHTTP(w, &r2)
	})
}

// body is a request body whose bytes count against a Budget.
type body struct {
	rc    io.ReadCloser
	b     *Budget
	small bool
	held  int64 // bytes taken from the budget
	err   error // sticky: the budget was exhausted, or the request ended
}

// Read takes the bytes from the budget once they have arrived: a sender
// that stalls holds only what it sent. One read takes at most readChunk.
func (r *body) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.rc.Read(p[:min(len(p), readChunk)])
	if n > 0 && !r.b.acquire(int64(n), r.small) {
		r.err = &BusyError{RetryAfter: r.b.cfg.RetryAfter}
		return 0, r.err
	}
	r.held += int64(n)
	return n, err
}

func (r *body) Close() error { return r.rc.Close() }

// done gives the bytes back once the handler has returned.
func (r *body) done() {
	if r.err == nil {
		r.err = http.ErrBodyReadAfterClose
	}
	r.b.release(r.held)
	r.held = 0
}

// BusyError is the error a body's Read returns when the budget is exhausted.
type BusyError struct {
	// RetryAfter is the delay the client is asked to wait.
	RetryAfter time.Duration
}

// Error says the server is busy; it names no client and no size.
func (e *BusyError) Error() string {
	return "server busy: too many request bytes in flight; retry later"
}

// SetHeaders sets the headers of a refusal: Retry-After, in whole seconds,
// and Connection: close, so that the rest of the body is not read.
func (e *BusyError) SetHeaders(h http.Header) {
	h.Set("Retry-After", formatRetryAfter(e.RetryAfter))
	h.Set("Connection", "close")
}

// HTTPError returns the refusal as an answer: 503, the error's text, the
// headers of SetHeaders. Its logged error is e.
func (e *BusyError) HTTPError() *httperr.Error {
	he := httperr.New(http.StatusServiceUnavailable, e.Error(), e)
	he.Header = http.Header{}
	e.SetHeaders(he.Header)
	return he
}

// formatRetryAfter renders d as a Retry-After value: whole seconds, at least 1.
func formatRetryAfter(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}
