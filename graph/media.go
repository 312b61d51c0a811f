package graph

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrMediaHash means a downloaded media file's SHA-256 differs from the one
// Meta announced (in the webhook or in the media's metadata): the file was
// altered or truncated and must not be used.
var ErrMediaHash = errors.New("graph: media SHA-256 mismatch")

// ErrMediaTooLarge means a media file is larger than MediaDownload.MaxBytes,
// as announced by Meta or found while reading it.
var ErrMediaTooLarge = errors.New("graph: media file too large")

// MediaHosts lists the hosts, besides the Graph API's own, to which
// DownloadMedia sends the access token: Meta's media URLs
// (https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=...) need
// it. A media URL on any other host is refused, never fetched.
var MediaHosts = []string{"lookaside.fbsbx.com"}

// MediaInfo is what GET /{MEDIA_ID} answers: a short-lived download URL
// (it expires after about five minutes) and the file's type, hash and size.
type MediaInfo struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	FileSize int64  `json:"file_size"`
}

// Media is a downloaded media file whose SHA-256 was checked.
type Media struct {
	Info MediaInfo
	Data []byte
}

// MediaDownload says what DownloadMedia checks.
type MediaDownload struct {
	// SHA256 is the hash the caller was given with the media id (a flow
	// completion's response_json carries it, base64; hex is accepted too).
	// When set the file must match it, in addition to the hash in Meta's
	// metadata; when empty Meta's must be present.
	SHA256 string
	// MaxBytes refuses a larger file, before and during the download.
	// 0 means MaxResponseBytes.
	MaxBytes int64
}

// GetMedia returns the metadata of a media id, with its download URL. A
// read: retried like the others.
func (c *Client) GetMedia(ctx context.Context, mediaID string) (*MediaInfo, error) {
	if err := checkID("media ID", mediaID); err != nil {
		return nil, fmt.Errorf("graph: get media: %w", err)
	}
	var m MediaInfo
	if err := c.do(ctx, &call{op: "get media " + mediaID, method: "GET", segments: []string{mediaID}}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// DownloadMedia fetches the metadata of mediaID, downloads the file from its
// URL with the access token (only over https to the Graph API's host or one
// of MediaHosts) and checks its SHA-256 against Meta's metadata and against
// opts.SHA256; a mismatch is ErrMediaHash. A file larger than opts.MaxBytes
// is refused (ErrMediaTooLarge), before the download when Meta announces
// its size and while reading otherwise; it is not retried. Used for the
// media of flow completions (protocol.md §2.9: PhotoPicker and
// DocumentPicker values in response_json).
func (c *Client) DownloadMedia(ctx context.Context, mediaID string, opts MediaDownload) (*Media, error) {
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = MaxResponseBytes
	}
	var want [][]byte
	if opts.SHA256 != "" {
		b, err := decodeSHA256(opts.SHA256)
		if err != nil {
			return nil, fmt.Errorf("graph: download media %s: %w: the expected sha256: %w", mediaID, ErrInvalidRequest, err)
		}
		want = append(want, b)
	}
	info, err := c.GetMedia(ctx, mediaID)
	if err != nil {
		return nil, err
	}
	op := "download media " + mediaID
	if info.SHA256 != "" {
		b, err := decodeSHA256(info.SHA256)
		if err != nil {
			return nil, fmt.Errorf("graph: %s: %w: Meta's sha256: %w", op, ErrUnexpectedResponse, err)
		}
		want = append(want, b)
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("graph: %s: %w: no sha256 to check the file against", op, ErrUnexpectedResponse)
	}
	if info.FileSize > limit {
		return nil, fmt.Errorf("graph: %s: %w: the file has %d bytes, more than the %d allowed", op, ErrMediaTooLarge, info.FileSize, limit)
	}
	u, err := url.Parse(info.URL)
	if err != nil || u.Host == "" || !c.mediaHost(u) {
		shown, _, _ := strings.Cut(info.URL, "?") // the query is a credential
		return nil, fmt.Errorf("graph: %s: %w: media url %q is not https on the Graph API's or a Meta media host", op, ErrUnexpectedResponse, shown)
	}
	var data []byte
	cl := &call{op: op, method: "GET", download: u, auth: true, limit: limit}
	if err := c.do(ctx, cl, &data); err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, fmt.Errorf("%w: %w", ErrMediaTooLarge, err)
		}
		return nil, err
	}
	sum := sha256.Sum256(data)
	for _, w := range want {
		if subtle.ConstantTimeCompare(sum[:], w) != 1 {
			return nil, fmt.Errorf("graph: %s: %w: %d bytes downloaded", op, ErrMediaHash, len(data))
		}
	}
	return &Media{Info: *info, Data: data}, nil
}

// mediaHost reports whether the access token may go to u: the Graph API's
// own scheme and host, or https to one of MediaHosts.
func (c *Client) mediaHost(u *url.URL) bool {
	if u.Scheme == c.base.Scheme && u.Host == c.base.Host {
		return true
	}
	if u.Scheme != "https" {
		return false
	}
	for _, h := range MediaHosts {
		if strings.EqualFold(u.Host, h) {
			return true
		}
	}
	return false
}

// decodeSHA256 reads a SHA-256 given as standard base64 (what webhooks send)
// or as 64 hex digits.
func decodeSHA256(s string) ([]byte, error) {
	if len(s) == 2*sha256.Size {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("%q is not a SHA-256 in base64 or hex", s)
	}
	return b, nil
}
