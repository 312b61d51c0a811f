package admission

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxConns is a default for LimitListener's max.
const DefaultMaxConns = 1024

// refusers bounds the connections being answered 503 at once; past it a
// connection over the limit is closed without an answer.
const refusers = 64

// refuseTimeout bounds the time spent answering a connection over the limit.
const refuseTimeout = 2 * time.Second

// LimitListener returns a listener that hands out at most max connections
// open at once (DefaultMaxConns when max <= 0). A connection past that is
// not served: its request's header is read, it is answered 503 with
// Retry-After (retryAfter, in whole seconds) and closed. Each open
// connection costs the server a goroutine and its buffers whatever it sends,
// so their number is what bounds that memory.
func LimitListener(ln net.Listener, max int, retryAfter time.Duration) net.Listener {
	if max <= 0 {
		max = DefaultMaxConns
	}
	if retryAfter <= 0 {
		retryAfter = DefaultRetryAfter
	}
	msg := "server busy: too many connections; retry later\n"
	refusal := "HTTP/1.1 503 Service Unavailable\r\n" +
		"Retry-After: " + formatRetryAfter(retryAfter) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: " + strconv.Itoa(len(msg)) + "\r\n" +
		"Connection: close\r\n\r\n" + msg
	return &limitListener{
		Listener: ln,
		slots:    make(chan struct{}, max),
		refusing: make(chan struct{}, refusers),
		refusal:  []byte(refusal),
	}
}

type limitListener struct {
	net.Listener
	slots    chan struct{} // one per open connection
	refusing chan struct{} // one per connection being refused
	refusal  []byte
}

// Accept returns the next connection within the limit; connections over it
// are refused meanwhile.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
		}
		select {
		case l.refusing <- struct{}{}:
			go func() {
				defer func() { <-l.refusing }()
				l.refuse(c)
			}()
		default:
			c.Close()
		}
	}
}

// refuse answers c 503 once its request's header has arrived (a client
// that is still writing would otherwise miss the answer) and closes it.
func (l *limitListener) refuse(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(refuseTimeout))
	br := bufio.NewReaderSize(c, 4<<10)
	if _, err := http.ReadRequest(br); err != nil {
		return
	}
	if _, err := c.Write(l.refusal); err != nil {
		return
	}
	// Half-close and read a little of what the client still sends, so that
	// closing with unread bytes does not reset the connection before the
	// client has read the answer.
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	io.CopyN(io.Discard, c, 256<<10)
}

// limitConn gives its slot back when closed (once, however often Close is
// called).
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes the connection when it can: net/http does so
// before closing a connection it answered early (a refusal of the budget),
// so that the client reads the answer rather than a reset.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
