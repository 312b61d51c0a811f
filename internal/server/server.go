// Package server composes waflow's HTTP surface: the route table, the
// middleware, the http.Server with all four timeouts, and graceful shutdown.
// It holds no business logic; cmd/waflow builds the pieces and hands them in.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"sort"
	"sync/atomic"
	"time"

	"github.com/waflow/waflow/admission"
	"github.com/waflow/waflow/httperr"
)

// Config is what the server is built from.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:8080".
	Addr string
	// Flows maps a flow name to its data-endpoint handler, served at
	// POST /flows/{name}.
	Flows map[string]http.Handler
	// Webhook, when set, is served at /webhook (GET handshake, POST events).
	Webhook http.Handler
	// Metrics, when set, is served at GET /metrics.
	Metrics http.Handler
	// Preview, when set, is served under /preview/.
	Preview http.Handler
	// Extra routes, pattern to handler, for features that bring their own.
	Extra map[string]http.Handler
	// Ready reports whether the server can take traffic (e.g. the database
	// answers); /readyz answers 503 with its error otherwise.
	Ready func(context.Context) error
	// RequestTimeout is the longest a handler may take; the write timeout
	// is derived from it. Default 3 s.
	RequestTimeout time.Duration
	// DrainDelay is how long the server keeps serving once asked to stop,
	// with /readyz answering 503, before it refuses new connections: time
	// for a load balancer to see it and send traffic elsewhere. Responses
	// meanwhile close their HTTP/1 connection, so that clients reconnect
	// (to another replica). Zero: no delay.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the graceful shutdown after the drain delay:
	// requests still in flight then are cut. Default 15 s.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger

	// TLS, when set, makes Serve serve HTTPS (internal/tlsconf builds it).
	TLS *tls.Config
	// HTTP is what ServeWithHTTP serves on its plain-HTTP listener: ACME
	// http-01 challenges and the redirect to HTTPS.
	HTTP http.Handler

	// BodyBytesInFlight bounds the body bytes of /webhook and /flows/*
	// requests read and not yet answered, over all of them: until its
	// signature is checked a body is anyone's bytes. Past the bound a
	// request is answered 503 with Retry-After (admission.Budget).
	// Default admission.DefaultMaxBytes (16 MiB).
	BodyBytesInFlight int64
	// MaxConns bounds the connections open at once; past it an idle
	// connection is closed to make room, or the new one is answered 503
	// with Retry-After and closed (admission.LimitListener). Default
	// admission.DefaultMaxConns (1024).
	MaxConns int
}

// Server is waflow's HTTP server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	handler  http.Handler
	bodies   *admission.Budget
	draining atomic.Bool
}

// New builds the server and its route table.
func New(cfg Config) *Server {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 3 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = admission.DefaultMaxConns
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.bodies = admission.New(admission.Config{MaxBytes: cfg.BodyBytesInFlight, OnIdle: releaseMemory})
	s.handler = s.closeWhileDraining(recoverPanics(s.log, s.routes()))
	return s
}

// closeWhileDraining asks HTTP/1 clients to close their connection after
// each response once the server is draining, so that their next request
// opens a new connection, which the load balancer sends to a replica that
// stays. (Closing idle connections outright could race with a request
// being sent on one; HTTP/2 connections get a GOAWAY at shutdown.)
func (s *Server) closeWhileDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() && r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// routes is the whole route table.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	names := make([]string, 0, len(s.cfg.Flows))
	for name, h := range s.cfg.Flows {
		mux.Handle("POST /flows/"+name, s.bodies.Handler(h))
		names = append(names, name)
	}
	sort.Strings(names)
	mux.HandleFunc("POST /flows/{flow}", func(w http.ResponseWriter, r *http.Request) {
		httperr.Write(w, r, s.log, httperr.Text, httperr.New(http.StatusNotFound, fmt.Sprintf("no flow named %q here; flows: %v", r.PathValue("flow"), names), nil))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.Webhook != nil {
		mux.Handle("/webhook", s.bodies.Handler(s.cfg.Webhook))
	}
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	if s.cfg.Preview != nil {
		mux.Handle("/preview/", s.cfg.Preview)
	}
	for pattern, h := range s.cfg.Extra {
		mux.Handle(pattern, h)
	}
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		// Not logged: the load balancer asks every few seconds.
		httperr.Write(w, r, nil, httperr.Text, httperr.New(http.StatusServiceUnavailable, "shutting down", nil))
		return
	}
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			httperr.Write(w, r, s.log, httperr.Text, httperr.New(http.StatusServiceUnavailable, "not ready: "+err.Error(), fmt.Errorf("not ready: %w", err)))
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ready")
}

