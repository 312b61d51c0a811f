package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/waflow/waflow/media"
)

// `waflow serve` keeps media files in the database by default, and a URL
// signed by one replica opens the file on another sharing the database and
// the token secret; a URL with a bad signature opens nothing.
func TestMediaInDatabaseAcrossReplicas(t *testing.T) {
	cfg := testConfig(t)
	cfg.Media.PublicURL = "https://flows.example.com"
	cfg.Preview = false
	one, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if _, ok := one.mediaStore.(dbMedia); !ok {
		t.Fatalf("media store %T, want the database's", one.mediaStore)
	}
	data := []byte("%PDF-1.7 a receipt kept in the database")
	key, err := one.mediaStore.Put(context.Background(), data)
	if err != nil || key != media.Key(data) {
		t.Fatalf("Put: %q %v", key, err)
	}
	signed := one.mediaURL(key)
	if !strings.HasPrefix(signed, "https://flows.example.com/media/"+key+"?") {
		t.Fatalf("signed URL %q", signed)
	}

	two, err := New(t.Context(), cfg) // another replica, same database
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go two.Serve(ctx, ln)
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + ln.Addr().String() + strings.TrimPrefix(u, "https://flows.example.com"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(signed); code != 200 || body != string(data) {
		t.Fatalf("signed URL on the other replica: %d %q", code, body)
	}
	if code, _ := get(strings.Replace(signed, "sig=", "sig=x", 1)); code != 403 {
		t.Fatalf("a bad signature: %d, want 403", code)
	}
	if code, _ := get("/media/" + key); code != 403 {
		t.Fatalf("no signature: %d, want 403", code)
	}
}
