package media_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/media"
)

var b64 = base64.StdEncoding.EncodeToString

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return b64(s[:])
}

// realVector returns WhatsApp's CDN file, its metadata and its plaintext
// (protocol.md §8.4).
func realVector(t testing.TB) (cdn []byte, meta media.EncryptionMetadata, plain []byte) {
	t.Helper()
	if err := json.Unmarshal(vectors.Read(t, "media_encryption_metadata.json"), &meta); err != nil {
		t.Fatal(err)
	}
	return vectors.Read(t, "media_cdn_file.bin"), meta, vectors.Read(t, "media_plaintext.jpg")
}

// seal encrypts plain the way WhatsApp does, with fresh keys.
func seal(t *testing.T, plain []byte) ([]byte, media.EncryptionMetadata) {
	t.Helper()
	p := 16 - len(plain)%16
	return sealPadded(t, append(bytes.Clone(plain), bytes.Repeat([]byte{byte(p)}, p)...), plain)
}

// sealPadded encrypts already padded bytes (any padding, valid or not)
// and authenticates them; plaintext_hash is the hash of hashed.
func sealPadded(t *testing.T, padded, hashed []byte) ([]byte, media.EncryptionMetadata) {
	t.Helper()
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
	return cdn, media.EncryptionMetadata{
		EncryptedHash: sum(cdn), IV: b64(iv), EncryptionKey: b64(key), HMACKey: b64(hkey), PlaintextHash: sum(hashed),
	}
}

// cdn is a fake WhatsApp CDN on 127.0.0.1 over TLS. Each path serves a
// file or runs a handler; it records the paths requested.
type cdn struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
	h   map[string]http.HandlerFunc
}

func newCDN(t *testing.T) *cdn {
	t.Helper()
	c := &cdn{h: map[string]http.HandlerFunc{}}
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

// file serves b at path and returns its URL, with a signed-looking query
// that must never show in an error or a log.
func (c *cdn) file(path string, b []byte) string {
	c.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
	return c.srv.URL + path + "?oh=SECRETSIG&oe=1"
}

func (c *cdn) handle(path string, h http.HandlerFunc) {
	c.mu.Lock()
	c.h[path] = h
	c.mu.Unlock()
}

func (c *cdn) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// fetcher returns a Fetcher that trusts the fake CDN: 127.0.0.1 is listed
// explicitly, and the client trusts the test certificate. The log goes to
// the returned buffer.
func (c *cdn) fetcher(t *testing.T, timeout time.Duration) (*media.Fetcher, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	f, err := media.NewFetcher(media.Options{
		AllowedHosts: []string{"127.0.0.1"},
		HTTPClient:   c.srv.Client(),
		Timeout:      timeout,
		Logger:       slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, log
}

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

// storedFiles lists the regular files under dir.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// secrets are the strings of meta that must never appear in an error or
// a log line.
func secrets(m media.EncryptionMetadata) []string {
	return []string{m.EncryptionKey, m.HMACKey, m.IV, m.EncryptedHash, m.PlaintextHash, "SECRETSIG"}
}

func leaks(text string, m media.EncryptionMetadata) string {
	for _, s := range secrets(m) {
		if s != "" && strings.Contains(text, s) {
			return s
		}
	}
	return ""
}
