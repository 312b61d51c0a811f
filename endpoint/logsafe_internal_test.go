package endpoint

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A goroutine dump prints each frame's argument words, which can be
// submitted numbers; the log keeps the frames and drops the words.
func TestStackWithoutArgs(t *testing.T) {
	in := "goroutine 7 [running]:\n" +
		"github.com/x/y.(*T).save(0xc000123456, 0x1267, {0xc000abc000, 0x1b})\n" +
		"\t/src/y.go:12 +0x3d\n" +
		"panic({0x7a2f40?, 0xc00001c0a0?})\n" +
		"\t/usr/local/go/src/runtime/panic.go:860 +0x13a\n" +
		"created by net/http.(*Server).Serve in goroutine 1\n" +
		"\t/usr/local/go/src/net/http/server.go:3464 +0x485\n"
	want := "goroutine 7 [running]:\n" +
		"github.com/x/y.(*T).save(...)\n" +
		"\t/src/y.go:12 +0x3d\n" +
		"panic(...)\n" +
		"\t/usr/local/go/src/runtime/panic.go:860 +0x13a\n" +
		"created by net/http.(*Server).Serve in goroutine 1\n" +
		"\t/usr/local/go/src/net/http/server.go:3464 +0x485\n"
	if got := stackWithoutArgs([]byte(in)); got != want {
		t.Errorf("stackWithoutArgs =\n%s\nwant\n%s", got, want)
	}
}

// selfWrap is an error whose chain never ends.
type selfWrap struct{}

func (e *selfWrap) Error() string { return "loop" }
func (e *selfWrap) Unwrap() error { return e }

func TestErrorAttrs(t *testing.T) {
	text := func(err error) string {
		var b strings.Builder
		for _, a := range errorAttrs(err) {
			fmt.Fprintf(&b, "%s=%s;", a.Key, a.Value)
		}
		return b.String()
	}
	err := fmt.Errorf("secret-1: %w", Fail("outer", errors.Join(Fail("inner", nil), fmt.Errorf("secret-2: %w", errNoHandler))))
	got := text(err)
	want := "error_kind=outer: inner;error_types=*fmt.wrapError > *endpoint.HandlerError > *errors.joinError > *endpoint.HandlerError > *fmt.wrapError > *errors.errorString;"
	if got != want {
		t.Errorf("errorAttrs = %s\nwant %s", got, want)
	}
	// A chain that wraps itself ends at the bound.
	if got := text(&selfWrap{}); strings.Count(got, "*endpoint.selfWrap") != maxErrorNodes {
		t.Errorf("errorAttrs of a cycle = %s", got)
	}
	var nilHE *HandlerError
	if got := text(fmt.Errorf("x: %w", nilHE)); strings.Contains(got, "error_kind") {
		t.Errorf("errorAttrs of a nil *HandlerError = %s", got)
	}
}

// panicUnwrap is an error whose Unwrap panics.
type panicUnwrap struct{}

func (panicUnwrap) Error() string { return "x" }
func (panicUnwrap) Unwrap() error { panic("bug in Unwrap") }

func TestErrorAttrsSurvivesAPanickingUnwrap(t *testing.T) {
	attrs := errorAttrs(fmt.Errorf("a: %w", panicUnwrap{}))
	got := attrs[len(attrs)-1].Value.String()
	if want := "*fmt.wrapError > endpoint.panicUnwrap > (Unwrap panicked)"; got != want {
		t.Errorf("error_types = %q, want %q", got, want)
	}
}
