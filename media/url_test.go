package media_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/media"
)

// A signed URL opens its file until it expires; a URL for another key, a
// forged or missing signature, or an unknown file does not.
func TestURLSigner(t *testing.T) {
	if _, err := media.NewURLSigner(nil, "", 0); err == nil {
		t.Fatal("NewURLSigner without a secret: want an error (fail closed)")
	}
	store, err := media.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("%PDF-1.7 a receipt")
	key, _ := store.Put(context.Background(), data)
	other := media.Key([]byte("never stored"))
	now := time.Unix(1_800_000_000, 0)
	s, err := media.NewURLSigner(bytes.Repeat([]byte("k"), 32), "https://flows.example.com/", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return now }
	srv := httptest.NewServer(s.Handler(store, nil))
	defer srv.Close()
	get := func(raw string) (int, string) {
		u, _ := url.Parse(raw)
		resp, err := http.Get(srv.URL + u.RequestURI())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	good := s.URL(key)
	if !strings.HasPrefix(good, "https://flows.example.com/media/"+key+"?expires=") {
		t.Fatalf("URL = %s", good)
	}
	if code, body := get(good); code != 200 || body != string(data) {
		t.Fatalf("signed URL: %d %q", code, body)
	}
	cases := map[string]struct {
		url  string
		code int
		say  string
	}{
		"another key":       {strings.Replace(good, key, other, 1), 403, "signature does not verify"},
		"forged signature":  {good[:len(good)-2] + "AA", 403, "signature does not verify"},
		"no signature":      {"https://x/media/" + key, 403, "signature does not verify"},
		"later expiry":      {strings.Replace(good, "expires=", "expires=9", 1), 403, "signature does not verify"},
		"not a key":         {"https://x/media/..%2f..%2fetc?expires=1&sig=x", 400, "not a media key"},
		"signed, not there": {s.URL(other), 404, "no media file"},
	}
	for name, c := range cases {
		if code, body := get(c.url); code != c.code || !strings.Contains(body, c.say) {
			t.Errorf("%s: %d %q, want %d saying %q", name, code, body, c.code, c.say)
		}
	}
	now = now.Add(2 * time.Minute)
	if code, body := get(good); code != 403 || !strings.Contains(body, "expired") {
		t.Fatalf("expired URL: %d %q, want 403", code, body)
	}
}

// FuzzURLVerify: whatever the query, only what the signer made verifies.
func FuzzURLVerify(f *testing.F) {
	s, _ := media.NewURLSigner(bytes.Repeat([]byte("k"), 32), "", time.Hour)
	key := media.Key([]byte("x"))
	u, _ := url.Parse(s.URL(key))
	f.Add(key, u.Query().Get("expires"), u.Query().Get("sig"))
	f.Add(key, "-1", "")
	f.Fuzz(func(t *testing.T, k, expires, sig string) {
		if s.Verify(k, expires, sig) == nil && (k != key || expires != u.Query().Get("expires") || sig != u.Query().Get("sig")) {
			t.Fatalf("forged URL verified: %q %q %q", k, expires, sig)
		}
	})
}
