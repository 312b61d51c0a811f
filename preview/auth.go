package preview

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow/httperr"
)

// MinSecret is the shortest Config.Secret New accepts, in bytes: the secret
// is all that stands between the network and real flow tokens.
const MinSecret = 16

const (
	// cookieName holds the sign-in of a browser that gave the secret once.
	cookieName = "waflow_preview"
	// cookieTTL is how long a sign-in lasts; the expiry is inside the
	// signed value, so an old cookie is refused even if a browser keeps it.
	cookieTTL = 12 * time.Hour
)

// gate lets through only requests that carry the preview's secret. The zero
// gate (no secret configured) lets everything through: "waflow serve" and
// "waflow preview" refuse to start without a secret where one is needed.
type gate struct {
	on        bool
	secretSum [sha256.Size]byte // compared in constant time, whatever the length given
	cookieKey []byte            // signs sign-in cookies; derived from the secret, so a new secret ends every sign-in
	now       func() time.Time
	log       *slog.Logger // refusals; none when nil
}

func newGate(secret string) (*gate, error) {
	g := &gate{now: time.Now}
	if secret == "" {
		return g, nil
	}
	if len(secret) < MinSecret {
		return nil, fmt.Errorf("preview: the secret is %d bytes; use at least %d random bytes (e.g. `openssl rand -hex 32`)", len(secret), MinSecret)
	}
	g.on = true
	g.secretSum = sha256.Sum256([]byte(secret))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("waflow preview sign-in cookie"))
	g.cookieKey = m.Sum(nil)
	return g, nil
}

func (g *gate) secretOK(given string) bool {
	sum := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(sum[:], g.secretSum[:]) == 1
}

func (g *gate) cookieMAC(exp string) string {
	m := hmac.New(sha256.New, g.cookieKey)
	m.Write([]byte(exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// cookieOK checks a sign-in cookie: "EXPIRY.MAC", EXPIRY in Unix seconds.
func (g *gate) cookieOK(v string) bool {
	exp, mac, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	if !hmac.Equal([]byte(mac), []byte(g.cookieMAC(exp))) {
		return false
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && g.now().Unix() < t
}

// admit reports whether r may go on. When it may not, admit has answered:
// 401, or, for a page opened with the right ?key=, the sign-in cookie and
// a redirect to the same page without the key (so that it stays out of
// the history, bookmarks and Referer headers).
func (g *gate) admit(w http.ResponseWriter, r *http.Request) bool {
	if !g.on {
		return true
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		q := r.URL.Query()
		if q.Has("key") {
			if !g.secretOK(q.Get("key")) {
				g.deny(w, r, "the key in the URL is not the preview's secret")
				return false
			}
			g.signIn(w, r, q)
			return false
		}
	}
	// Another scheme (a proxy's Basic sign-in passed through) is not ours:
	// the cookie decides then.
	if scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") {
		if !g.secretOK(strings.TrimSpace(tok)) {
			g.deny(w, r, "the Authorization header does not carry the preview's secret (want: Bearer SECRET)")
			return false
		}
		return true
	}
	if c, err := r.Cookie(cookieName); err == nil && g.cookieOK(c.Value) {
		return true
	}
	g.deny(w, r, "the preview needs its secret (WAFLOW_PREVIEW_SECRET): open /preview/?key=SECRET once, or send Authorization: Bearer SECRET")
	return false
}

// signIn sets the sign-in cookie and sends the browser to the URL without
// the key.
func (g *gate) signIn(w http.ResponseWriter, r *http.Request, q url.Values) {
	exp := strconv.FormatInt(g.now().Add(cookieTTL).Unix(), 10)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: exp + "." + g.cookieMAC(exp), Path: "/preview/",
		MaxAge: int(cookieTTL / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	delete(q, "key")
	to := r.URL.EscapedPath()
	if !strings.HasPrefix(to, "/preview/") {
		to = "/preview/"
	}
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		// A browser does not send a SameSite=Strict cookie on a redirect
		// from a link on another site (a chat, a mail), so the page goes
		// on by itself instead: that navigation is same-site.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		u := html.EscapeString(to)
		fmt.Fprintf(w, "<!doctype html><meta http-equiv=\"refresh\" content=\"0;url=%s\"><title>waflow preview</title><p>Signed in: <a href=\"%s\">continue to the preview</a>.</p>\n", u, u)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// deny answers 401 with what is missing, JSON on the API and text
// elsewhere, and logs it (the path, never the query and its key).
func (g *gate) deny(w http.ResponseWriter, r *http.Request, msg string) {
	e := httperr.New(http.StatusUnauthorized, msg, nil).WithHeader("WWW-Authenticate", `Bearer realm="waflow preview"`).WithHeader("Cache-Control", "no-store")
	format := httperr.Text
	if strings.HasPrefix(r.URL.Path, "/preview/api/") {
		format = httperr.JSON
	}
	httperr.Write(w, r, g.log, format, e)
}

// sealer marks the flow tokens this preview issued: /act signs and sends
// only a token that comes back with its seal, never one a caller made up or
// took from elsewhere. With a secret the key is derived from it, so every
// replica behind a load balancer (and the server after a restart) accepts
// the seals of the others; without one it is random per process, and a
// restart ends the sessions of open pages (they start the flow again).
type sealer struct{ key []byte }

func newSealer(secret string) (*sealer, error) {
	if secret != "" {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("waflow preview token seal"))
		return &sealer{key: m.Sum(nil)}, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("preview: seal key: %w", err)
	}
	return &sealer{key: key}, nil
}

// seal binds token to the flow it was issued for.
func (s *sealer) seal(flow, token string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strconv.Itoa(len(flow))))
	m.Write([]byte{0})
	m.Write([]byte(flow))
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *sealer) ok(flow, token, seal string) bool {
	return hmac.Equal([]byte(seal), []byte(s.seal(flow, token)))
}
