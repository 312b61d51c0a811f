package admission

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/waflow/waflow/httperr"
)

// reader is the handler the tests put behind a Budget: it reads the whole
// body as package webhook does, answers 503 with the refusal's headers when
// the budget is exhausted, and 200 with the number of bytes otherwise.
func reader(started chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if started != nil {
			started <- struct{}{}
		}
		body, err := ReadAll(r.Body)
		var busy *BusyError
		switch {
		case errors.As(err, &busy):
			busy.SetHeaders(w.Header())
			http.Error(w, busy.Error(), http.StatusServiceUnavailable)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			fmt.Fprint(w, len(body))
		}
	})
}

// waitFor waits until cond holds; it fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting, after 10 s, for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// holdBody starts a request whose body arrives in part: it sends sent bytes
// of a body announced as announced bytes (-1: unknown) and waits until the
// budget holds them. Closing the returned writer ends the body there.
func holdBody(t *testing.T, b *Budget, h http.Handler, announced int64, sent int) (*io.PipeWriter, <-chan *httptest.ResponseRecorder) {
	t.Helper()
	before := b.InUse()
	pr, pw := io.Pipe()
	req := httptest.NewRequest(http.MethodPost, "/webhook", pr)
	req.ContentLength = announced
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		done <- w
	}()
	if _, err := pw.Write(make([]byte, sent)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, fmt.Sprintf("%d bytes held", before+int64(sent)), func() bool { return b.InUse() == before+int64(sent) })
	return pw, done
}

func post(h http.Handler, size int, announce bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(make([]byte, size)))
	if !announce {
		req.ContentLength = -1
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestBudgetRefusesPastTheLimit(t *testing.T) {
	b := New(Config{MaxBytes: 100 << 10, Reserve: 10 << 10, SmallBody: 1 << 10, RetryAfter: 1500 * time.Millisecond})
	h := b.Handler(reader(nil))
	pw, done := holdBody(t, b, h, 1<<20, 80<<10)

	// 80 KiB held; large bodies may use 90: 20 more do not fit.
	w := post(h, 20<<10, true)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "2" || w.Header().Get("Connection") != "close" {
		t.Fatalf("over the budget: %d, Retry-After %q, Connection %q, want 503, 2, close", w.Code, w.Header().Get("Retry-After"), w.Header().Get("Connection"))
	}
	if !strings.Contains(w.Body.String(), "server busy") {
		t.Errorf("refusal body %q does not say the server is busy", w.Body.String())
	}
	if got := b.InUse(); got != 80<<10 {
		t.Errorf("after the refusal %d bytes held, want %d: a refused body's bytes are given back", got, 80<<10)
	}
	// 5 KiB fit.
	if w := post(h, 5<<10, true); w.Code != http.StatusOK || w.Body.String() != "5120" {
		t.Errorf("within the budget: %d %q", w.Code, w.Body.String())
	}

	// The held body completes: its bytes are given back.
	pw.Write(make([]byte, 1<<10))
	pw.Close()
	if w := <-done; w.Code != http.StatusOK || w.Body.String() != fmt.Sprint(81<<10) {
		t.Errorf("the held body: %d %q", w.Code, w.Body.String())
	}
	if got := b.InUse(); got != 0 {
		t.Errorf("%d bytes still held after every request ended", got)
	}
	if w := post(h, 60<<10, false); w.Code != http.StatusOK {
		t.Errorf("after the release, a body of 60 KiB: %d", w.Code)
	}
}

// Small bodies (WhatsApp's usual requests) keep the reserve when large ones
// take the rest.
func TestBudgetReserveForSmallBodies(t *testing.T) {
	b := New(Config{MaxBytes: 100 << 10, Reserve: 20 << 10, SmallBody: 4 << 10})
	h := b.Handler(reader(nil))
	pw, done := holdBody(t, b, h, -1, 80<<10)
	defer func() { pw.Close(); <-done }()

	if w := post(h, 2<<10, false); w.Code != http.StatusServiceUnavailable {
		t.Errorf("a body of unknown length when only the reserve is left: %d, want 503", w.Code)
	}
	if w := post(h, 8<<10, true); w.Code != http.StatusServiceUnavailable {
		t.Errorf("an announced 8 KiB body (not small) when only the reserve is left: %d, want 503", w.Code)
	}
	for range 3 {
		if w := post(h, 4<<10, true); w.Code != http.StatusOK {
			t.Errorf("a small body: %d, want 200", w.Code)
		}
	}
}

// A client that goes away mid-body gives its bytes back.
func TestBudgetReleasedWhenTheClientDisconnects(t *testing.T) {
	b := New(Config{MaxBytes: 1 << 20})
	ended := make(chan struct{})
	srv := httptest.NewServer(b.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(ended)
		reader(nil).ServeHTTP(w, r)
	})))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 3<<20)
	c.Write(make([]byte, 100<<10))
	waitFor(t, "100 KiB held", func() bool { return b.InUse() == 100<<10 })
	c.Close()
	<-ended
	// The budget's wrapper gives the bytes back just after the handler
	// returns (which closed ended), so wait for it rather than race it.
	waitFor(t, "the bytes given back after the client went away", func() bool { return b.InUse() == 0 })
}

