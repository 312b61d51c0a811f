package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/media"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/webhook"
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

// fakeDownloader plays the Graph API's media download: files by id; a
// sha256 that differs is graph.ErrMediaHash, an unknown id a network
// failure.
type fakeDownloader map[string][]byte

func (f fakeDownloader) DownloadMedia(ctx context.Context, id string, opts graph.MediaDownload) (*graph.Media, error) {
	b, ok := f[id]
	if !ok {
		return nil, errors.New("connection reset")
	}
	s := sha256.Sum256(b)
	if opts.SHA256 != base64.StdEncoding.EncodeToString(s[:]) {
		return nil, graph.ErrMediaHash
	}
	return &graph.Media{Data: b}, nil
}

// A completion's PhotoPicker files are fetched with their sha256 checked
// and stored before the flow's handler runs, which gets them described; a
// file that can never pass rejects the completion, a failed download is
// retried, and nothing is stored for either.
func TestCompletionMedia(t *testing.T) {
	spec, ps := flowjson.ValidateSource([]byte(`{"version": "7.0", "screens": [{"id": "PHOTO", "title": "Photo", "terminal": true,
	  "layout": {"type": "SingleColumnLayout", "children": [
	    {"type": "PhotoPicker", "name": "selfie", "label": "Photo", "max-uploaded-photos": 1},
	    {"type": "Footer", "label": "Send", "on-click-action": {"name": "complete", "payload": {"photo": "${form.selfie}"}}}]}}]}`))
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	jpeg := vectors.Read(t, "media_plaintext.jpg")
	sum := sha256.Sum256(jpeg)
	dir := t.TempDir()
	store, _ := media.NewDirStore(dir)
	a := &App{log: slog.New(slog.DiscardHandler), mediaStore: store}
	var got []webhook.Completed
	next := func(ctx context.Context, c webhook.Completed) error { got = append(got, c); return nil }
	h := a.completionMedia(&registry.Flow{Name: "photo", Spec: spec}, fakeDownloader{"m1": jpeg}, next)
	value := func(id, sha string) webhook.Completed {
		return webhook.Completed{Values: map[string]any{"photo": []any{map[string]any{"file_name": "a.jpg", "mime_type": "image/jpeg", "sha256": sha, "id": id}}}}
	}
	for name, c := range map[string]webhook.Completed{
		"a sha256 that differs": value("m1", base64.StdEncoding.EncodeToString(make([]byte, 32))),
	} {
		if err := h(t.Context(), c); !errors.Is(err, waflow.ErrRejected) {
			t.Errorf("%s: %v, want a rejection", name, err)
		}
	}
	if err := h(t.Context(), value("gone", base64.StdEncoding.EncodeToString(sum[:]))); err == nil || errors.Is(err, waflow.ErrRejected) {
		t.Errorf("a failed download: %v, want an error that is retried", err)
	}
	if len(got) != 0 {
		t.Fatalf("the handler ran %d times for refused files", len(got))
	}
	if err := h(t.Context(), value("m1", base64.StdEncoding.EncodeToString(sum[:]))); err != nil {
		t.Fatal(err)
	}
	want := []endpoint.StoredFile{{MediaID: "m1", Key: hex.EncodeToString(sum[:]), MIMEType: "image/jpeg", Size: len(jpeg), FileName: "a.jpg"}}
	if len(got) != 1 || !reflect.DeepEqual(got[0].Values["photo"], want) {
		t.Fatalf("handler got %v, want %v", got, want)
	}
	if b, err := store.Get(t.Context(), want[0].Key); err != nil || !bytes.Equal(b, jpeg) {
		t.Fatalf("stored: %v", err)
	}
}
