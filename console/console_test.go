package console_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console"
	"github.com/waflow/waflow/console/consolestore"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
)

const password = "a long enough password"

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func addUser(t testing.TB, db *sqlite.DB, name string) {
	t.Helper()
	h, err := console.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddUser(context.Background(), consolestore.User{Name: name, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
}

type server struct {
	t    *testing.T
	url  string
	http *http.Client
}

func newServer(t *testing.T, cfg console.Config) *server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	c, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &server{t: t, url: srv.URL, http: client()}
}

func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (s *server) get(c *http.Client, path string) (*http.Response, string) {
	s.t.Helper()
	resp, err := c.Get(s.url + path)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (s *server) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	s.t.Helper()
	resp, err := c.PostForm(s.url+path, form)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// signIn posts the sign-in form with name and pw and returns the answer.
func (s *server) signIn(c *http.Client, name, pw string) *http.Response {
	s.t.Helper()
	_, page := s.get(c, "/console/signin")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		s.t.Fatalf("no CSRF token on the sign-in page: %s", page)
	}
	resp, _ := s.post(c, "/console/signin", url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}})
	return resp
}

func TestSignInAndOut(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	s := newServer(t, console.Config{Store: db, Secure: true})
	c := client()

	resp, _ := s.get(c, "/console/answers")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("signed out: %s %q, want a redirect to the sign-in", resp.Status, resp.Header.Get("Location"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP = %q", csp)
	}
	if resp := s.signIn(c, "ada", "wrong password!!"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %s", resp.Status)
	}
	if resp := s.signIn(c, "nobody", password); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown account: %s", resp.Status)
	}
	// The sign-in form needs its own CSRF token (the cookie's).
	resp, _ = s.post(client(), "/console/signin", url.Values{"name": {"ada"}, "password": {password}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without the form's token: %s", resp.Status)
	}

	resp = s.signIn(c, "ada", password)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "waflow_console" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/console/" {
		t.Fatalf("session cookie = %+v", sess)
	}
	resp, page := s.get(c, "/console/flows")
	if resp.StatusCode != 200 || !strings.Contains(page, ">ada<") {
		t.Fatalf("signed in: %s", resp.Status)
	}
	token := csrfRE.FindStringSubmatch(page)[1]

	// A form without the session's token, or with another's, is refused.
	other := "x" + token[1:] // another token: one character changed
	if token[0] == 'x' {
		other = "y" + token[1:]
	}
	for _, form := range []url.Values{{}, {"csrf": {other}}} {
		resp, body := s.post(c, "/console/deliveries/retry", url.Values{"id": {"1"}, "csrf": form["csrf"]})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Fatalf("form with csrf %v: %s", form["csrf"], resp.Status)
		}
	}
	// With it, the form is read (no such message).
	if resp, _ := s.post(c, "/console/deliveries/retry", url.Values{"id": {"1"}, "csrf": {token}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("retry of a missing message: %s, want 404", resp.Status)
	}

	// Sign-out ends the session in the database: the cookie is no use.
	if resp, _ := s.post(c, "/console/signout", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %s", resp.Status)
	}
	replay := client()
	u, _ := url.Parse(s.url + "/console/")
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "waflow_console", Value: sess.Value, Path: "/console/"}})
	if resp, _ := s.get(replay, "/console/answers"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the signed-out session's cookie: %s, want a redirect", resp.Status)
	}
	if resp, _ := s.post(replay, "/console/signout", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a form of the signed-out session: %s, want 401", resp.Status)
	}
}

// Sessions live in the database: a second console on the same store (a
// replica) knows them.
func TestSessionAcrossReplicas(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	a := newServer(t, console.Config{Store: db})
	b := newServer(t, console.Config{Store: db})
	c := client()
	if resp := a.signIn(c, "ada", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	ua, _ := url.Parse(a.url + "/console/")
	ub, _ := url.Parse(b.url + "/console/")
	c.Jar.SetCookies(ub, c.Jar.Cookies(ua))
	if resp, _ := b.get(c, "/console/flows"); resp.StatusCode != 200 {
		t.Fatalf("the other replica: %s", resp.Status)
	}
}

func TestSignInRateLimited(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := newServer(t, console.Config{Store: db, Now: func() time.Time { return now }})
	c := client()
	for i := range 5 {
		if resp := s.signIn(c, "ada", "wrong password!!"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %s", i, resp.Status)
		}
	}
	// The account is locked for the window, even with the right password.
	resp := s.signIn(c, "ada", password)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("6th attempt: %s (Retry-After %q), want 429", resp.Status, resp.Header.Get("Retry-After"))
	}
	now = now.Add(16 * time.Minute)
	if resp := s.signIn(c, "ada", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %s", resp.Status)
	}
	// Per address: 20 failures over many names lock the address.
	for i := range 20 {
		s.signIn(c, "name"+string(rune('a'+i)), "wrong password!!")
	}
	if resp := s.signIn(c, "ada", password); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 20 failures from one address: %s, want 429", resp.Status)
	}
}

