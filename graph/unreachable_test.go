package graph_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/waflow/waflow/graph"
)

// TestUnreachableIsNotRetried: a host whose name does not resolve, that no
// route leads to, or that refuses from another machine fails at once with
// ErrUnreachable; a local refusal and a timeout are retried as before.
func TestUnreachableIsNotRetried(t *testing.T) {
	t.Parallel()
	dialErr := func(ip string, errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 443}, Err: os.NewSyscallError("connect", errno)}
	}
	for _, tc := range []struct {
		name        string
		err         error
		unreachable bool
	}{
		{"name not found", &net.DNSError{Err: "no such host", Name: "graph.facebook.invalid", IsNotFound: true}, true},
		{"no route to host", dialErr("203.0.113.7", syscall.EHOSTUNREACH), true},
		{"network unreachable", dialErr("203.0.113.7", syscall.ENETUNREACH), true},
		{"remote refusal", dialErr("203.0.113.7", syscall.ECONNREFUSED), true},
		{"local refusal", dialErr("127.0.0.1", syscall.ECONNREFUSED), false},
		{"DNS server timeout", &net.DNSError{Err: "i/o timeout", Name: "graph.facebook.com", IsTimeout: true}, false},
		{"connection reset", dialErr("203.0.113.7", syscall.ECONNRESET), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var dials atomic.Int32
			s := newSetupWith(t, func(o *graph.Options) {
				o.HTTPClient = &http.Client{Transport: &http.Transport{
					DialContext: func(context.Context, string, string) (net.Conn, error) {
						dials.Add(1)
						return nil, tc.err
					},
				}}
			})
			_, err := s.client.GetFlow(t.Context(), "8812", nil)
			if err == nil {
				t.Fatal("GetFlow succeeded through a failing dialer")
			}
			if got := errors.Is(err, graph.ErrUnreachable); got != tc.unreachable {
				t.Errorf("errors.Is(%v, ErrUnreachable) = %v, want %v", err, got, tc.unreachable)
			}
			want := int32(3) // the setup's MaxAttempts
			if tc.unreachable {
				want = 1
			}
			if n := dials.Load(); n != want {
				t.Errorf("%d attempts, want %d", n, want)
			}
			if !graph.IsTemporary(err) {
				t.Errorf("IsTemporary(%v) = false: a worker should still try again later", err)
			}
		})
	}
}
