package media_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/media"
)

// TestRealVectorDecrypts: WhatsApp's own CDN file decrypts to its
// plaintext exactly (protocol.md §8.4).
func TestRealVectorDecrypts(t *testing.T) {
	t.Parallel()
	cdnFile, meta, want := realVector(t)
	got, err := media.Decrypt(cdnFile, meta)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decrypted %d bytes, want the %d bytes of media_plaintext.jpg", len(got), len(want))
	}
}

// TestFetchRealVector: the real vector served by a fake CDN on 127.0.0.1 is
// downloaded, decrypted, typed by its content and stored.
func TestFetchRealVector(t *testing.T) {
	t.Parallel()
	cdnFile, meta, want := realVector(t)
	c := newCDN(t)
	f, log := c.fetcher(t, 5*time.Second)
	store, err := media.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := media.Value{MediaID: "790aba14-5f4a-4dbd-aa9e-0d75401da14b", CDNURL: c.file("/v/t62/photo", cdnFile), FileName: "IMG_5237.pdf", EncryptionMetadata: meta}
	file, err := f.Receive(t.Context(), v, media.PhotoPicker(1), store)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file.Data, want) || file.MIMEType != "image/jpeg" || file.MediaID != v.MediaID || file.FileName != "IMG_5237.pdf" || file.SHA256 != media.Key(want) {
		t.Errorf("Fetch = %s %s %s %s, %d bytes; want the JPEG, typed by content despite its name", file.MediaID, file.FileName, file.MIMEType, file.SHA256, len(file.Data))
	}
	stored, err := store.Get(t.Context(), file.SHA256)
	if err != nil || !bytes.Equal(stored, want) {
		t.Errorf("stored file: %d bytes, %v; want the plaintext", len(stored), err)
	}
	if s := leaks(log.String(), meta); s != "" {
		t.Errorf("the log shows %q:\n%s", s, log)
	}
}