func TestHiddenWithoutAccount(t *testing.T) {
	db := openStore(t)
	s := newServer(t, console.Config{Store: db, RequireAccount: true})
	if resp, _ := s.get(client(), "/console/signin"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("production without an account: %s, want 404", resp.Status)
	}
	dev := newServer(t, console.Config{Store: db})
	if resp, body := dev.get(client(), "/console/signin"); resp.StatusCode != 200 || !strings.Contains(body, "waflow console users add") {
		t.Fatalf("development without an account: %s, want the sign-in saying how to add one", resp.Status)
	}
	addUser(t, db, "ada")
	if resp, _ := s.get(client(), "/console/signin"); resp.StatusCode != http.StatusOK {
		t.Fatalf("production with an account: %s", resp.Status)
	}
}

func TestBadInputAnswered(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	s := newServer(t, console.Config{Store: db, Flows: []console.Flow{{Name: "survey", Title: "Survey"}}})
	c := client()
	s.signIn(c, "ada", password)
	for path, want := range map[string]string{
		"/console/answers?flow=nope":               "no flow is named",
		"/console/answers?flow=survey&from=2026-1": "is not YYYY-MM-DD",
		"/console/answers?flow=survey&before=x":    "cursor",
		"/console/answers.csv?flow=nope":           "no flow is named",
	} {
		resp, body := s.get(c, path)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s: %s, want 400 saying %q", path, resp.Status, want)
		}
	}
	if resp, _ := s.get(c, "/console/answers/view?id=missing"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing answer: %s", resp.Status)
	}
}

