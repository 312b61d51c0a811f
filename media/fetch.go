package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultCDNHosts is the default host allow-list of a Fetcher: WhatsApp's
// CDN, where Meta's documentation shows cdn_url
// (https://mmg.whatsapp.net/..., protocol.md §2.9). An entry starting with
// a dot matches the hosts under it; any other entry matches exactly.
var DefaultCDNHosts = []string{".whatsapp.net"}

// DefaultTimeout bounds one file's download when Options.Timeout is 0. The
// data endpoint must answer within 10 s (protocol.md §3.2), so a file that
// takes longer would be useless anyway.
const DefaultTimeout = 8 * time.Second

// maxRedirects bounds the redirects a download follows; each is checked
// against the allow-list like the first URL.
const maxRedirects = 3

// Options configures a Fetcher. The zero value is ready for production.
type Options struct {
	// AllowedHosts is the host allow-list for cdn_url and every redirect;
	// DefaultCDNHosts when nil. Tests list "127.0.0.1" here (with
	// HTTPClient trusting their TLS server): the default never admits an
	// IP address.
	AllowedHosts []string
	// HTTPClient downloads; a client with http.DefaultTransport when nil.
	// Its CheckRedirect is replaced by the allow-list check.
	HTTPClient *http.Client
	// Timeout bounds each file's download, from the request to the last
	// byte; DefaultTimeout when 0.
	Timeout time.Duration
	// Logger receives one line per file: media id, host, sizes, type,
	// duration and, for a refusal, the reason. Never keys, hashes, file
	// contents or the URL's query. slog.Default() when nil.
	Logger *slog.Logger
}

// Fetcher downloads, checks and decrypts the files of PhotoPicker and
// DocumentPicker values sent to the data endpoint. It is safe for
// concurrent use.
type Fetcher struct {
	hosts   []string
	client  *http.Client
	timeout time.Duration
	log     *slog.Logger
}

// File is a media file that passed every check.
type File struct {
	// MediaID is the file's media_id (for completion media, its Cloud
	// API media id).
	MediaID string
	// FileName is the name the user's device gave; untrusted, for display.
	FileName string
	// MIMEType is the type sniffed from the content, one the rules allow.
	MIMEType string
	// SHA256 is the lowercase hex SHA-256 of Data: its key in a Store.
	SHA256 string
	// Data is the decrypted file.
	Data []byte
}

// NewFetcher returns a Fetcher for opts. It refuses an allow-list entry
// that is not a bare host name (a scheme, a port, a path) or is empty.
func NewFetcher(opts Options) (*Fetcher, error) {
	f := &Fetcher{hosts: DefaultCDNHosts, timeout: opts.Timeout, log: opts.Logger}
	if opts.AllowedHosts != nil {
		f.hosts = nil
		for _, h := range opts.AllowedHosts {
			bare := strings.TrimPrefix(h, ".")
			if bare == "" || strings.ContainsAny(bare, ":/?#@ ") || strings.HasPrefix(bare, ".") {
				return nil, fmt.Errorf("media: allowed host %q: want a host name, or .domain for the hosts under it", h)
			}
			f.hosts = append(f.hosts, strings.ToLower(h))
		}
		if len(f.hosts) == 0 {
			return nil, errors.New("media: AllowedHosts is empty: no CDN could be reached (nil means the default)")
		}
	}
	if f.timeout == 0 {
		f.timeout = DefaultTimeout
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	c := http.Client{Transport: http.DefaultTransport}
	if opts.HTTPClient != nil {
		c = *opts.HTTPClient
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("more than %d redirects", maxRedirects)
		}
		if err := f.checkURL(req.URL); err != nil {
			err.Detail = "redirect: " + err.Detail
			return err
		}
		return nil
	}
	f.client = &c
	return f, nil
}

// allowed reports whether host is on the allow-list.
func (f *Fetcher) allowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range f.hosts {
		if strings.HasPrefix(h, ".") {
			if strings.HasSuffix(host, h) && len(host) > len(h) && net.ParseIP(host) == nil {
				return true
			}
		} else if host == h {
			return true
		}
	}
	return false
}

// checkURL refuses anything but an https URL on an allowed host.
func (f *Fetcher) checkURL(u *url.URL) *FileError {
	switch {
	case u.Scheme != "https" || u.Host == "" || u.User != nil:
		return fileErr("", ErrURL, "%q: want https://host/...", redact(u))
	case !f.allowed(u.Hostname()):
		return fileErr("", ErrHost, "%q is not on the allow-list %v", u.Hostname(), f.hosts)
	}
	return nil
}

// redact is u without its query, fragment and user info: a signed CDN
// URL's query is a credential.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.User = "", "", nil
	return c.String()
}

