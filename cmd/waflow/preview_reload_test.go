package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPreviewReloadsChangedFile: "waflow preview FILE" serves the file's new
// version once it is saved, and keeps the last good one when the saved
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
	var logs syncBuffer
	env := &Env{Stdout: io.Discard, Stderr: &logs, Getenv: func(string) string { return "" }}
	o := &browserPreviewOptions{listen: "127.0.0.1:0", target: targetConfig{dataDir: filepath.Join(dir, "none"), addr: "127.0.0.1:9"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runBrowserPreview(ctx, env, []string{file}, o, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("preview stopped: %v", err)
	}
	source := func() string {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/preview/api/flows/hello/source")
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
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("preview: %v", err)
	}
}
