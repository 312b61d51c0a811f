package graph_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waflow/waflow/graph"
)

func b64sum(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// mediaInfo is the answer of GET /{MEDIA_ID} for a file on the fake Graph
// API's own host.
func mediaInfo(s *setup, sum string, size int) reply {
	return ok(`{"messaging_product":"whatsapp","url":"` + s.fake.srv.URL + `/v25.0/attachments/?mid=4490&hash=SIGNED","mime_type":"image/jpeg","sha256":"` + sum + `","file_size":` + strconv.Itoa(size) + `,"id":"4490"}`)
}

// TestDownloadMedia: the metadata is read, the file downloaded from its URL
// with the token, and its SHA-256 checked against Meta's and the caller's.
func TestDownloadMedia(t *testing.T) {
	t.Parallel()
	file := []byte("\xff\xd8\xff\xe0 a completion's photo")
	s := newSetup(t)
	s.fake.replies = []reply{mediaInfo(s, b64sum(file), len(file)), {status: 200, body: string(file), header: map[string]string{"Content-Type": "image/jpeg"}}}
	m, err := s.client.DownloadMedia(t.Context(), "4490", graph.MediaDownload{SHA256: b64sum(file), MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != string(file) || m.Info.MIMEType != "image/jpeg" || m.Info.ID != "4490" {
		t.Errorf("DownloadMedia = %+v, %q; want the file and its metadata", m.Info, m.Data)
	}
	reqs := s.fake.requests()
	if len(reqs) != 2 || reqs[0].Path != "/4490" || reqs[1].Path != "/attachments/" || reqs[1].Query.Get("hash") != "SIGNED" {
		t.Fatalf("requests %v; want GET /4490 then the media URL", summarize(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("%s %s without the access token", r.Method, r.Path)
		}
	}

	// A hex sha256 from the caller is accepted too.
	s = newSetup(t)
	sum := sha256.Sum256(file)
	s.fake.replies = []reply{mediaInfo(s, b64sum(file), len(file)), ok(string(file))}
	if _, err := s.client.DownloadMedia(t.Context(), "4490", graph.MediaDownload{SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Errorf("hex sha256: %v", err)
	}
}

// TestDownloadMediaRefusals: a wrong hash on either side, a foreign or
// plain-http URL, a file over the limit and a missing hash are refused.
func TestDownloadMediaRefusals(t *testing.T) {
	t.Parallel()
	file := []byte("%PDF-1.7 a document")
	other := b64sum([]byte("another file"))
	for _, tc := range []struct {
		name     string
		info     func(s *setup) reply
		body     string
		opts     graph.MediaDownload
		want     error
		requests int
	}{
		{"caller's hash differs", func(s *setup) reply { return mediaInfo(s, b64sum(file), len(file)) }, string(file), graph.MediaDownload{SHA256: other}, graph.ErrMediaHash, 2},
		{"Meta's hash differs", func(s *setup) reply { return mediaInfo(s, other, len(file)) }, string(file), graph.MediaDownload{SHA256: b64sum(file)}, graph.ErrMediaHash, 2},
		{"file altered on the way", func(s *setup) reply { return mediaInfo(s, b64sum(file), len(file)) }, string(file) + "x", graph.MediaDownload{}, graph.ErrMediaHash, 2},
		{"no hash at all", func(s *setup) reply { return mediaInfo(s, "", len(file)) }, "", graph.MediaDownload{}, graph.ErrUnexpectedResponse, 1},
		{"bad caller hash", nil, "", graph.MediaDownload{SHA256: "not-a-hash"}, graph.ErrInvalidRequest, 0},
		{"announced size over the limit", func(s *setup) reply { return mediaInfo(s, b64sum(file), 1<<20) }, "", graph.MediaDownload{MaxBytes: 1000}, graph.ErrMediaTooLarge, 1},
		{"foreign host", func(s *setup) reply {
			return ok(`{"url":"https://evil.example/x?hash=SIGNED","sha256":"` + b64sum(file) + `","id":"4490"}`)
		}, "", graph.MediaDownload{}, graph.ErrUnexpectedResponse, 1},
		{"plain http to a media host", func(s *setup) reply {
			return ok(`{"url":"http://lookaside.fbsbx.com/x?hash=SIGNED","sha256":"` + b64sum(file) + `","id":"4490"}`)
		}, "", graph.MediaDownload{}, graph.ErrUnexpectedResponse, 1},
	} {
		s := newSetup(t)
		if tc.info != nil {
			s.fake.replies = append(s.fake.replies, tc.info(s))
		}
		if tc.body != "" {
			s.fake.replies = append(s.fake.replies, ok(tc.body))
		}
		m, err := s.client.DownloadMedia(t.Context(), "4490", tc.opts)
		if !errors.Is(err, tc.want) || m != nil {
			t.Errorf("%s: DownloadMedia = %v, %v; want %v", tc.name, m, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "SIGNED") || strings.Contains(err.Error(), testToken)) {
			t.Errorf("%s: the error %q shows the URL's signature or the token", tc.name, err)
		}
		if n := len(s.fake.requests()); n != tc.requests {
			t.Errorf("%s: %d requests, want %d", tc.name, n, tc.requests)
		}
	}
}

// TestDownloadMediaBodyOverLimit: a body larger than MaxBytes (Meta's
// file_size understated) is refused while reading and never retried.
func TestDownloadMediaBodyOverLimit(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 5000)
	s := newSetup(t)
	s.fake.replies = []reply{mediaInfo(s, b64sum([]byte(big)), 10), ok(big)}
	_, err := s.client.DownloadMedia(t.Context(), "4490", graph.MediaDownload{MaxBytes: 1000})
	if !errors.Is(err, graph.ErrMediaTooLarge) || !strings.Contains(err.Error(), "more than 1000 bytes") {
		t.Errorf("err = %v; want the answer refused as larger than 1000 bytes", err)
	}
	if n := len(s.fake.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (no retry of an oversized download)", n)
	}
}

// TestDownloadMediaLookasideHost: Meta's media host gets the token (it
// requires it); the connection is redirected to a local TLS server.
func TestDownloadMediaLookasideHost(t *testing.T) {
	t.Parallel()
	file := []byte("GIF89a a gif")
	var auth atomic.Value
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		w.Write(file)
	}))
	t.Cleanup(cdn.Close)
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test server's certificate is not for lookaside.fbsbx.com
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == "lookaside.fbsbx.com:443" {
				addr = cdn.Listener.Addr().String()
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	s := newSetupWith(t, func(o *graph.Options) { o.HTTPClient = &http.Client{Transport: tr} },
		ok(`{"url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=4490","sha256":"`+b64sum(file)+`","file_size":12,"id":"4490"}`))
	m, err := s.client.DownloadMedia(t.Context(), "4490", graph.MediaDownload{})
	if err != nil || string(m.Data) != string(file) {
		t.Fatalf("DownloadMedia = %v, %v", m, err)
	}
	if a, _ := auth.Load().(string); a != "Bearer "+testToken {
		t.Errorf("the media host got Authorization %q, want the access token", a)
	}
}

// TestDownloadMediaErrorAnswer: Meta's error answer on the download is
// read whole and reported as an *Error, even when longer than MaxBytes.
func TestDownloadMediaErrorAnswer(t *testing.T) {
	t.Parallel()
	file := []byte("x")
	s := newSetup(t)
	s.fake.replies = []reply{mediaInfo(s, b64sum(file), 1), graphError(404, 100, "Unsupported get request. "+strings.Repeat("detail ", 40))}
	_, err := s.client.DownloadMedia(t.Context(), "4490", graph.MediaDownload{MaxBytes: 10})
	var e *graph.Error
	if !errors.As(err, &e) || e.Code != 100 || errors.Is(err, graph.ErrMediaTooLarge) {
		t.Errorf("err = %v; want Meta's error 100, not a size refusal", err)
	}
}
