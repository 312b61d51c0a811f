package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console/consolestore"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/httperr"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Store is what the console reads and writes: its own tables, the kept
// completions (answers and their CSV export) and the outbox.
type Store interface {
	consolestore.Store
	Completion(ctx context.Context, messageID string) (waflow.Completion, error)
	FlowDeployments(ctx context.Context, wabaID string) ([]waflow.FlowDeployment, error)
	EachCompletion(ctx context.Context, r waflow.CompletionRange) iter.Seq2[waflow.Completion, error]
}

// Flow is a flow of the server's registry, as the console shows it.
type Flow struct {
	Name, Title string
	Origin      string // "catalog" or "folder"
	Endpoint    bool   // answered by a data endpoint; false for a static flow
	Spec        *flowjson.Flow
	// ContentHash is deploy.ContentHash of its Flow JSON, to tell whether
	// the deployed version is this one.
	ContentHash string
	// Findings are the validator's warnings of its Flow JSON.
	Findings []string
	// PreviewURL is the flow's page in the browser preview; "" when the
	// preview is off.
	PreviewURL string
}

// Calendar is the appointment booking's opening hours, for the bookings
// page.
type Calendar interface {
	// Slots returns every slot start of day (midnight in Location), open
	// or not booked.
	Slots(day time.Time) []time.Time
	// Capacity is how many bookings one slot takes.
	Capacity() int
	// Location is the business time zone.
	Location() *time.Location
}

// Events receives what the console changes, for the business's systems
// (package events, wired by the server). Emit must not block for long.
type Events interface {
	Emit(ctx context.Context, eventType string, data any) error
}

// EventBookingChanged is the event emitted when the console cancels a
// booking; its data is a BookingChange.
const EventBookingChanged = "booking.changed"

// BookingChange is the data of a booking.changed event.
type BookingChange struct {
	Change  string               `json:"change"` // "cancelled"
	By      string               `json:"by"`     // the console account
	Booking catalogstore.Booking `json:"booking"`
}

// Delivery is one row of the deliveries page.
type Delivery struct {
	ID        string
	To        string
	State     string
	Attempts  int
	LastError string
	At        time.Time
}

// DeliverySource is one list of the deliveries page (the outbox; relayed
// webhooks and events are added by their packages).
type DeliverySource interface {
	// Title names the list, e.g. "Relayed webhooks".
	Title() string
	// Deliveries returns the newest deliveries in state ("pending",
	// "failed", "dead"; "" for any), at most limit.
	Deliveries(ctx context.Context, state string, limit int) ([]Delivery, error)
}

// Config is what the console is built from.
type Config struct {
	Store Store
	Flows []Flow
	// WABAID is the WhatsApp Business Account flows are deployed to; the
	// flows page shows their deployment records there. "" when not set.
	WABAID string
	// Send, when set, puts a "send to my number" form on the flows page: it
	// enqueues flow's interactive message to the WhatsApp number to
	// (digits) in the outbox and returns the outbox message's id.
	Send func(ctx context.Context, flow, to string) (int64, error)
	// Calendar, when set, shows the bookings page.
	Calendar Calendar
	// Events, when set, receives booking.changed.
	Events Events
	// Deliveries are more lists for the deliveries page, after the outbox.
	Deliveries []DeliverySource
	// RequireAccount answers 404 for every console page while no account
	// exists: a production server shows nothing until an admin was added.
	RequireAccount bool
	// Secure marks the cookies Secure: set it when the server speaks
	// HTTPS.
	Secure bool
	// SessionTTL is how long a sign-in lasts; 12 h when zero.
	SessionTTL time.Duration
	// Recorder, when set, is the one whose figures the overview shows
	// (flushed before the overview is read, so that it is up to date).
	Recorder *Recorder
	Now      func() time.Time
	Logger   *slog.Logger
}

// Prefix is where the console is served.
const Prefix = "/console/"

const (
	sessionCookie = "waflow_console"
	signinCookie  = "waflow_console_signin"
	maxFormBytes  = 64 << 10
)

