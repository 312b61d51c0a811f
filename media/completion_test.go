package media_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/media"
)

// fakeGraph answers GET /v25.0/{id} with the metadata of files[id] and
// serves the file at /v25.0/file/{id}. metaSum overrides the sha256 Meta
// announces.
func fakeGraph(t *testing.T, files map[string][]byte, metaSum map[string]string) *graph.Client {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer test-token" {
			t.Errorf("%s without the token", r.URL.Path)
		}
		if id, ok := strings.CutPrefix(r.URL.Path, "/v25.0/file/"); ok {
			w.Write(files[id])
			return
		}
		id := strings.TrimPrefix(r.URL.Path, "/v25.0/")
		b, ok := files[id]
		if !ok {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"message":"Unsupported get request","type":"GraphMethodException","code":100}}`))
			return
		}
		s, ok := metaSum[id]
		if !ok {
			s = sum(b)
		}
		json.NewEncoder(w).Encode(map[string]any{"url": srv.URL + "/v25.0/file/" + id, "mime_type": "image/jpeg", "sha256": s, "file_size": len(b), "id": id, "messaging_product": "whatsapp"})
	}))
	t.Cleanup(srv.Close)
	c, err := graph.New(graph.Options{BaseURL: srv.URL, AccessToken: "test-token", Retry: &graph.RetryPolicy{MaxAttempts: 1}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFetchCompleted: a completion's media value is downloaded through the
// Graph API, its sha256 checked, its type sniffed.
func TestFetchCompleted(t *testing.T) {
	t.Parallel()
	_, _, jpeg := realVector(t)
	pdf := []byte("%PDF-1.7\n%%EOF\n")
	big := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 2048)...)
	g := fakeGraph(t, map[string][]byte{"3631120727156756": jpeg, "pdf": pdf, "big": big, "altered": jpeg}, map[string]string{"altered": sum([]byte("other"))})

	raw := []byte(`[{"file_name":"IMG_5237.jpg","mime_type":"image/jpeg","sha256":"` + sum(jpeg) + `","id":"3631120727156756"}]`)
	vs, err := media.ParseCompletedValues(raw)
	if err != nil {
		t.Fatal(err)
	}
	file, err := media.FetchCompleted(t.Context(), g, vs[0], media.PhotoPicker(0))
	if err != nil || !bytes.Equal(file.Data, jpeg) || file.MIMEType != "image/jpeg" || file.MediaID != "3631120727156756" {
		t.Fatalf("FetchCompleted = %v, %v; want the JPEG", file, err)
	}

	for _, tc := range []struct {
		name  string
		v     media.CompletedValue
		rules media.Rules
		want  error
	}{
		{"sha256 of response_json differs", media.CompletedValue{ID: "pdf", SHA256: sum([]byte("other")), MIMEType: "application/pdf"}, media.DocumentPicker(0, nil), media.ErrSHA256},
		{"Meta's sha256 differs", media.CompletedValue{ID: "altered", SHA256: sum(jpeg)}, media.PhotoPicker(0), media.ErrSHA256},
		{"PDF announced as a JPEG in a PhotoPicker", media.CompletedValue{ID: "pdf", SHA256: sum(pdf), MIMEType: "image/jpeg", FileName: "x.jpg"}, media.PhotoPicker(0), media.ErrType},
		{"over max-file-size-kb", media.CompletedValue{ID: "big", SHA256: sum(big)}, media.DocumentPicker(2, nil), media.ErrTooLarge},
		{"unknown media id", media.CompletedValue{ID: "gone", SHA256: sum(pdf)}, media.DocumentPicker(0, nil), media.ErrDownload},
		{"sha256 not a hash", media.CompletedValue{ID: "pdf", SHA256: "abc"}, media.DocumentPicker(0, nil), media.ErrMetadata},
	} {
		file, err := media.FetchCompleted(t.Context(), g, tc.v, tc.rules)
		var fe *media.FileError
		if !errors.Is(err, tc.want) || !errors.As(err, &fe) || fe.MediaID != tc.v.ID || file != nil {
			t.Errorf("%s: FetchCompleted = %v, %v; want a FileError for %v", tc.name, file, err, tc.want)
		}
	}
}

func TestParseCompletedValues(t *testing.T) {
	t.Parallel()
	many := "[" + strings.Repeat(`{"id":"1","sha256":"x"},`, 10) + `{"id":"1","sha256":"x"}]`
	for _, raw := range []string{``, `null`, `{}`, `[{"sha256":"x"}]`, `[{"id":"1"}]`, `[] []`, many} {
		if _, err := media.ParseCompletedValues([]byte(raw)); !errors.Is(err, media.ErrMetadata) {
			t.Errorf("ParseCompletedValues(%.40q) = %v, want ErrMetadata", raw, err)
		}
	}
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	_, meta, _ := realVector(t)
	mb, _ := json.Marshal(meta)
	one := func(id, url string) string {
		return `{"media_id":"` + id + `","cdn_url":"` + url + `","file_name":"IMG_5237.jpg","encryption_metadata":` + string(mb) + `}`
	}
	vs, err := media.ParseValues([]byte(`[` + one("790aba14-5f4a-4dbd-aa9e-0d75401da14b", "https://mmg.whatsapp.net/v/x") + `,` + one("b", "https://mmg.whatsapp.net/v/y") + `]`))
	if err != nil || len(vs) != 2 || vs[0].MediaID != "790aba14-5f4a-4dbd-aa9e-0d75401da14b" || vs[0].EncryptionMetadata != meta || vs[1].CDNURL != "https://mmg.whatsapp.net/v/y" {
		t.Fatalf("ParseValues = %+v, %v", vs, err)
	}
	for _, tc := range []struct{ raw, says string }{
		{``, "JSON array"},
		{`null`, "got null"},
		{`{"media_id":"a"}`, "JSON array"},
		{`[` + one("a", "u") + `] x`, "after the array"},
		{`[` + one("a", "u") + `,` + one("a", "v") + `]`, `media_id "a" appears twice`},
		{`[` + one("", "u") + `]`, "media_id is missing"},
		{`[` + one("a\\n", "u") + `]`, "control characters"},
		{`[` + one("a", "") + `]`, "cdn_url is missing"},
		{`[{"media_id":"a","cdn_url":"u","encryption_metadata":{"iv":"x"}}]`, "encryption_metadata.encrypted_hash is missing"},
		{"[" + strings.Repeat(one("a", "u")+",", 30) + one("b", "u") + "]", "more than 30"},
	} {
		_, err := media.ParseValues([]byte(tc.raw))
		if !errors.Is(err, media.ErrMetadata) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ParseValues(%.50q) = %v; want ErrMetadata saying %q", tc.raw, err, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), meta.EncryptionKey) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
}

// TestReceiveCompleted: a completion's files are fetched through the Graph
// API and stored only when every one passed its sha256, size and type.
func TestReceiveCompleted(t *testing.T) {
	t.Parallel()
	_, _, jpeg := realVector(t)
	pdf := []byte("%PDF-1.7\n%%EOF\n")
	g := fakeGraph(t, map[string][]byte{"jpeg": jpeg, "pdf": pdf}, nil)
	rules := map[string]media.Rules{"photos": media.PhotoPicker(0)}
	value := func(id string, b []byte) map[string]any {
		return map[string]any{"file_name": id + ".bin", "mime_type": "image/jpeg", "sha256": sum(b), "id": id}
	}

	dir := t.TempDir()
	store, _ := media.NewDirStore(dir)
	got, err := media.ReceiveCompleted(t.Context(), g, store, map[string]any{"photos": []any{value("jpeg", jpeg)}, "note": "x"}, rules)
	if err != nil || len(got["photos"]) != 1 || !bytes.Equal(got["photos"][0].Data, jpeg) {
		t.Fatalf("ReceiveCompleted = %v, %v; want the JPEG", got, err)
	}
	if b, err := store.Get(t.Context(), media.Key(jpeg)); err != nil || !bytes.Equal(b, jpeg) {
		t.Fatalf("stored: %v", err)
	}
	if got, err := media.ReceiveCompleted(t.Context(), g, store, map[string]any{"note": "x"}, rules); got != nil || err != nil {
		t.Fatalf("no media: %v %v", got, err)
	}

	for _, tc := range []struct {
		name  string
		value any
		want  error
	}{
		{"a sha256 that differs", []any{value("jpeg", jpeg), map[string]any{"sha256": sum([]byte("x")), "id": "jpeg"}}, media.ErrSHA256},
		{"a PDF in a PhotoPicker", []any{value("jpeg", jpeg), value("pdf", pdf)}, media.ErrType},
		{"not an array", "photo", media.ErrMetadata},
		{"no id", []any{map[string]any{"sha256": sum(pdf)}}, media.ErrMetadata},
	} {
		empty := t.TempDir()
		s, _ := media.NewDirStore(empty)
		got, err := media.ReceiveCompleted(t.Context(), g, s, map[string]any{"photos": tc.value}, rules)
		if !errors.Is(err, tc.want) || got != nil {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
		if n := storedFiles(t, empty); len(n) != 0 {
			t.Errorf("%s: stored %v", tc.name, n)
		}
	}
}
