package api

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"iter"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/httperr"
	"github.com/waflow/waflow/registry"
)

// Prefix is the path every route of the API starts with.
const Prefix = "/api/v1/"

// OpenAPI is the OpenAPI 3.1 document of the API, served at
// /api/v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// Completions is what the API reads of the kept completions.
type Completions interface {
	Completion(ctx context.Context, messageID string) (waflow.Completion, error)
	EachCompletion(ctx context.Context, r waflow.CompletionRange) iter.Seq2[waflow.Completion, error]
}

// Config is what the API is built from. Keys, Completions and Flows are
// required: without a store there is no API (New fails), never an open
// one.
type Config struct {
	// Keys authenticates every request but the OpenAPI document's.
	Keys waflow.APIKeyStore
	// Completions are the responses the API reads.
	Completions Completions
	// Flows are the flows the server runs.
	Flows *registry.Registry
	// Send, when set, sends flow messages (POST /api/v1/flows/{name}/send)
	// through the outbox; without it that route answers 503.
	Send *SendConfig

	// CursorKey authenticates the listing's cursors. Replicas behind one
	// address must share it (internal/app derives it from the flow-token
	// secret); when empty, a random key is used and cursors are valid on
	// this process only, until it stops.
	CursorKey []byte

	// Rate and Burst are each key's token bucket: Burst requests at once,
	// Rate a second over time (DefaultRate and DefaultBurst when zero).
	// Each replica counts its own.
	Rate  float64
	Burst int

	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives refused and failed requests (never a key, nor a
	// response's values); slog.Default() when nil.
	Logger *slog.Logger
	// Observe, when set, is called once per request with its route (the
	// pattern it matched, such as "GET /api/v1/flows") and status, for
	// metrics.
	Observe func(route string, status int, d time.Duration)
}

// The default rate limit of each key.
const (
	DefaultRate  = 10 // requests a second
	DefaultBurst = 20
)

// TouchInterval is how often at most a key's LastUsedAt is written: the
// first request after it has passed records the time; the others in
// between write nothing.
const TouchInterval = time.Minute

// API is the HTTP API's handler. Build it with New.
type API struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	cursors cursors
	limit   *limiter

	touchMu sync.Mutex
	touched map[string]time.Time // key id: when LastUsedAt was last written
}

// New builds the API from cfg.
func New(cfg Config) (*API, error) {
	if cfg.Keys == nil || cfg.Completions == nil || cfg.Flows == nil {
		return nil, errors.New("api: Keys, Completions and Flows are required")
	}
	if cfg.Send != nil {
		if err := cfg.Send.check(); err != nil {
			return nil, err
		}
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	a := &API{cfg: cfg, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux(), touched: map[string]time.Time{}}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.cursors.key = cfg.CursorKey
	if len(a.cursors.key) == 0 {
		a.cursors.key = make([]byte, 32)
		rand.Read(a.cursors.key)
	}
	a.limit = newLimiter(cfg.Rate, cfg.Burst)

	a.mux.HandleFunc("GET "+Prefix+"openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(OpenAPI)
	})
	a.route(Prefix+"flows", map[string]route{"GET": {ScopeRead, a.listFlows}})
	a.route(Prefix+"flows/{name}/responses", map[string]route{"GET": {ScopeRead, a.listResponses}})
	a.route(Prefix+"responses/{id}", map[string]route{"GET": {ScopeRead, a.getResponse}})
	a.route(Prefix+"flows/{name}/send", map[string]route{"POST": {ScopeSend, a.send}})
	// Anything else under the prefix: 401 without a valid key, then 404.
	a.mux.Handle(Prefix, a.authenticated(func(w http.ResponseWriter, r *http.Request, _ waflow.APIKey) {
		a.fail(w, r, httperr.New(http.StatusNotFound, "no such route: see /api/v1/openapi.json", nil))
	}))
	return a, nil
}

// route is one method of a path: the scope it needs and its handler.
type route struct {
	scope Scope
	h     func(w http.ResponseWriter, r *http.Request, k waflow.APIKey)
}

// route registers path with its methods: 401 without a valid key, 429 past
// the key's rate, 405 for another method, 403 without the scope.
func (a *API) route(path string, methods map[string]route) {
	allow := slices.Sorted(maps.Keys(methods))
	a.mux.Handle(path, a.authenticated(func(w http.ResponseWriter, r *http.Request, k waflow.APIKey) {
		rt, ok := methods[r.Method]
		if !ok {
			a.fail(w, r, httperr.New(http.StatusMethodNotAllowed, r.Method+" is not allowed here: use "+strings.Join(allow, ", "), nil).
				WithHeader("Allow", strings.Join(allow, ", ")))
			return
		}
		if !hasScope(k, rt.scope) {
			a.fail(w, r, httperr.New(http.StatusForbidden, "this key lacks the "+string(rt.scope)+" scope", nil))
			return
		}
		rt.h(w, r, k)
	}))
}

// MountPrefix serves h at prefix (under /api/v1/, without a trailing
// slash) and everything below it, for keys with scope, as Mount does; h sees
// the path with prefix stripped ("/" for prefix itself, "/{id}" below it),
// so that a handler written for its own root, such as events.NewHandler,
// mounts as it is.
func (a *API) MountPrefix(prefix string, scope Scope, h http.Handler) {
	prefix = strings.TrimSuffix(prefix, "/")
	strip := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		if r2.URL.Path == "" {
			r2.URL.Path = "/"
		}
		r2.URL.RawPath = ""
		h.ServeHTTP(w, r2)
	})
	a.Mount(prefix, scope, strip)
	a.Mount(prefix+"/", scope, strip)
}

