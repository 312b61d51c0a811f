package app

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/registry"
)

// syncBuffer is a bytes.Buffer safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPreviewReloadsChangedFile: the preview of a file serves the file's
// new version once it is saved, and keeps the last good one when the saved
// file does not validate.
func TestPreviewReloadsChangedFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hello.json")
	flowJSON := func(title string) []byte {
		return []byte(`{"version": "7.3", "screens": [{"id": "HELLO", "title": "` + title + `", "terminal": true,
	  "layout": {"type": "SingleColumnLayout", "children": [
	    {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {}}}]}}]}`)
	}
	// Each write gets a later modification time, so the change shows even
	// on file systems with coarse timestamps.
	mod := time.Now()
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		mod = mod.Add(2 * time.Second)
		if err := os.Chtimes(file, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	write(flowJSON("First version"))
	load := func() (*registry.Registry, error) {
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		r := registry.New()
		return r, r.Add(&registry.Flow{Name: "hello", Source: src, Origin: registry.OriginFile})
	}
	var logs syncBuffer
	h, err := NewReloadingPreview([]string{file}, load, PreviewConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	source := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL + "/preview/api/flows/hello/source")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := source(); !strings.Contains(got, "First version") {
		t.Fatalf("source before the change: %s", got)
	}
	write(flowJSON("Second version"))
	if got := source(); !strings.Contains(got, "Second version") {
		t.Fatalf("source after the file changed: %s, want the new version", got)
	}
	write([]byte(`{"version": "7.3", "screens": []}`))
	if got := source(); !strings.Contains(got, "Second version") {
		t.Fatalf("source after an invalid save: %s, want the last good version", got)
	}
	if !strings.Contains(logs.String(), "was not reloaded") {
		t.Errorf("the invalid save was not reported:\n%s", logs.String())
	}
}
