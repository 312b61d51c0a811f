package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	// freeport VAR: sets VAR to a TCP port free on 127.0.0.1, for a
	// server the script starts in the background.
	scriptCmds["freeport"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: freeport VAR")
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		ts.Setenv(args[0], strconv.Itoa(port))
	}
}

// TestPreviewCommand runs "waflow preview FILE" and plays the file's flow
// through its API: a flow without an endpoint needs no server.
func TestPreviewCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hello.json")
	os.WriteFile(file, []byte(`{"version": "7.3", "screens": [{"id": "HELLO", "title": "Hello", "terminal": true,
	  "layout": {"type": "SingleColumnLayout", "children": [
	    {"type": "TextInput", "name": "name", "label": "Name", "required": true},
	    {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {"name": "${form.name}"}}}]}}]}`), 0o644)
	var out bytes.Buffer
	env := &Env{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	o := &browserPreviewOptions{listen: "127.0.0.1:0", target: targetConfig{dataDir: filepath.Join(dir, "none"), addr: "127.0.0.1:9"}}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runBrowserPreview(ctx, env, []string{file}, o, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("preview stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("preview did not start")
	}
	base := "http://" + addr + "/preview/"
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `href="/preview/flow/hello"`) {
		t.Errorf("index does not list the file's flow:\n%s", page)
	}
	post := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(base+"api/flows/hello/"+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, m)
		}
		return m
	}
	a := post("start", nil)
	a = post("act", map[string]any{"state": a["state"], "flow_token": a["flow_token"], "token_seal": a["token_seal"], "op": "submit", "form": map[string]any{"name": "Ada"}})
	c, _ := a["state"].(map[string]any)["completion"].(map[string]any)
	if c == nil || c["response_json"].(map[string]any)["name"] != "Ada" {
		t.Errorf("completion = %v", a["state"])
	}
	if !strings.Contains(out.String(), "waflow preview: http://"+addr+"/preview/ (1 flows") {
		t.Errorf("stdout = %q", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("preview returned %v after shutdown", err)
	}
}