func TestPassword(t *testing.T) {
	h, err := console.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if !console.CheckPassword(h, password) || console.CheckPassword(h, password+"x") {
		t.Fatal("CheckPassword does not tell the password apart")
	}
	if h2, _ := console.HashPassword(password); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if _, err := console.HashPassword("short"); !errors.Is(err, console.ErrWeakPassword) {
		t.Fatalf("short password: %v", err)
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", h + "x", strings.Replace(h, "argon2id", "argon2i", 1)} {
		if console.CheckPassword(bad, password) {
			t.Errorf("hash %q matched", bad)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	h, _ := console.HashPassword(password)
	f.Add(h)
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=8,t=1,p=1,p=2$$")
	f.Fuzz(func(t *testing.T, hash string) {
		console.CheckPassword(hash, password) // never panics, never runs unbounded
	})
}

type failingStore struct {
	console.MinuteStore
	fail bool
	got  []consolestore.Minute
}

func (f *failingStore) AddMinutes(_ context.Context, ms []consolestore.Minute) error {
	if f.fail {
		return errors.New("database down")
	}
	f.got = append(f.got, ms...)
	return nil
}

func TestRecorder(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &failingStore{fail: true}
	r := console.NewRecorder(st, func() time.Time { return now }, quiet())
	r.ObserveRequest("f", 200, 20*time.Millisecond)
	r.ObserveRequest("f", 427, 2*time.Second)
	r.ObserveRequest("f", 500, 30*time.Second)
	r.ObserveForwardFailure("f")
	if err := r.Flush(context.Background()); err == nil {
		t.Fatal("Flush to a failing store said nil")
	}
	r.ObserveCompletion("f") // counted meanwhile
	st.fail = false
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(st.got) != 1 {
		t.Fatalf("flushed %+v, want one minute", st.got)
	}
	m := st.got[0]
	if !m.Start.Equal(now.Truncate(time.Minute)) || m.Requests != 3 || m.Err427 != 1 || m.HandlerFailures != 1 || m.ForwardFailures != 1 ||
		m.Completions != 1 || m.Latency[0] != 1 || m.Latency[7] != 1 || m.Latency[12] != 1 {
		t.Fatalf("minute = %+v: the counts of the failed flush were lost or misplaced", m)
	}
	if err := r.Flush(context.Background()); err != nil || len(st.got) != 1 {
		t.Fatalf("an empty flush wrote: %v %d", err, len(st.got))
	}
}

func TestPercentile(t *testing.T) {
	var m consolestore.Minute
	m.Latency[0] = 90 // up to 25 ms
	m.Latency[6] = 10 // 750 ms to 1 s
	if p := console.Percentile(m, 0.5); p <= 0 || p > 25*time.Millisecond {
		t.Errorf("p50 = %v, want within the first bucket", p)
	}
	if p := console.Percentile(m, 0.99); p <= 750*time.Millisecond || p > time.Second {
		t.Errorf("p99 = %v, want between 750 ms and 1 s", p)
	}
	if p := console.Percentile(consolestore.Minute{}, 0.9); p != 0 {
		t.Errorf("no requests: %v", p)
	}
	var slow consolestore.Minute
	slow.Latency[12] = 5
	if p := console.Percentile(slow, 0.9); p != 10*time.Second {
		t.Errorf("past the last bound: %v, want 10 s", p)
	}
}

func TestFlowsPageShowsDeployments(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	ctx := context.Background()
	if err := db.SaveFlowDeployment(ctx, waflow.FlowDeployment{WABAID: "waba1", Flow: "survey", FlowID: "111", ContentHash: "h1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveFlowDeployment(ctx, waflow.FlowDeployment{WABAID: "waba1", Flow: "booking", FlowID: "222", ContentHash: "old"}); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, console.Config{Store: db, WABAID: "waba1", Flows: []console.Flow{
		{Name: "survey", Title: "Survey", Origin: "catalog", ContentHash: "h1"},
		{Name: "booking", Title: "Booking", Origin: "folder", Endpoint: true, ContentHash: "new", Findings: []string{"booking.json:3:5: a warning"}},
		{Name: "other", Title: "Other", Origin: "catalog"},
	}})
	c := client()
	s.signIn(c, "ada", password)
	resp, body := s.get(c, "/console/flows")
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	for _, want := range []string{"111, ", "this version", "222, ", "an older version", "not deployed", "booking.json:3:5: a warning", "data endpoint /flows/booking", "static"} {
		if !strings.Contains(body, want) {
			t.Errorf("the flows page does not show %q", want)
		}
	}
}

func TestSendForm(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	var sent []string
	s := newServer(t, console.Config{Store: db, Flows: []console.Flow{{Name: "survey", Title: "Survey"}},
		Send: func(_ context.Context, flow, to string) (int64, error) {
			sent = append(sent, flow+" "+to)
			return 7, nil
		}})
	c := client()
	s.signIn(c, "ada", password)
	_, page := s.get(c, "/console/flows")
	token := csrfRE.FindStringSubmatch(page)[1]
	for _, bad := range []url.Values{
		{"flow": {"survey"}, "to": {"12ab"}},
		{"flow": {"survey"}, "to": {"1234567"}},
		{"flow": {"nope"}, "to": {"4915112345678"}},
	} {
		bad.Set("csrf", token)
		if resp, _ := s.post(c, "/console/flows/send", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %s, want 400", bad, resp.Status)
		}
	}
	if len(sent) != 0 {
		t.Fatalf("bad forms sent %v", sent)
	}
	resp, _ := s.post(c, "/console/flows/send", url.Values{"csrf": {token}, "flow": {"survey"}, "to": {"+49 151 12345678"}})
	if resp.StatusCode != http.StatusSeeOther || len(sent) != 1 || sent[0] != "survey 4915112345678" {
		t.Fatalf("send: %s, sent %v", resp.Status, sent)
	}
}

type events struct{ got []console.BookingChange }

func (e *events) Emit(_ context.Context, typ string, data any) error {
	if typ == console.EventBookingChanged {
		e.got = append(e.got, data.(console.BookingChange))
	}
	return nil
}

func TestCancelBookingEmits(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	ctx := context.Background()
	settings, _ := catalog.DefaultSettings()
	cal := settings.BookingCalendar()
	// A weekday with opening hours, its first slot.
	day := time.Date(2030, 1, 7, 0, 0, 0, 0, cal.Location()) // a Monday
	slots := cal.Slots(day)
	if len(slots) == 0 {
		t.Fatal("the default calendar has no slot on a Monday")
	}
	if _, _, err := db.Book(ctx, catalogstore.Booking{Ref: "BK-1", TokenID: "t1", Start: slots[0], Name: "Ada"}, cal.Capacity()); err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	s := newServer(t, console.Config{Store: db, Calendar: cal, Events: ev})
	c := client()
	s.signIn(c, "ada", password)
	resp, page := s.get(c, "/console/bookings?view=day&date=2030-01-07")
	if resp.StatusCode != 200 || !strings.Contains(page, "BK-1 · Ada") || !strings.Contains(page, "1/1 booked") {
		t.Fatalf("day view: %s", resp.Status)
	}
	token := csrfRE.FindStringSubmatch(page)[1]
	resp, _ = s.post(c, "/console/bookings/cancel", url.Values{"csrf": {token}, "ref": {"BK-1"}, "view": {"day"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "cancelled=BK-1") {
		t.Fatalf("cancel: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	if len(ev.got) != 1 || ev.got[0].Change != "cancelled" || ev.got[0].By != "ada" || ev.got[0].Booking.Ref != "BK-1" {
		t.Fatalf("events = %+v", ev.got)
	}
	if _, page := s.get(c, "/console/bookings?view=day&date=2030-01-07"); strings.Contains(page, "BK-1 · ") || !strings.Contains(page, "0/1 booked, 1 free") {
		t.Fatal("the slot is not free after the cancel")
	}
	if resp, _ := s.post(c, "/console/bookings/cancel", url.Values{"csrf": {token}, "ref": {"BK-1"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("cancelling again: %s, want 404", resp.Status)
	}
	if resp, _ := s.get(c, "/console/bookings?date=2030-13-01"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad date: %s", resp.Status)
	}
}

// slowUsers holds every account lookup until n sign-ins are looking one
// up (or a second has passed), so that they all check their password at
// once, as a parallel guessing run would.
type slowUsers struct {
	*sqlite.DB
	arrived chan struct{}
	all     chan struct{}
}

func (s *slowUsers) User(ctx context.Context, name string) (consolestore.User, error) {
	s.arrived <- struct{}{}
	select {
	case <-s.all:
	case <-time.After(time.Second):
	}
	return s.DB.User(ctx, name)
}

// Parallel guesses get no more tries than one after the other: the limit
// counts an attempt before its password is checked, not after.
func TestSignInRateLimitedInParallel(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	const n = 10
	st := &slowUsers{DB: db, arrived: make(chan struct{}, n), all: make(chan struct{})}
	go func() {
		for range n {
			<-st.arrived
		}
		close(st.all)
	}()
	s := newServer(t, console.Config{Store: st})
	type form struct {
		c    *http.Client
		csrf string
	}
	forms := make([]form, n)
	for i := range forms {
		c := client()
		_, page := s.get(c, "/console/signin")
		forms[i] = form{c, csrfRE.FindStringSubmatch(page)[1]}
	}
	codes := make(chan int, n)
	for _, f := range forms {
		go func() {
			resp, err := f.c.PostForm(s.url+"/console/signin", url.Values{"csrf": {f.csrf}, "name": {"ada"}, "password": {"wrong password!!"}})
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	checked := 0
	for range n {
		switch code := <-codes; code {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("a parallel wrong sign-in answered %d, want 401 or 429", code)
		}
	}
	if checked != 5 {
		t.Fatalf("%d of %d parallel guesses had their password checked, want 5 (the account's limit)", checked, n)
	}
}

// Signing in again from a signed-in browser replaces its session: the
// old cookie's session is ended, not left valid until it expires.
func TestSignInAgainEndsTheOldSession(t *testing.T) {
	db := openStore(t)
	addUser(t, db, "ada")
	s := newServer(t, console.Config{Store: db})
	c := client()
	first := s.signIn(c, "ada", password)
	if first.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %s", first.Status)
	}
	if second := s.signIn(c, "ada", password); second.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: %s", second.Status)
	}
	var old string
	for _, ck := range first.Cookies() {
		if ck.Name == "waflow_console" {
			old = ck.Value
		}
	}
	replay := client()
	u, _ := url.Parse(s.url + "/console/")
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "waflow_console", Value: old, Path: "/console/"}})
	if resp, _ := s.get(replay, "/console/flows"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the first session's cookie after signing in again: %s, want a redirect to the sign-in", resp.Status)
	}
	if resp, _ := s.get(c, "/console/flows"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new session: %s", resp.Status)
	}
}
