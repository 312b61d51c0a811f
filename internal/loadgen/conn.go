package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// The generator talks HTTP/1.1 itself, one keep-alive connection per
// client, instead of through net/http's Client. The Client runs two
// goroutines per connection and hands every request and answer between
// them and the caller; on a machine the server shares, those hand-offs
// cost the generator more CPU than everything else it does, CPU the server
// then lacks. Here the goroutine that sends a request writes it in one
// system call and reads the answer itself; http.ReadResponse parses the
// answer, so chunked bodies and the like are handled as net/http does.

// target is where the requests go.
type target struct {
	addr       string // host:port to dial
	host       string // Host header
	requestURI string
	tls        *tls.Config // nil for http
	timeout    time.Duration
}

func newTarget(rawURL string, timeout time.Duration, tlsConfig *tls.Config) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: URL: %w", err)
	}
	t := &target{host: u.Host, requestURI: u.RequestURI(), timeout: timeout}
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
		t.tls = &tls.Config{}
		if tlsConfig != nil {
			t.tls = tlsConfig.Clone()
		}
		if t.tls.ServerName == "" {
			t.tls.ServerName = u.Hostname()
		}
		t.tls.NextProtos = []string{"http/1.1"} // this client speaks nothing else
	default:
		return nil, fmt.Errorf("loadgen: URL %q: want http or https", rawURL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("loadgen: URL %q has no host", rawURL)
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	return t, nil
}

// conn is one keep-alive connection, used by one goroutine at a time.
type conn struct {
	nc    net.Conn
	br    *bufio.Reader
	wbuf  []byte       // the request being written
	body  bytes.Buffer // the answer being read
	fresh bool         // no request sent on it yet
}

func (t *target) dial(ctx context.Context) (*conn, error) {
	d := net.Dialer{Timeout: t.timeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	if t.tls != nil {
		tc := tls.Client(nc, t.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, 8<<10), fresh: true}, nil
}

func (c *conn) close() { c.nc.Close() }

// roundTrip sends req and returns the status and body of the answer; body
// is valid until the next roundTrip. keep is false when the connection
// cannot carry another request.
func (c *conn) roundTrip(t *target, req *Request, deadline time.Time) (status int, body []byte, keep bool, err error) {
	c.nc.SetDeadline(deadline)
	w := append(c.wbuf[:0], "POST "...)
	w = append(w, t.requestURI...)
	w = append(w, " HTTP/1.1\r\nHost: "...)
	w = append(w, t.host...)
	w = append(w, "\r\nUser-Agent: waflow-bench\r\nContent-Length: "...)
	w = strconv.AppendInt(w, int64(len(req.Body)), 10)
	w = append(w, "\r\n"...)
	for k, vs := range req.Header {
		for _, v := range vs {
			w = append(w, k...)
			w = append(w, ": "...)
			w = append(w, v...)
			w = append(w, "\r\n"...)
		}
	}
	w = append(w, "\r\n"...)
	w = append(w, req.Body...)
	c.wbuf = w
	c.fresh = false
	if _, err := c.nc.Write(w); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, false, err
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return 0, nil, false, err
	}
	return resp.StatusCode, c.body.Bytes(), !resp.Close, nil
}

// staleConn reports whether err is what a kept-alive connection that the
// server had closed gives: worth one retry on a new connection.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
