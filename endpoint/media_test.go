package endpoint_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/racedetect"
	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/media"
	"github.com/waflow/waflow/signature"
)

// mediaFlowJSON is a DocumentPicker screen whose Footer sends the files to
// the endpoint (protocol.md §2.9, §6.7): at most 1 KiB, JPEG or PDF, the
// per-file errors bound to ${data.doc_errors}.
const mediaFlowJSON = `{
  "version": "7.0",
  "data_api_version": "3.0",
  "routing_model": {"DOCS": ["DONE"]},
  "screens": [
    {
      "id": "DOCS",
      "title": "Your documents",
      "data": {
        "doc_errors": {"type": "object", "properties": {}, "__example__": {"m1": "Too large"}}
      },
      "layout": {"type": "SingleColumnLayout", "children": [
        {"type": "DocumentPicker", "name": "docs", "label": "Receipts",
         "max-file-size-kb": 1, "max-uploaded-documents": 5,
         "allowed-mime-types": ["image/jpeg", "application/pdf"],
         "error-message": "${data.doc_errors}"},
        {"type": "Footer", "label": "Send", "on-click-action": {"name": "data_exchange",
         "payload": {"receipts": "${form.docs}", "note": "sent"}}}
      ]}
    },
    {
      "id": "DONE",
      "title": "Thanks",
      "terminal": true,
      "data": {"count": {"type": "number", "__example__": 1}},
      "layout": {"type": "SingleColumnLayout", "children": [
        {"type": "TextBody", "text": "Received"},
        {"type": "Footer", "label": "Close", "on-click-action": {"name": "complete", "payload": {}}}
      ]}
    }
  ]
}`

// fakeCDN is WhatsApp's CDN on 127.0.0.1 over TLS.
type fakeCDN struct {
	srv *httptest.Server
	mu  sync.Mutex
	h   map[string]http.HandlerFunc
	got []string
}

func newFakeCDN(t *testing.T) *fakeCDN {
	c := &fakeCDN{h: map[string]http.HandlerFunc{}}
	c.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.got = append(c.got, r.URL.Path)
		h := c.h[r.URL.Path]
		c.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// serve puts b at path and returns its URL, with a signed-looking query.
func (c *fakeCDN) serve(path string, b []byte) string {
	c.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
	return c.srv.URL + path + "?oh=SECRETSIG&oe=1"
}

func (c *fakeCDN) handle(path string, h http.HandlerFunc) {
	c.mu.Lock()
	c.h[path] = h
	c.mu.Unlock()
}

func (c *fakeCDN) requested(path string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.got {
		if p == path {
			return true
		}
	}
	return false
}

var b64 = base64.StdEncoding.EncodeToString

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return b64(s[:])
}

// sealMedia encrypts plain as WhatsApp does (AES-256-CBC, PKCS#7, 10-byte
// HMAC over iv‖ciphertext), with fresh keys.
func sealMedia(t *testing.T, plain []byte) ([]byte, media.EncryptionMetadata) {
	t.Helper()
	p := 16 - len(plain)%16
	padded := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(p)}, p)...)
	key, hkey, iv := make([]byte, 32), make([]byte, 32), make([]byte, 16)
	rand.Read(key)
	rand.Read(hkey)
	rand.Read(iv)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	mac := hmac.New(sha256.New, hkey)
	mac.Write(iv)
	mac.Write(ct)
	cdn := append(ct, mac.Sum(nil)[:10]...)
	return cdn, media.EncryptionMetadata{EncryptedHash: sha(cdn), IV: b64(iv), EncryptionKey: b64(key), HMACKey: b64(hkey), PlaintextHash: sha(plain)}
}

// mediaFixture serves mediaFlowJSON at /flows/booking behind ReceiveMedia,
// with a DirStore and a fake CDN.
type mediaFixture struct {
	*fixture
	cdn      *fakeCDN
	dir      string
	mu       sync.Mutex
	calls    []*endpoint.Request // what the DOCS handler received
	observed []string            // MediaConfig.Observe's results
}