// TestFetchRefusals: each bad file is refused with its reason, says what
// was wrong without key material, and nothing is stored.
func TestFetchRefusals(t *testing.T) {
	t.Parallel()
	realCDN, realMeta, _ := realVector(t)
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[(i+len(b))%len(b)] ^= 0x01
		return b
	}
	pdf := []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 64)...)
	html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	twoKiB := 2 * 1024

	type tc struct {
		name   string
		cdn    []byte                                       // served at /f
		meta   media.EncryptionMetadata                     // sent with it
		rules  media.Rules                                  // PhotoPicker(0) when zero
		url    func(c *cdn) string                          // the cdn_url; /f on the fake CDN when nil
		handle func(w http.ResponseWriter, r *http.Request) // replaces /f's handler
		want   error
		says   string // a piece of the message
		noGet  bool   // refused before any request
	}
	cases := []tc{
		func() tc {
			b := flip(realCDN, 100) // a ciphertext byte
			m := realMeta
			m.EncryptedHash = sum(b) // as if the sender had hashed the altered file
			return tc{name: "flipped ciphertext byte", cdn: b, meta: m, want: media.ErrHMAC, says: "HMAC-SHA256"}
		}(),
		func() tc {
			b := flip(realCDN, -3) // an HMAC byte
			m := realMeta
			m.EncryptedHash = sum(b)
			return tc{name: "flipped HMAC byte", cdn: b, meta: m, want: media.ErrHMAC, says: "HMAC-SHA256"}
		}(),
		{name: "flipped byte, encrypted_hash as sent", cdn: flip(realCDN, 7), meta: realMeta, want: media.ErrEncryptedHash, says: "differs from encrypted_hash"},
		func() tc {
			m := realMeta
			m.EncryptedHash = sum([]byte("another file"))
			return tc{name: "wrong encrypted_hash", cdn: realCDN, meta: m, want: media.ErrEncryptedHash, says: "differs from encrypted_hash"}
		}(),
		func() tc {
			m := realMeta
			m.PlaintextHash = sum([]byte("another file"))
			return tc{name: "wrong plaintext_hash", cdn: realCDN, meta: m, want: media.ErrPlaintextHash, says: "differs from plaintext_hash"}
		}(),
		func() tc {
			padded := append([]byte("0123456789abcdef0123456789"), 6, 6, 6, 6, 5, 6) // one byte of the padding is wrong
			b, m := sealPadded(t, padded, padded[:26])
			return tc{name: "bad PKCS#7 padding", cdn: b, meta: m, want: media.ErrDecrypt, says: "padding"}
		}(),
		func() tc {
			padded := append([]byte("0123456789abcdef"), bytes.Repeat([]byte{0}, 16)...) // padding byte 0
			b, m := sealPadded(t, padded, padded[:16])
			return tc{name: "zero padding byte", cdn: b, meta: m, want: media.ErrDecrypt, says: "padding"}
		}(),
		func() tc {
			b, m := seal(t, exe)
			return tc{name: "executable in a PhotoPicker", cdn: b, meta: m, want: media.ErrType, says: "application/octet-stream"}
		}(),
		func() tc {
			b, m := seal(t, html)
			return tc{name: "HTML as a text document", cdn: b, meta: m, rules: media.DocumentPicker(0, []string{"text/plain", "application/pdf"}), want: media.ErrType, says: "text/html"}
		}(),
		func() tc {
			b, m := seal(t, pdf)
			return tc{name: "PDF in a PhotoPicker", cdn: b, meta: m, want: media.ErrType, says: "application/pdf"}
		}(),
		func() tc {
			_, meta, jpeg := realVector(t)
			_ = meta
			b, m := seal(t, jpeg)
			return tc{name: "JPEG where only PDF is allowed", cdn: b, meta: m, rules: media.DocumentPicker(0, []string{"application/pdf"}), want: media.ErrType, says: "image/jpeg"}
		}(),
		func() tc {
			b, m := seal(t, bytes.Repeat([]byte("a"), twoKiB+1)) // within the CDN limit, one byte over once decrypted
			return tc{name: "plaintext one byte over max-file-size-kb", cdn: b, meta: m, rules: media.DocumentPicker(2, nil), want: media.ErrTooLarge, says: "2049 bytes"}
		}(),
		func() tc {
			b, m := seal(t, bytes.Repeat([]byte("a"), twoKiB+16))
			return tc{name: "CDN file over the limit", cdn: b, meta: m, rules: media.DocumentPicker(2, nil), want: media.ErrTooLarge, says: "announces 2090 bytes"}
		}(),
		{name: "endless CDN file", meta: realMeta, rules: media.PhotoPicker(1), want: media.ErrTooLarge, says: "sent more than the 1050 bytes",
			handle: func(w http.ResponseWriter, r *http.Request) {
				chunk := make([]byte, 512)
				for r.Context().Err() == nil {
					if _, err := w.Write(chunk); err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			}},
		{name: "plain http", cdn: realCDN, meta: realMeta, want: media.ErrURL, says: "want https", noGet: true,
			url: func(c *cdn) string { return strings.Replace(c.srv.URL, "https:", "http:", 1) + "/f?oh=SECRETSIG" }},
		{name: "foreign host", cdn: realCDN, meta: realMeta, want: media.ErrHost, says: `"evil.example" is not on the allow-list`, noGet: true,
			url: func(*cdn) string { return "https://evil.example/f?oh=SECRETSIG" }},
		{name: "unlisted loopback name", cdn: realCDN, meta: realMeta, want: media.ErrHost, says: "localhost", noGet: true,
			url: func(c *cdn) string { return strings.Replace(c.srv.URL, "127.0.0.1", "localhost", 1) + "/f" }},
		{name: "user info in the URL", cdn: realCDN, meta: realMeta, want: media.ErrURL, says: "want https", noGet: true,
			url: func(c *cdn) string {
				return strings.Replace(c.srv.URL, "https://", "https://user:SECRETSIG@", 1) + "/f"
			}},
		{name: "redirect to a foreign host", meta: realMeta, want: media.ErrHost, says: "redirect",
			handle: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://evil.example/x?oh=SECRETSIG", http.StatusFound)
			}},
		{name: "redirect to plain http", meta: realMeta, want: media.ErrURL, says: "redirect",
			handle: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://127.0.0.1/x", http.StatusFound)
			}},
		{name: "CDN answers 404", meta: realMeta, want: media.ErrDownload, says: "HTTP 404",
			handle: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }},
		{name: "slow CDN before the headers", meta: realMeta, want: media.ErrTimeout, says: "no complete file within",
			handle: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }},
		{name: "slow CDN mid-body", meta: realMeta, want: media.ErrTimeout, says: "no complete file within",
			handle: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "458")
				w.Write(realCDN[:100])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}},
		func() tc {
			m := realMeta
			m.IV = b64([]byte("short iv"))
			return tc{name: "iv of the wrong length", cdn: realCDN, meta: m, want: media.ErrMetadata, says: "encryption_metadata.iv has 8 bytes, want 16", noGet: true}
		}(),
		func() tc {
			m := realMeta
			m.EncryptionKey = "not base64!"
			return tc{name: "key not base64", cdn: realCDN, meta: m, want: media.ErrMetadata, says: "encryption_metadata.encryption_key is not standard base64", noGet: true}
		}(),
		func() tc {
			m := realMeta
			m.HMACKey = ""
			return tc{name: "hmac_key missing", cdn: realCDN, meta: m, want: media.ErrMetadata, says: "encryption_metadata.hmac_key is missing", noGet: true}
		}(),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCDN(t)
			timeout := 30 * time.Second // never reached but by the slow CDNs
			if tc.want == media.ErrTimeout {
				timeout = 200 * time.Millisecond
			}
			f, log := c.fetcher(t, timeout)
			dir := t.TempDir()
			store, err := media.NewDirStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			u := c.file("/f", tc.cdn)
			if tc.handle != nil {
				c.handle("/f", tc.handle)
			}
			if tc.url != nil {
				u = tc.url(c)
			}
			rules := tc.rules
			if rules.AllowedMIMETypes == nil {
				rules = media.PhotoPicker(0)
			}
			v := media.Value{MediaID: "m-1", CDNURL: u, FileName: "photo.jpg", EncryptionMetadata: tc.meta}
			file, err := f.Receive(t.Context(), v, rules, store)
			var fe *media.FileError
			if !errors.Is(err, tc.want) || !errors.As(err, &fe) || file != nil {
				t.Fatalf("Receive = %v, %v; want a *FileError for %v", file, err, tc.want)
			}
			if fe.MediaID != "m-1" || !strings.Contains(err.Error(), tc.says) || !strings.HasPrefix(err.Error(), "media m-1: ") {
				t.Errorf("error %q; want it to name media m-1 and say %q", err, tc.says)
			}
			if fe.UserMessage() == "" {
				t.Error("no user message")
			}
			if s := leaks(err.Error(), tc.meta); s != "" {
				t.Errorf("the error shows %q: %v", s, err)
			}
			if s := leaks(log.String(), tc.meta); s != "" {
				t.Errorf("the log shows %q:\n%s", s, log)
			}
			if files := storedFiles(t, dir); len(files) != 0 {
				t.Errorf("stored %v for a refused file", files)
			}
			if got := c.requests(); tc.noGet && len(got) != 0 {
				t.Errorf("the CDN got %v; the file should be refused before any request", got)
			}
		})
	}
}