// Console is the console's http.Handler, to be served at Prefix.
type Console struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	pages    map[string]*template.Template
	byIP     *limiter
	byUser   *limiter
	flowByNm map[string]Flow
}

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.Store == nil {
		return nil, errors.New("console: no store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	c := &Console{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), pages: map[string]*template.Template{},
		byIP: newLimiter(20, 15*time.Minute), byUser: newLimiter(5, 15*time.Minute), flowByNm: map[string]Flow{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	for _, f := range cfg.Flows {
		c.flowByNm[f.Name] = f
	}
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05")
		},
		"pct": func(f float64) string {
			return strings.TrimSuffix(strings.TrimRight(formatFloat(f, 1), "0"), ".") + " %"
		},
	}
	for _, p := range []string{"signin", "overview", "answers", "answer", "bookings", "flows", "deliveries", "message"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, err
		}
		c.pages[p] = t
	}
	static, _ := fs.Sub(assets, "static")
	c.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /console/signin", c.signinPage)
	c.mux.HandleFunc("POST /console/signin", c.signin)
	c.mux.HandleFunc("POST /console/signout", c.auth(c.signout))
	c.mux.HandleFunc("GET /console/{$}", c.auth(c.overview))
	c.mux.HandleFunc("GET /console/answers", c.auth(c.answers))
	c.mux.HandleFunc("GET /console/answers/view", c.auth(c.answer))
	c.mux.HandleFunc("GET /console/answers.csv", c.auth(c.answersCSV))
	c.mux.HandleFunc("GET /console/bookings", c.auth(c.bookings))
	c.mux.HandleFunc("POST /console/bookings/cancel", c.auth(c.cancelBooking))
	c.mux.HandleFunc("GET /console/flows", c.auth(c.flows))
	c.mux.HandleFunc("POST /console/flows/send", c.auth(c.sendFlow))
	c.mux.HandleFunc("GET /console/deliveries", c.auth(c.deliveries))
	c.mux.HandleFunc("POST /console/deliveries/retry", c.auth(c.retryDelivery))
	return c, nil
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing is loaded from elsewhere, and no script or style is inline
	// (the charts are SVG drawn on the server).
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if c.cfg.RequireAccount {
		n, err := c.cfg.Store.CountUsers(r.Context())
		if err != nil {
			httperr.Write(w, r, c.log, httperr.Text, httperr.New(http.StatusServiceUnavailable, "the database does not answer", err))
			return
		}
		if n == 0 {
			http.NotFound(w, r)
			return
		}
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	c.mux.ServeHTTP(w, r)
}

// session is a signed-in request's session.
type session struct {
	consolestore.Session
}

type ctxKey struct{}

func sessionOf(r *http.Request) *session { s, _ := r.Context().Value(ctxKey{}).(*session); return s }

// auth admits signed-in requests only, and a POST only with its session's
// CSRF token.
func (c *Console) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.currentSession(r)
		if err != nil {
			if !errors.Is(err, waflow.ErrNotFound) {
				httperr.Write(w, r, c.log, httperr.Text, httperr.New(http.StatusServiceUnavailable, "the database does not answer", err))
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
				return
			}
			c.message(w, r, http.StatusUnauthorized, "Signed out", "You are not signed in (or your session ended): sign in again.")
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				c.message(w, r, http.StatusBadRequest, "Bad form", "The form could not be read.")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) != 1 {
				c.message(w, r, http.StatusForbidden, "Form refused",
					"The form's CSRF token is missing or does not match your session. Reload the page and try again.")
				return
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &session{s})))
	}
}

func (c *Console) currentSession(r *http.Request) (consolestore.Session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || len(ck.Value) != 43 {
		return consolestore.Session{}, waflow.ErrNotFound
	}
	return c.cfg.Store.Session(r.Context(), hashToken(ck.Value), c.cfg.Now())
}

// newToken returns 32 random bytes, base64url without padding (43 chars).
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return strings.TrimRight(base64URL(b), "=")
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func (c *Console) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		Secure: c.cfg.Secure, SameSite: http.SameSiteStrictMode}
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.renderSignin(w, r, http.StatusOK, "")
}

