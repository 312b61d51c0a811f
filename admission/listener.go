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
// open at once (DefaultMaxConns when max <= 0). Each open connection costs
// the server a goroutine and its buffers whatever it sends, so their number
// is what bounds that memory.
//
// At the limit, a connection idle between two requests is closed to make
// room (given the listener's ConnState as http.Server.ConnState; without it
// none is known to be idle): clients that keep connections open cannot
// hold every place. When none is idle, the new connection is not served:
// its request's header is read, it is answered 503 with Retry-After
// (retryAfter, in whole seconds) and closed.
func LimitListener(ln net.Listener, max int, retryAfter time.Duration) *Listener {
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
	return &Listener{
		Listener: ln,
		slots:    make(chan struct{}, max),
		refusing: make(chan struct{}, refusers),
		refusal:  []byte(refusal),
		idle:     map[net.Conn]struct{}{},
	}
}

// Listener is the listener LimitListener returns.
type Listener struct {
	net.Listener
	slots    chan struct{} // one per open connection
	refusing chan struct{} // one per connection being refused
	refusal  []byte

	mu   sync.Mutex
	idle map[net.Conn]struct{} // served connections waiting for a request
}

// ConnState records which connections are idle; set it as the
// http.Server's ConnState.
func (l *Listener) ConnState(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == http.StateIdle {
		l.idle[c] = struct{}{}
	} else {
		delete(l.idle, c)
	}
}

// Accept returns the next connection within the limit, closing an idle one
// to make room when it must; connections it cannot make room for are
// refused meanwhile.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.take() {
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
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

// take takes a place, closing an idle connection for it if there is none.
func (l *Listener) take() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	l.mu.Lock()
	var victim net.Conn
	for c := range l.idle {
		victim = c
		delete(l.idle, c)
		break
	}
	l.mu.Unlock()
	if victim == nil {
		return false
	}
	victim.Close() // a limitConn: gives its place back
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// refuse answers c 503 once its request's header has arrived (a client
// that is still writing would otherwise miss the answer) and closes it.
func (l *Listener) refuse(c net.Conn) {
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