// Fetch downloads v's file from the CDN and checks it: https and an
// allowed host (redirects too), at most MaxCDNSize of the rules' limit read
// and the rest refused, the deadline, then Decrypt's checks, the plaintext
// size, and the sniffed type against r.AllowedMIMETypes. A refusal is a
// *FileError (MediaID set) naming what was wrong; nothing is kept. A
// malformed r is a plain error.
func (f *Fetcher) Fetch(ctx context.Context, v Value, r Rules) (*File, error) {
	start := time.Now()
	file, err := f.fetch(ctx, v, r)
	attrs := []slog.Attr{slog.String("media_id", v.MediaID), slog.Duration("duration", time.Since(start))}
	if u, perr := url.Parse(v.CDNURL); perr == nil {
		attrs = append(attrs, slog.String("host", u.Hostname()))
	}
	var fe *FileError
	if errors.As(err, &fe) {
		fe.MediaID = v.MediaID
		f.log.LogAttrs(ctx, slog.LevelWarn, "media file refused", append(attrs, slog.String("reason", fe.Reason.Error()), slog.String("error", fe.Error()))...)
	}
	if err != nil {
		return nil, err
	}
	f.log.LogAttrs(ctx, slog.LevelDebug, "media file fetched", append(attrs, slog.String("mime_type", file.MIMEType), slog.Int("bytes", len(file.Data)))...)
	return file, nil
}

func (f *Fetcher) fetch(ctx context.Context, v Value, r Rules) (*File, error) {
	limit, err := r.maxBytes()
	if err != nil {
		return nil, err
	}
	if err := v.check(); err != nil {
		return nil, &FileError{Reason: ErrMetadata, Detail: strings.TrimPrefix(err.Error(), ErrMetadata.Error()+": ")}
	}
	// Malformed keys are refused before any download.
	if _, err := v.EncryptionMetadata.decode(); err != nil {
		return nil, err
	}
	u, err := url.Parse(v.CDNURL)
	if err != nil {
		return nil, fileErr("", ErrURL, "cdn_url does not parse")
	}
	if fe := f.checkURL(u); fe != nil {
		return nil, fe
	}
	cdn, err := f.download(ctx, u, MaxCDNSize(limit))
	if err != nil {
		return nil, err
	}
	plain, err := Decrypt(cdn, v.EncryptionMetadata)
	if err != nil {
		return nil, err
	}
	return check(v.MediaID, v.FileName, plain, limit, r)
}

// check applies the size and type rules to a decrypted file.
func check(id, name string, plain []byte, limit int64, r Rules) (*File, error) {
	if int64(len(plain)) > limit {
		return nil, fileErr(id, ErrTooLarge, "%d bytes, more than max-file-size-kb %d KiB", len(plain), limit/1024)
	}
	t := Sniff(plain)
	if !r.allows(t) {
		return nil, fileErr(id, ErrType, "the content is %s, not one of %v (the file name is not trusted)", t, r.AllowedMIMETypes)
	}
	sum := sha256.Sum256(plain)
	return &File{MediaID: id, FileName: name, MIMEType: t, SHA256: hex.EncodeToString(sum[:]), Data: plain}, nil
}

// download reads u's body, at most max bytes, under the Fetcher's
// deadline.
func (f *Fetcher) download(ctx context.Context, u *url.URL, max int64) ([]byte, error) {
	limit := f.timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = time.Until(d).Round(time.Millisecond) // the caller's deadline is sooner
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	fail := func(err error) error {
		var fe *FileError
		switch {
		case errors.As(err, &fe): // a refused redirect
			return fe
		case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
			return &FileError{Reason: ErrTimeout, Detail: fmt.Sprintf("no complete file within %s", limit)}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL would show the query
		}
		return &FileError{Reason: ErrDownload, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fail(err)
	}
	req.Header.Set("User-Agent", "waflow-media/1")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fileErr("", ErrDownload, "the CDN answered HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > max {
		return nil, fileErr("", ErrTooLarge, "the CDN announces %d bytes, more than the %d a file within max-file-size-kb can take", resp.ContentLength, max)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fail(err)
	}
	if int64(len(b)) > max {
		return nil, fileErr("", ErrTooLarge, "the CDN sent more than the %d bytes a file within max-file-size-kb can take", max)
	}
	return b, nil
}

// Receive fetches and checks v's file (Fetch), then puts it in s (Save). A
// refused file stores nothing.
func (f *Fetcher) Receive(ctx context.Context, v Value, r Rules, s Store) (*File, error) {
	file, err := f.Fetch(ctx, v, r)
	if err != nil {
		return nil, err
	}
	if _, err := Save(ctx, s, file); err != nil {
		return nil, err
	}
	return file, nil
}
