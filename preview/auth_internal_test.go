package preview

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestCookieExpiry: a sign-in cookie is refused once its 12 hours are
// over, whatever the browser keeps.
func TestCookieExpiry(t *testing.T) {
	g, err := newGate("a-preview-secret-of-32-bytes-xyz")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_800_000_000, 0)
	g.now = func() time.Time { return start }
	rec := httptest.NewRecorder()
	g.admit(rec, httptest.NewRequest(http.MethodGet, "/preview/?key=a-preview-secret-of-32-bytes-xyz", nil))
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("sign-in: %d %v", rec.Code, cookies)
	}
	for _, tt := range []struct {
		after time.Duration
		ok    bool
	}{{0, true}, {cookieTTL - time.Second, true}, {cookieTTL, false}, {48 * time.Hour, false}} {
		g.now = func() time.Time { return start.Add(tt.after) }
		if got := g.cookieOK(cookies[0].Value); got != tt.ok {
			t.Errorf("%v after signing in: cookie accepted = %v, want %v", tt.after, got, tt.ok)
		}
	}
}