// renderSignin shows the sign-in form with a fresh pre-session CSRF token
// (double submit: the cookie and the field must match).
func (c *Console) renderSignin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	tok := newToken()
	http.SetCookie(w, c.cookie(signinCookie, tok, 3600))
	n, err := c.cfg.Store.CountUsers(r.Context())
	if err != nil {
		httperr.Write(w, r, c.log, httperr.Text, httperr.New(http.StatusServiceUnavailable, "the database does not answer", err))
		return
	}
	c.render(w, r, status, "signin", map[string]any{"CSRF": tok, "Problem": problem, "NoAccount": n == 0})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.renderSignin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	ck, err := r.Cookie(signinCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get("csrf"))) != 1 || len(ck.Value) != 43 {
		c.renderSignin(w, r, http.StatusForbidden, "The form's CSRF token is missing or does not match. Try again.")
		return
	}
	now, ip, name := c.cfg.Now(), clientIP(r), r.PostForm.Get("name")
	// The attempt counts as a failure from now on, until the password
	// matched: guesses sent in parallel cannot all pass the check before
	// the first has failed.
	wait := c.byIP.take(ip, now)
	if wait == 0 {
		if wait = c.byUser.take(name, now); wait > 0 {
			c.byIP.release(ip, now)
		}
	}
	if wait > 0 {
		w.Header().Set("Retry-After", formatFloat(wait.Seconds()+1, 0))
		c.renderSignin(w, r, http.StatusTooManyRequests, "Too many failed sign-ins: wait "+wait.Round(time.Second).String()+" and try again.")
		return
	}
	u, err := c.cfg.Store.User(r.Context(), name)
	if err != nil && !errors.Is(err, waflow.ErrNotFound) {
		c.byIP.release(ip, now) // not a guess: the database failed
		c.byUser.release(name, now)
		httperr.Write(w, r, c.log, httperr.Text, httperr.New(http.StatusServiceUnavailable, "the database does not answer", err))
		return
	}
	hash := u.PasswordHash
	if err != nil {
		hash = dummyHash() // as slow as a known name
	}
	if !CheckPassword(hash, r.PostForm.Get("password")) || err != nil {
		c.log.Warn("console: sign-in refused", "ip", ip, "known_account", err == nil)
		c.renderSignin(w, r, http.StatusUnauthorized, "Wrong name or password.")
		return
	}
	c.byUser.reset(name)
	c.byIP.release(ip, now)
	tok := newToken()
	s := consolestore.Session{ID: hashToken(tok), User: u.Name, CSRF: newToken(), CreatedAt: now, ExpiresAt: now.Add(c.cfg.SessionTTL)}
	if err := c.cfg.Store.CreateSession(r.Context(), s); err != nil {
		httperr.Write(w, r, c.log, httperr.Text, httperr.New(http.StatusServiceUnavailable, "could not store the session", err))
		return
	}
	// The browser's previous session, if any, is replaced: end it, so that
	// its token is worth nothing to whoever else may hold it.
	if old, err := r.Cookie(sessionCookie); err == nil && len(old.Value) == 43 {
		if err := c.cfg.Store.DeleteSession(r.Context(), hashToken(old.Value)); err != nil {
			c.log.Warn("console: the replaced session was not deleted; it expires on its own", "error", err)
		}
	}
	c.log.Info("console: signed in", "user", u.Name, "ip", ip)
	http.SetCookie(w, c.cookie(signinCookie, "", -1))
	http.SetCookie(w, c.cookie(sessionCookie, tok, int(c.cfg.SessionTTL.Seconds())))
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if err := c.cfg.Store.DeleteSession(r.Context(), s.ID); err != nil {
		httperr.Write(w, r, c.log, httperr.Text, httperr.New(http.StatusServiceUnavailable, "could not end the session", err))
		return
	}
	http.SetCookie(w, c.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

var pageTitles = map[string]string{"signin": "Sign in", "overview": "Overview", "answers": "Answers", "answer": "Answer",
	"bookings": "Bookings", "flows": "Flows", "deliveries": "Deliveries", "message": "Message"}

// page is what every signed-in page's layout needs.
type page struct {
	Title string
	Nav   string
	User  string
	CSRF  string
	Data  any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	p := page{Title: pageTitles[name], Nav: name, Data: data}
	if s := sessionOf(r); s != nil {
		p.User, p.CSRF = s.User, s.CSRF
	}
	var b strings.Builder
	if err := c.pages[name].Execute(&b, p); err != nil {
		httperr.Write(w, r, c.log, httperr.Text, httperr.New(http.StatusInternalServerError, "the page could not be drawn", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// message shows a short page saying what went wrong (or right).
func (c *Console) message(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	c.render(w, r, status, "message", map[string]string{"Heading": title, "Text": text})
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.log.Error("console: page failed", "path", r.URL.Path, "error", err)
	c.message(w, r, http.StatusServiceUnavailable, "Not available", "The database did not answer; try again shortly.")
}