// Requests that carry no body do not touch the budget.
func TestBudgetBodilessRequests(t *testing.T) {
	b := New(Config{MaxBytes: 1 << 10})
	var got int64 = -1
	h := b.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = b.InUse() }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/webhook?hub.mode=subscribe", nil))
	if got != 0 {
		t.Errorf("a GET held %d bytes", got)
	}
}

func TestOnIdleAfterABurst(t *testing.T) {
	idle := make(chan struct{}, 10)
	b := New(Config{MaxBytes: 100 << 10, IdleDelay: time.Millisecond, OnIdle: func() { idle <- struct{}{} }})
	h := b.Handler(reader(nil))
	// Small traffic is no burst.
	post(h, 1<<10, true)
	// A burst: a quarter of the budget held at once.
	pw, done := holdBody(t, b, h, -1, 30<<10)
	select {
	case <-idle:
		t.Fatal("OnIdle was called while the budget was in use")
	default:
	}
	pw.Close()
	<-done
	<-idle // fails by the test's timeout if never called
	post(h, 1<<10, true)
	time.Sleep(20 * time.Millisecond)
	select {
	case <-idle:
		t.Fatal("OnIdle called again with no new burst")
	default:
	}
}

func TestReadAll(t *testing.T) {
	for _, size := range []int{0, 1, firstChunk - 1, firstChunk, firstChunk + 1, 28 << 10, 60<<10 + 7, 3 << 20} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i * 7)
		}
		for name, r := range map[string]io.Reader{
			"whole":        bytes.NewReader(want),
			"byte by byte": iotest.OneByteReader(bytes.NewReader(want)),
			"data and EOF": iotest.DataErrReader(bytes.NewReader(want)),
		} {
			if size > 100<<10 && name == "byte by byte" {
				continue
			}
			got, err := ReadAll(r)
			if err != nil || !bytes.Equal(got, want) || len(got) != cap(got) {
				t.Errorf("%d bytes, %s: got %d bytes (cap %d), %v", size, name, len(got), cap(got), err)
			}
		}
	}
	boom := errors.New("boom")
	if _, err := ReadAll(io.MultiReader(bytes.NewReader(make([]byte, 10<<10)), iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("a failing reader: %v", err)
	}
}

func TestLimitListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(LimitListener(ln, 2, 3*time.Second))
	defer srv.Close()
	addr := ln.Addr().String()

	get := func(c net.Conn) (*http.Response, error) {
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if resp, err := get(c); err != nil || resp.StatusCode != 200 {
			t.Fatalf("a connection within the limit: %v, %v", resp, err)
		}
		held = append(held, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := get(c)
	c.Close()
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("a third connection: %v, %v; want 503 with Retry-After 3", resp, err)
	}
	// A connection closed frees its place.
	held[0].Close()
	waitFor(t, "a place for a new connection", func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		resp, err := get(c)
		return err == nil && resp.StatusCode == http.StatusOK
	})
}

// At the limit, a connection idle between requests makes room for a new
// one; connections in the middle of a request do not.
func TestLimitListenerClosesIdleConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	limited := LimitListener(ln, 2, time.Second)
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body); io.WriteString(w, "ok") }),
		ConnState: limited.ConnState,
	}
	go srv.Serve(limited)
	defer srv.Close()
	addr := ln.Addr().String()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	get := func(c net.Conn, br *bufio.Reader) (*http.Response, error) {
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}

	// One connection is idle after its request, one is in the middle of one.
	idle, idleR := dial()
	if resp, err := get(idle, idleR); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first connection: %v, %v", resp, err)
	}
	busy, _ := dial()
	fmt.Fprintf(busy, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
	waitFor(t, "the idle connection known as idle", func() bool {
		limited.mu.Lock()
		defer limited.mu.Unlock()
		return len(limited.idle) == 1
	})

	// A third connection gets the idle one's place.
	c, br := dial()
	if resp, err := get(c, br); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a third connection, one of two idle: %v, %v; want 200", resp, err)
	}
	if _, err := get(idle, idleR); err == nil {
		t.Errorf("the idle connection still serves after it made room")
	}
	// The third connection is idle in its turn, the busy one still is
	// not: a fourth connection takes the third's place.
	waitFor(t, "the third connection known as idle", func() bool {
		limited.mu.Lock()
		defer limited.mu.Unlock()
		return len(limited.idle) == 1
	})
	c4, br4 := dial()
	if resp, err := get(c4, br4); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a fourth connection: %v, %v; want 200", resp, err)
	}
	// The busy connection was never closed: it finishes its request.
	fmt.Fprintf(busy, "67890")
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the connection in the middle of a request: %v, %v", resp, err)
	}
}

// A refusal for load as an httperr answer: 503, the error's text, the
// headers SetHeaders sets.
func TestBusyErrorAsHTTPError(t *testing.T) {
	busy := &BusyError{RetryAfter: 1500 * time.Millisecond}
	w := httptest.NewRecorder()
	httperr.Write(w, httptest.NewRequest(http.MethodPost, "/webhook", nil), nil, httperr.Text, fmt.Errorf("reading the body: %w", busy.HTTPError()))
	if w.Code != 503 || w.Body.String() != busy.Error()+"\n" || w.Header().Get("Retry-After") != "2" || w.Header().Get("Connection") != "close" {
		t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
	}
	if !errors.Is(busy.HTTPError(), busy) {
		t.Fatal("the answer does not wrap the BusyError")
	}
}
