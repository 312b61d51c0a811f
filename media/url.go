package media

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow/httperr"
)

// DefaultURLLifetime is how long a signed media URL stays valid when
// NewURLSigner is given 0: long enough for a backend to fetch the file it
// was just told about, short enough that a leaked URL soon opens nothing.
const DefaultURLLifetime = 10 * time.Minute

// URLPath is where Handler serves the stored files: URLPath + key.
const URLPath = "/media/"

// URLSigner makes and checks short-lived signed URLs to the files of a
// Store, for a backend that is told about a file (package forward) and
// fetches it from waflow: GET /media/{key}?expires=UNIX&sig=HMAC. The
// HMAC-SHA256 covers the key and the expiry; every replica that shares the
// secret serves the URL.
type URLSigner struct {
	key  []byte
	base string
	ttl  time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// NewURLSigner returns a signer keyed by secret (at least 32 bytes; fail
// closed: no secret, no URLs). baseURL is waflow's public URL
// (https://flows.example.com), "" for URLs that are paths only; ttl is
// DefaultURLLifetime when 0.
func NewURLSigner(secret []byte, baseURL string, ttl time.Duration) (*URLSigner, error) {
	if len(secret) < 32 {
		return nil, errors.New("media: a URL-signing secret of at least 32 bytes is required")
	}
	if ttl <= 0 {
		ttl = DefaultURLLifetime
	}
	return &URLSigner{key: secret, base: strings.TrimSuffix(baseURL, "/"), ttl: ttl}, nil
}

func (s *URLSigner) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *URLSigner) mac(key string, expires int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "waflow-media\n%s\n%d", key, expires)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// URL returns a URL to the file under key, valid for the signer's lifetime.
func (s *URLSigner) URL(key string) string {
	exp := s.now().Add(s.ttl).Unix()
	return s.base + URLPath + key + "?expires=" + strconv.FormatInt(exp, 10) + "&sig=" + s.mac(key, exp)
}

// Errors of Verify.
var (
	ErrURLSignature = errors.New("media: the URL's signature does not verify")
	ErrURLExpired   = errors.New("media: the URL has expired")
)

// Verify checks a URL's expires and sig for key, in constant time.
func (s *URLSigner) Verify(key, expires, sig string) error {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || sig == "" || strconv.FormatInt(exp, 10) != expires {
		return ErrURLSignature
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac(key, exp))) {
		return ErrURLSignature
	}
	if s.now().Unix() > exp {
		return ErrURLExpired
	}
	return nil
}

// Handler serves GET URLPath{key} from store for URLs signed by s: 403
// without a valid signature or past the expiry, 400 for a path that is not
// a key, 404 when the file is not stored. The body is the file, with a
// generic content type and nosniff: the type was told with the URL.
func (s *URLSigner) Handler(store Store, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			httperr.Write(w, r, log, httperr.Text, httperr.New(http.StatusMethodNotAllowed, "media files are read with GET", nil))
			return
		}
		key := strings.TrimPrefix(r.URL.Path, URLPath)
		if checkKey(key) != nil {
			httperr.Write(w, r, log, httperr.Text, httperr.New(http.StatusBadRequest, "not a media key (64 lowercase hex digits)", nil))
			return
		}
		q := r.URL.Query()
		if err := s.Verify(key, q.Get("expires"), q.Get("sig")); err != nil {
			httperr.Write(w, r, log, httperr.Text, httperr.New(http.StatusForbidden, strings.TrimPrefix(err.Error(), "media: "), err))
			return
		}
		b, err := store.Get(r.Context(), key)
		switch {
		case errors.Is(err, ErrNotFound):
			httperr.Write(w, r, log, httperr.Text, httperr.New(http.StatusNotFound, "no media file under this key", err))
			return
		case err != nil:
			httperr.Write(w, r, log, httperr.Text, httperr.New(http.StatusInternalServerError, "cannot read the media file", err))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	})
}