// TestFetchAtTheSizeLimit: a file of exactly max-file-size-kb is accepted
// (the limit is the plaintext's, the padding and HMAC come on top).
func TestFetchAtTheSizeLimit(t *testing.T) {
	t.Parallel()
	plain := bytes.Repeat([]byte("waflow\n"), 2048)[:2048]
	b, m := seal(t, plain)
	if int64(len(b)) != media.MaxCDNSize(2048) {
		t.Fatalf("a 2048-byte file is %d bytes on the CDN, MaxCDNSize says %d", len(b), media.MaxCDNSize(2048))
	}
	c := newCDN(t)
	f, _ := c.fetcher(t, 5*time.Second)
	file, err := f.Fetch(t.Context(), media.Value{MediaID: "m", CDNURL: c.file("/f", b), EncryptionMetadata: m}, media.DocumentPicker(2, []string{"text/plain"}))
	if err != nil || !bytes.Equal(file.Data, plain) || file.MIMEType != "text/plain" {
		t.Fatalf("Fetch = %v, %v; want the 2048-byte text file", file, err)
	}
}

// TestDefaultAllowList: a Fetcher without options admits WhatsApp's CDN
// (mmg.whatsapp.net, routed here to the fake CDN) and refuses 127.0.0.1:
// tests never weaken the default.
func TestDefaultAllowList(t *testing.T) {
	t.Parallel()
	cdnFile, meta, want := realVector(t)
	c := newCDN(t)
	c.file("/v/t62/photo", cdnFile)
	f, err := media.NewFetcher(media.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Fetch(t.Context(), media.Value{MediaID: "m", CDNURL: c.srv.URL + "/v/t62/photo", EncryptionMetadata: meta}, media.PhotoPicker(0))
	if !errors.Is(err, media.ErrHost) {
		t.Errorf("default Fetcher on 127.0.0.1: %v, want ErrHost", err)
	}

	tr := &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test certificate is not for mmg.whatsapp.net
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != "mmg.whatsapp.net:443" {
				return nil, errors.New("unexpected dial to " + addr)
			}
			return (&net.Dialer{}).DialContext(ctx, network, c.srv.Listener.Addr().String())
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	f, err = media.NewFetcher(media.Options{HTTPClient: &http.Client{Transport: tr}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	file, err := f.Fetch(t.Context(), media.Value{MediaID: "m", CDNURL: "https://mmg.whatsapp.net/v/t62/photo?oh=x", EncryptionMetadata: meta}, media.PhotoPicker(0))
	if err != nil || !bytes.Equal(file.Data, want) {
		t.Fatalf("default Fetcher on mmg.whatsapp.net: %v", err)
	}
	for _, u := range []string{"https://whatsapp.net/x", "https://evilwhatsapp.net/x", "https://mmg.whatsapp.net.evil.example/x", "https://graph.facebook.com/x"} {
		if _, err := f.Fetch(t.Context(), media.Value{MediaID: "m", CDNURL: u, EncryptionMetadata: meta}, media.PhotoPicker(0)); !errors.Is(err, media.ErrHost) {
			t.Errorf("%s: %v, want ErrHost", u, err)
		}
	}
}

// TestNewFetcherOptions: a malformed allow-list and out-of-range rules are
// configuration errors, not file refusals.
func TestNewFetcherOptions(t *testing.T) {
	t.Parallel()
	for _, hosts := range [][]string{{}, {""}, {"https://mmg.whatsapp.net"}, {"mmg.whatsapp.net:443"}, {".."}} {
		if _, err := media.NewFetcher(media.Options{AllowedHosts: hosts}); err == nil {
			t.Errorf("AllowedHosts %q accepted", hosts)
		}
	}
	f, err := media.NewFetcher(media.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, meta, _ := realVector(t)
	for _, kb := range []int{-1, 25601} {
		_, err := f.Fetch(t.Context(), media.Value{MediaID: "m", CDNURL: "https://mmg.whatsapp.net/x", EncryptionMetadata: meta}, media.DocumentPicker(kb, nil))
		var fe *media.FileError
		if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), "max-file-size-kb") {
			t.Errorf("max-file-size-kb %d: %v; want a configuration error", kb, err)
		}
	}
	// No allowed types: everything is refused.
	c := newCDN(t)
	b, m := seal(t, []byte("plain text"))
	cf, _ := c.fetcher(t, 5*time.Second)
	if _, err := cf.Fetch(t.Context(), media.Value{MediaID: "m", CDNURL: c.file("/f", b), EncryptionMetadata: m}, media.Rules{}); !errors.Is(err, media.ErrType) {
		t.Errorf("zero Rules: %v, want ErrType", err)
	}
}
