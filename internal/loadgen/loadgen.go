package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one prepared request and the check of its answer.
type Request struct {
	Body   []byte
	Header http.Header
	// Check inspects the answer and returns nil when it is right, or a
	// *Failure (any other error counts as kind "check").
	Check func(status int, body []byte) error
}

// Source gives Run the requests to send. Request is called from many
// goroutines at once, with i counting from 0; it should be cheap (prepare
// costly requests up front).
type Source interface {
	// Name is the mode in reports, e.g. "ping".
	Name() string
	Request(i int64) (*Request, error)
}

// Failure is a wrong answer, counted by Kind in the Result.
type Failure struct {
	Kind   string // e.g. "status 421", "decrypt", "answer"
	Detail string // one example, shown with the count
}

func (f *Failure) Error() string { return f.Kind + ": " + f.Detail }

// Failf returns a *Failure of kind.
func Failf(kind, format string, args ...any) error {
	return &Failure{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Config is one run.
type Config struct {
	// URL receives every request, e.g. "http://127.0.0.1:8080/flows/x".
	URL    string
	Source Source
	// Concurrency is the number of clients of a closed loop. Ignored when
	// Rate is set.
	Concurrency int
	// Rate, when positive, runs an open loop of Rate requests per second.
	Rate float64
	// MaxInFlight bounds the requests an open loop has waiting for an
	// answer (default 10000); past it, sending waits and the wait counts
	// in the latency.
	MaxInFlight int
	// Requests and Duration bound the run; at least one must be set, and
	// the run stops at the first bound reached.
	Requests int64
	Duration time.Duration
	// Timeout bounds each request; default 10 s, WhatsApp's limit.
	Timeout time.Duration
	// TLS configures https URLs; default the system's roots.
	TLS *tls.Config
	// Progress, when set, receives a line per ProgressInterval (default 1 s):
	// elapsed time, answers, rate, latency and failures of the interval.
	// With ProgressOverwrite each line replaces the previous one (for a
	// terminal).
	Progress          io.Writer
	ProgressInterval  time.Duration
	ProgressOverwrite bool
}

// ErrUnbounded is returned for a Config with neither Requests nor Duration.
var ErrUnbounded = errors.New("loadgen: the run is unbounded: set a number of requests or a duration")

// Run sends requests until a bound of cfg is reached or ctx is done, and
// returns what it measured. Requests still waiting for an answer when the
// duration ends are waited for (up to Timeout) and counted.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Requests <= 0 && cfg.Duration <= 0 {
		return nil, ErrUnbounded
	}
	if cfg.Source == nil {
		return nil, errors.New("loadgen: no source of requests")
	}
	if cfg.Rate <= 0 && cfg.Concurrency <= 0 {
		return nil, errors.New("loadgen: set a concurrency (closed loop) or a rate (open loop)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 10000
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = time.Second
	}
	tgt, err := newTarget(cfg.URL, cfg.Timeout, cfg.TLS)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, tgt: tgt}
	cpu0 := processCPU()
	r.start = time.Now()
	if cfg.Duration > 0 {
		r.deadline = r.start.Add(cfg.Duration)
	}
	stopProgress := r.progress()
	if cfg.Rate > 0 {
		r.openLoop(ctx)
	} else {
		r.closedLoop(ctx)
	}
	elapsed := time.Since(r.start)
	stopProgress()
	res := r.result(elapsed)
	if cpu := processCPU(); cpu >= 0 && cpu0 >= 0 {
		res.GeneratorCPUSeconds = (cpu - cpu0).Seconds()
	}
	return res, ctx.Err()
}

type runner struct {
	cfg      Config
	tgt      *target
	start    time.Time
	deadline time.Time    // zero without a duration
	next     atomic.Int64 // closed loop: the next request's index
	late     atomic.Int64 // open loop: requests sent over 1 ms after they were due

	mu        sync.Mutex
	latencies []time.Duration // of successful answers, in completion order
	failures  map[string]*ErrorCount
	failed    int64
}

// claim returns the index of the next request, or false when a bound is
// reached.
func (r *runner) claim(ctx context.Context) (int64, bool) {
	if ctx.Err() != nil || (!r.deadline.IsZero() && !time.Now().Before(r.deadline)) {
		return 0, false
	}
	i := r.next.Add(1) - 1
	if r.cfg.Requests > 0 && i >= r.cfg.Requests {
		return 0, false
	}
	return i, true
}

func (r *runner) closedLoop(ctx context.Context) {
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Go(func() {
			var c *conn // this client's connection
			defer func() {
				if c != nil {
					c.close()
				}
			}()
			for {
				i, ok := r.claim(ctx)
				if !ok {
					return
				}
				r.do(ctx, i, time.Now(), &c)
			}
		})
	}
	wg.Wait()
}