func newMediaFixture(t *testing.T, timeout time.Duration) *mediaFixture {
	t.Helper()
	spec, ps := flowjson.ValidateSource([]byte(mediaFlowJSON))
	if ps.HasErrors() {
		t.Fatalf("test Flow JSON: %v", ps)
	}
	k, _ := testKeys(t)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	iss.Now = func() time.Time { return now }
	mf := &mediaFixture{
		fixture: &fixture{issuer: iss, pub: &k.PublicKey, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}},
		cdn:     newFakeCDN(t),
		dir:     t.TempDir(),
	}
	mf.token, _, _ = iss.Issue("booking", "4915112345678")
	logger := slog.New(slog.NewTextHandler(lockedWriter{mf.logMu, mf.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fetcher, err := media.NewFetcher(media.Options{AllowedHosts: []string{"127.0.0.1"}, HTTPClient: mf.cdn.srv.Client(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	store, err := media.NewDirStore(mf.dir)
	if err != nil {
		t.Fatal(err)
	}
	mw, err := endpoint.ReceiveMedia(endpoint.MediaConfig{Spec: spec, Fetcher: fetcher, Store: store, Logger: logger,
		Observe: func(flow, result string) {
			mf.mu.Lock()
			mf.observed = append(mf.observed, flow+":"+result)
			mf.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	flow := endpoint.NewFlowFromJSON("booking", spec)
	flow.Use(endpoint.CheckValues(endpoint.ValueCheck{Spec: spec, Logger: logger}), mw)
	flow.HandleDataExchange("DOCS", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		mf.mu.Lock()
		mf.calls = append(mf.calls, r)
		mf.mu.Unlock()
		return endpoint.Next("DONE", map[string]any{"count": len(r.Media["receipts"])}), nil
	})
	h, err := endpoint.New(endpoint.Config{Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss},
		Timeout: timeout, Logger: logger, Now: func() time.Time { return now }}, flow)
	if err != nil {
		t.Fatal(err)
	}
	mf.srv = httptest.NewServer(h)
	t.Cleanup(mf.srv.Close)
	return mf
}

// submit sends the DOCS screen's data_exchange with files.
func (mf *mediaFixture) submit(t *testing.T, files ...map[string]any) reply {
	t.Helper()
	list := make([]any, len(files))
	for i, f := range files {
		list[i] = f
	}
	return mf.send(t, map[string]any{"version": "3.0", "action": "data_exchange", "screen": "DOCS", "flow_token": mf.token,
		"data": map[string]any{"receipts": list, "note": "sent"}})
}

func (mf *mediaFixture) stored(t *testing.T) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(mf.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	return files
}

func fileValue(id, url, name string, m media.EncryptionMetadata) map[string]any {
	return map[string]any{"media_id": id, "cdn_url": url, "file_name": name, "encryption_metadata": map[string]any{
		"encrypted_hash": m.EncryptedHash, "iv": m.IV, "encryption_key": m.EncryptionKey, "hmac_key": m.HMACKey, "plaintext_hash": m.PlaintextHash}}
}

// realMediaVector is WhatsApp's own PhotoPicker file (testdata/meta-vectors,
// from pywa's tests, protocol.md §8.4).
func realMediaVector(t *testing.T) ([]byte, media.EncryptionMetadata, []byte) {
	var m media.EncryptionMetadata
	if err := json.Unmarshal(vectors.Read(t, "media_encryption_metadata.json"), &m); err != nil {
		t.Fatal(err)
	}
	return vectors.Read(t, "media_cdn_file.bin"), m, vectors.Read(t, "media_plaintext.jpg")
}

// WhatsApp's real file goes through the endpoint: downloaded from the CDN,
// decrypted to its plaintext exactly, stored under its SHA-256, and
// described to the handler, with no key left in its data.
func TestReceiveMediaRealVector(t *testing.T) {
	mf := newMediaFixture(t, 3*time.Second)
	cdnFile, meta, plain := realMediaVector(t)
	url := mf.cdn.serve("/v/real.enc", cdnFile)
	r := mf.submit(t, fileValue("790aba14-real", url, "IMG_5237.jpg", meta))
	if r.status != 200 || r.body["screen"] != "DONE" || get(r.body, "data", "count") != 1.0 {
		t.Fatalf("answer: %d %v, want DONE with count 1", r.status, r.body)
	}
	sum := sha256.Sum256(plain)
	key := hex.EncodeToString(sum[:])
	if len(mf.calls) != 1 {
		t.Fatalf("handler called %d times", len(mf.calls))
	}
	got := mf.calls[0].Media["receipts"]
	want := []endpoint.StoredFile{{MediaID: "790aba14-real", Key: key, MIMEType: "image/jpeg", Size: len(plain), FileName: "IMG_5237.jpg"}}
	if len(got) != 1 || got[0] != want[0] {
		t.Fatalf("Request.Media = %+v, want %+v", got, want)
	}
	var data struct {
		Receipts []endpoint.StoredFile `json:"receipts"`
		Note     string                `json:"note"`
	}
	if err := json.Unmarshal(mf.calls[0].Data, &data); err != nil || len(data.Receipts) != 1 || data.Receipts[0] != want[0] || data.Note != "sent" {
		t.Fatalf("Request.Data = %s, want the stored files and the other values", mf.calls[0].Data)
	}
	if bytes.Contains(mf.calls[0].Data, []byte(meta.EncryptionKey)) || bytes.Contains(mf.calls[0].Data, []byte("SECRETSIG")) {
		t.Fatal("the handler's data still holds the file's key or the CDN URL")
	}
	if strings.Join(mf.observed, ",") != "booking:stored" {
		t.Errorf("observed %v, want one stored file", mf.observed)
	}
	b, err := os.ReadFile(filepath.Join(mf.dir, key[:2], key))
	if err != nil || !bytes.Equal(b, plain) {
		t.Fatalf("stored file: %v; equal to media_plaintext.jpg: %v", err, bytes.Equal(b, plain))
	}
}

// Every way a file can be wrong is refused with the component's per-file
// error-message under its media_id, the handler is not called and nothing
// is stored, not even the good file sent with it.
func TestReceiveMediaRefusals(t *testing.T) {
	t.Parallel() // waits on its own servers; overlaps the others
	// The slow CDN case waits out the whole deadline; the others finish in
	// milliseconds, more under the race detector.
	deadline := 400 * time.Millisecond
	if racedetect.Enabled {
		deadline = 1500 * time.Millisecond
	}
	mf := newMediaFixture(t, deadline)
	_, _, plain := realMediaVector(t)
	goodCDN, goodMeta := sealMedia(t, plain)
	goodURL := mf.cdn.serve("/v/good.enc", goodCDN)
	good := fileValue("good-1", goodURL, "ok.jpg", goodMeta)

	const (
		unreadable = "This file could not be read. Please upload it again."
		tooLarge   = "This file is too large."
		wrongType  = "This type of file is not accepted."
		notFetched = "This file could not be received. Please try again."
	)
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 1
		return b
	}
	type tc struct {
		name   string
		file   func(t *testing.T) map[string]any
		want   string
		code   string // observed
		reason string // in the log
		noGet  bool   // the CDN must not be asked
	}
	sealed := func(plain []byte, mutate func([]byte, media.EncryptionMetadata) ([]byte, media.EncryptionMetadata)) func(t *testing.T) map[string]any {
		return func(t *testing.T) map[string]any {
			cdn, meta := sealMedia(t, plain)
			cdn, meta = mutate(cdn, meta)
			path := "/v/" + strings.ReplaceAll(t.Name(), "/", "_")
			return fileValue("bad-1", mf.cdn.serve(path, cdn), "x.jpg", meta)
		}
	}
	same := func(c []byte, m media.EncryptionMetadata) ([]byte, media.EncryptionMetadata) { return c, m }
	pdfLike := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("0"), 2000)...)
	cases := []tc{
		{name: "flipped ciphertext byte", code: "hmac", want: unreadable, reason: "HMAC mismatch",
			file: sealed(plain, func(c []byte, m media.EncryptionMetadata) ([]byte, media.EncryptionMetadata) {
				c = flip(c, 3)
				m.EncryptedHash = sha(c) // so the HMAC is what catches it
				return c, m
			})},
		{name: "flipped HMAC byte", code: "hmac", want: unreadable, reason: "HMAC mismatch",
			file: sealed(plain, func(c []byte, m media.EncryptionMetadata) ([]byte, media.EncryptionMetadata) {
				c = flip(c, -1)
				m.EncryptedHash = sha(c)
				return c, m
			})},
		{name: "wrong encrypted_hash", code: "encrypted_hash", want: unreadable, reason: "encrypted_hash mismatch",
			file: sealed(plain, func(c []byte, m media.EncryptionMetadata) ([]byte, media.EncryptionMetadata) {
				m.EncryptedHash = sha([]byte("other"))
				return c, m
			})},
		{name: "wrong plaintext_hash", code: "plaintext_hash", want: unreadable, reason: "plaintext_hash mismatch",
			file: sealed(plain, func(c []byte, m media.EncryptionMetadata) ([]byte, media.EncryptionMetadata) {
				m.PlaintextHash = sha([]byte("other"))
				return c, m
			})},
		{name: "wrong type", code: "type", want: wrongType, reason: "file type not allowed",
			file: sealed([]byte("just some text, not a JPEG nor a PDF\n"), same)},
		{name: "over max-file-size-kb", code: "too_large", want: tooLarge, reason: "file too large",
			file: sealed(pdfLike, same)},
		{name: "not https", code: "url", want: unreadable, reason: "cdn_url is not an https URL", noGet: true,
			file: func(t *testing.T) map[string]any {
				return fileValue("bad-1", strings.Replace(goodURL, "https://", "http://", 1), "x.jpg", goodMeta)
			}},
		{name: "foreign host", code: "host", want: unreadable, reason: "cdn_url host is not allowed", noGet: true,
			file: func(t *testing.T) map[string]any {
				return fileValue("bad-1", "https://mmg.evil.example/v/good.enc?oh=SECRETSIG", "x.jpg", goodMeta)
			}},
		{name: "slow CDN", code: "timeout", want: notFetched, reason: "download deadline exceeded",
			file: func(t *testing.T) map[string]any {
				cdn, meta := sealMedia(t, plain)
				mf.cdn.handle("/v/slow.enc", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", strconv.Itoa(len(cdn)))
					w.WriteHeader(200)
					w.Write(cdn[:16])
					w.(http.Flusher).Flush()
					<-r.Context().Done() // the rest never comes
				})
				return fileValue("bad-1", mf.cdn.srv.URL+"/v/slow.enc", "x.jpg", meta)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mf.mu.Lock()
			before, logged, seen := len(mf.calls), len(mf.logText()), len(mf.observed)
			mf.mu.Unlock()
			bad := c.file(t)
			r := mf.submit(t, good, bad)
			if r.status != 200 || r.body["screen"] != "DOCS" {
				t.Fatalf("answer: %d %v, want 200 and DOCS again", r.status, r.body)
			}
			errs, _ := get(r.body, "data", "doc_errors").(map[string]any)
			if len(errs) != 1 || errs["bad-1"] != c.want {
				t.Fatalf("doc_errors = %v, want {bad-1: %q}", errs, c.want)
			}
			if get(r.body, "data", "error_message") != c.want {
				t.Errorf("snackbar = %v, want %q", get(r.body, "data", "error_message"), c.want)
			}
			mf.mu.Lock()
			calls, observed := len(mf.calls), strings.Join(mf.observed[seen:], ",")
			mf.mu.Unlock()
			if calls != before {
				t.Fatal("the handler was called with a refused file")
			}
			if observed != "booking:"+c.code {
				t.Errorf("observed %q, want booking:%s (the good file is not stored, so not counted)", observed, c.code)
			}
			if s := mf.stored(t); len(s) != 0 {
				t.Fatalf("stored %v after a refusal", s)
			}
			logs := mf.logText()[logged:]
			if l := logLine(logs, `msg="media files refused"`); !strings.Contains(l, c.reason) || !strings.Contains(l, "bad-1") {
				t.Errorf("the refusal line lacks %q:\n%s", c.reason, logs)
			}
			for _, secret := range []string{"SECRETSIG", goodMeta.EncryptionKey, goodMeta.HMACKey} {
				if strings.Contains(logs, secret) {
					t.Fatalf("the log holds %q", secret)
				}
			}
			if u, _ := bad["cdn_url"].(string); c.noGet && mf.cdn.requested(strings.SplitN(strings.SplitN(u, "//", 2)[1], "/", 2)[1]) {
				t.Errorf("the CDN was asked for a refused URL")
			}
		})
	}
	// The good file alone still goes through.
	if r := mf.submit(t, good); r.status != 200 || r.body["screen"] != "DONE" {
		t.Fatalf("good file alone: %d %v", r.status, r.body)
	}
	if s := mf.stored(t); len(s) != 1 {
		t.Fatalf("stored %v, want the one good file", s)
	}
}

// The files of a request are fetched at once, under one deadline: three
// files the CDN takes 500 ms each to send all arrive within a request
// deadline of 1.5 s (1.2 s for the files), which one after the other
// (1.5 s) would not.
func TestReceiveMediaConcurrently(t *testing.T) {
	t.Parallel() // waits on its own servers; overlaps the others
	mf := newMediaFixture(t, 1500*time.Millisecond)
	_, _, plain := realMediaVector(t)
	var files []map[string]any
	for i := range 3 {
		cdn, meta := sealMedia(t, append(bytes.Clone(plain), byte(i))) // three distinct files
		path := "/v/slow" + strconv.Itoa(i)
		mf.cdn.handle(path, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(500 * time.Millisecond)
			w.Write(cdn)
		})
		files = append(files, fileValue("m"+strconv.Itoa(i), mf.cdn.srv.URL+path, "r.jpg", meta))
	}
	r := mf.submit(t, files...)
	if r.status != 200 || r.body["screen"] != "DONE" || get(r.body, "data", "count") != 3.0 {
		t.Fatalf("answer: %d %v, want DONE with the 3 files", r.status, r.body)
	}
	if s := mf.stored(t); len(s) != 3 {
		t.Fatalf("stored %d files, want 3", len(s))
	}
}