// Handler returns the server's root handler, for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns the http.Server with every timeout set: a slow client
// cannot hold a connection, and a request cannot outlive WhatsApp's 10 s.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Addr:              s.cfg.Addr,
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      s.cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve accepts connections on ln, at most MaxConns open at once, over TLS
// when Config.TLS is set, until ctx is done; then it drains (see
// DrainDelay), stops accepting, finishes the requests in flight (up to
// ShutdownTimeout) and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeWithHTTP(ctx, ln, nil)
}

// ServeWithHTTP is Serve, serving Config.HTTP on httpLn as well when
// httpLn is not nil; both stop together.
func (s *Server) ServeWithHTTP(ctx context.Context, ln, httpLn net.Listener) error {
	hs := s.HTTPServer()
	errc := make(chan error, 2)
	limited := admission.LimitListener(ln, s.cfg.MaxConns, admission.DefaultRetryAfter)
	hs.ConnState = limited.ConnState
	servers := []*http.Server{hs}
	if s.cfg.TLS != nil {
		hs.TLSConfig = s.cfg.TLS
		go func() { errc <- hs.ServeTLS(limited, "", "") }()
	} else {
		go func() { errc <- hs.Serve(limited) }()
	}
	if httpLn != nil {
		h := s.cfg.HTTP
		if h == nil {
			h = http.NotFoundHandler()
		}
		plain := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       30 * time.Second,
			ErrorLog:          hs.ErrorLog,
		}
		lim := admission.LimitListener(httpLn, s.cfg.MaxConns, admission.DefaultRetryAfter)
		plain.ConnState = lim.ConnState
		servers = append(servers, plain)
		go func() { errc <- plain.Serve(lim) }()
	}
	select {
	case err := <-errc:
		for _, srv := range servers {
			srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	if d := s.cfg.DrainDelay; d > 0 {
		s.log.Info("draining: /readyz answers 503 so that load balancers stop sending requests here; still serving meanwhile", "drain_delay", d)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case err := <-errc:
			t.Stop()
			for _, srv := range servers {
				srv.Close()
			}
			return err
		}
	}
	s.log.Info("shutting down: finishing requests in flight", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			// Past the timeout: cut what is left, the process must exit.
			srv.Close()
			errs = append(errs, fmt.Errorf("graceful shutdown: %w", err))
		}
	}
	for range servers {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// releaseMemory hands the memory of a burst of bodies back to the system.
// Left to itself the runtime keeps it until a garbage collection that, on an
// idle server, comes only every two minutes (measured: 60 to 135 MB resident
// stayed after the attack of issue 12). Two collections, because a
// sync.Pool (admission.ReadAll's pieces) keeps its contents through one.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// recoverPanics answers 500 for a handler that panics, logs the stack, and
// keeps the server serving. (net/http would also recover, but it drops the
// connection without an answer and logs outside slog.)
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				httperr.Write(w, r, log, httperr.Text, httperr.New(http.StatusInternalServerError, "internal error", fmt.Errorf("handler panicked: %v", v)),
					slog.String("stack", string(debug.Stack())))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