func (r *runner) openLoop(ctx context.Context) {
	interval := time.Duration(float64(time.Second) / r.cfg.Rate)
	inFlight := make(chan struct{}, r.cfg.MaxInFlight)
	idle := make(chan *conn, r.cfg.MaxInFlight) // connections between requests
	var wg sync.WaitGroup
	for i := int64(0); ; i++ {
		due := r.start.Add(time.Duration(i) * interval)
		if ctx.Err() != nil || (r.cfg.Requests > 0 && i >= r.cfg.Requests) || (!r.deadline.IsZero() && !due.Before(r.deadline)) {
			break
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if time.Since(due) > time.Millisecond {
			r.late.Add(1)
		}
		wg.Go(func() {
			var c *conn
			select {
			case c = <-idle:
			default: // none free: do dials one
			}
			r.do(ctx, i, due, &c)
			if c != nil {
				idle <- c // never blocks: at most MaxInFlight connections exist
			}
			<-inFlight
		})
	}
	wg.Wait()
	close(idle)
	for c := range idle {
		c.close()
	}
}

// do sends request i on *c (dialling a connection when *c is nil) and
// records its outcome; latency counts from due. *c is nil afterwards when
// the connection cannot be used again.
func (r *runner) do(ctx context.Context, i int64, due time.Time, c **conn) {
	req, err := r.cfg.Source.Request(i)
	if err != nil {
		r.record(0, &Failure{Kind: "source", Detail: err.Error()})
		return
	}
	// The request is not bound to ctx: once sent, it is answered and
	// counted, within Timeout.
	deadline := time.Now().Add(r.cfg.Timeout)
	for attempt := 0; ; attempt++ {
		if *c == nil {
			dctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
			*c, err = r.tgt.dial(dctx)
			cancel()
			if err != nil {
				r.record(0, transportFailure(err))
				return
			}
		}
		reused := !(*c).fresh
		status, body, keep, err := (*c).roundTrip(r.tgt, req, deadline)
		if err != nil {
			(*c).close()
			*c = nil
			if reused && attempt == 0 && staleConn(err) {
				continue // the server had closed the idle connection
			}
			r.record(0, transportFailure(err))
			return
		}
		took := time.Since(due)
		if !keep {
			(*c).close()
			*c = nil
		}
		if req.Check != nil {
			if err := req.Check(status, body); err != nil {
				f, ok := err.(*Failure)
				if !ok {
					f = &Failure{Kind: "check", Detail: err.Error()}
				}
				r.record(0, f)
				return
			}
		}
		r.record(took, nil)
		return
	}
}

func transportFailure(err error) *Failure {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Failure{Kind: "timeout", Detail: err.Error()}
	}
	return &Failure{Kind: "transport", Detail: err.Error()}
}

func (r *runner) record(took time.Duration, f *Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f == nil {
		r.latencies = append(r.latencies, took)
		return
	}
	r.failed++
	if r.failures == nil {
		r.failures = map[string]*ErrorCount{}
	}
	c := r.failures[f.Kind]
	if c == nil {
		c = &ErrorCount{Kind: f.Kind, Example: f.Detail}
		r.failures[f.Kind] = c
	}
	c.Count++
}

// progress starts the progress line and returns the function that stops it
// (after a last line for the end of the run).
func (r *runner) progress() (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.ProgressInterval)
		defer t.Stop()
		seen, failedSeen := 0, int64(0)
		last := r.start
		line := func(now time.Time) {
			r.mu.Lock()
			window := slices.Clone(r.latencies[seen:])
			seen = len(r.latencies)
			failed := r.failed - failedSeen
			failedSeen = r.failed
			r.mu.Unlock()
			slices.Sort(window)
			l := fmt.Sprintf("%6.1fs  %8d ok  %7.1f/s  p50 %s  p99 %s  failed %d",
				now.Sub(r.start).Seconds(), seen, float64(len(window))/now.Sub(last).Seconds(),
				fmtMs(percentile(window, 50)), fmtMs(percentile(window, 99)), failedSeen)
			if failed > 0 {
				l += fmt.Sprintf(" (+%d)", failed)
			}
			last = now
			if r.cfg.ProgressOverwrite {
				fmt.Fprintf(r.cfg.Progress, "\r%-78s", l)
			} else {
				fmt.Fprintln(r.cfg.Progress, l)
			}
		}
		for {
			select {
			case <-done:
				line(time.Now())
				if r.cfg.ProgressOverwrite {
					fmt.Fprint(r.cfg.Progress, "\n")
				}
				return
			case now := <-t.C:
				line(now)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