// Mount serves h at pattern (a http.ServeMux pattern under /api/v1/, such
// as "GET /api/v1/events/subscriptions/{id}") for keys with scope, behind
// the API's authentication and rate limit: h runs only for a valid key
// that has scope (401, 403 and 429 answered as for the API's own routes).
// Its answers carry Cache-Control: no-store unless h sets another.
// h should answer its errors with httperr.Write in the httperr.CodedJSON
// format, as the API does. Mount before serving; it panics when pattern
// is not under /api/v1/ or conflicts with a route, as ServeMux.Handle does.
func (a *API) Mount(pattern string, scope Scope, h http.Handler) {
	path := pattern
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		path = strings.TrimLeft(pattern[i+1:], " ")
	}
	if !strings.HasPrefix(path, Prefix) {
		panic("api: Mount: pattern " + pattern + " is not under " + Prefix)
	}
	a.mux.Handle(pattern, a.authenticated(func(w http.ResponseWriter, r *http.Request, k waflow.APIKey) {
		if !hasScope(k, scope) {
			a.fail(w, r, httperr.New(http.StatusForbidden, "this key lacks the "+string(scope)+" scope", nil))
			return
		}
		// As the API's own answers: a mounted one may hold a secret (a
		// subscription's, when it is created), which no cache may keep;
		// h may set another policy.
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	}))
}

// ServeHTTP serves the API's routes, under /api/v1/.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.now()
	sw := &statusWriter{ResponseWriter: w}
	a.mux.ServeHTTP(sw, r)
	if a.cfg.Observe != nil {
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		a.cfg.Observe(route, sw.status, a.now().Sub(start))
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// fail answers err as {"error": {"code", "message"}}.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var qe *queryError
	if errors.As(err, &qe) {
		err = httperr.New(http.StatusBadRequest, qe.msg, nil).WithKind(qe.kind)
	}
	httperr.Write(w, r, a.log, httperr.CodedJSON, err)
}

// authenticated runs h for requests with a valid key within its rate:
// Authorization: Bearer wfk_<id>_<secret>.
func (a *API) authenticated(h func(http.ResponseWriter, *http.Request, waflow.APIKey)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, err := a.authenticate(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		now := a.now()
		if ok, wait := a.limit.allow(k.ID, now); !ok {
			secs := retryAfter(wait)
			a.fail(w, r, httperr.New(http.StatusTooManyRequests, "rate limit of this key exceeded: retry in "+strconv.Itoa(secs)+" s", nil).
				WithKind("rate_limited").WithHeader("Retry-After", strconv.Itoa(secs)))
			return
		}
		a.touch(r.Context(), k.ID, now)
		h(w, r, k)
	})
}

func unauthorized(msg string, err error) *httperr.Error {
	return httperr.New(http.StatusUnauthorized, msg, err).WithKind("unauthorized").
		WithHeader("WWW-Authenticate", `Bearer realm="waflow"`)
}

// authenticate finds the request's key and checks its secret in constant
// time. Every failure is the same 401 but for its message: no key, not a
// key, an unknown or revoked key.
func (a *API) authenticate(r *http.Request) (waflow.APIKey, error) {
	h := r.Header.Get("Authorization")
	scheme, text, ok := strings.Cut(h, " ")
	if h == "" {
		return waflow.APIKey{}, unauthorized("no API key: send Authorization: Bearer wfk_...", nil)
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return waflow.APIKey{}, unauthorized("the Authorization header must be Bearer wfk_...", nil)
	}
	id, secret, err := ParseKey(strings.TrimSpace(text))
	if err != nil {
		return waflow.APIKey{}, unauthorized("not a valid API key", nil)
	}
	k, err := a.cfg.Keys.APIKey(r.Context(), id)
	if errors.Is(err, waflow.ErrNotFound) || (err == nil && !secretMatches(k, secret)) {
		return waflow.APIKey{}, unauthorized("not a valid API key", errors.New("unknown key id or wrong secret"))
	}
	if err != nil {
		return waflow.APIKey{}, httperr.New(http.StatusServiceUnavailable, "cannot check the API key now; try again", err).WithHeader("Retry-After", "5")
	}
	if k.Revoked() {
		return waflow.APIKey{}, unauthorized("this API key was revoked", errors.New("revoked key "+k.ID))
	}
	return k, nil
}

// touch records that key id was used, at most once per TouchInterval per
// key from this process; a failure is logged and tried again next time.
func (a *API) touch(ctx context.Context, id string, now time.Time) {
	a.touchMu.Lock()
	last, seen := a.touched[id]
	due := !seen || now.Sub(last) >= TouchInterval
	if due {
		a.touched[id] = now
	}
	a.touchMu.Unlock()
	if !due {
		return
	}
	if err := a.cfg.Keys.TouchAPIKey(ctx, id, now); err != nil {
		a.log.Warn("api: recording a key's last use failed", "key_id", id, "error", err)
		a.touchMu.Lock()
		delete(a.touched, id)
		a.touchMu.Unlock()
	}
}
