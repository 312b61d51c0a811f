package endpoint

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowtoken"
)

// What the endpoint logs of an error that comes from a handler, a token
// validator or a notification hook is built so that a submitted value
// cannot reach the log, whatever the error's text holds: such an error is
// never logged by its Error(). The log gets, from the error and everything
// it wraps,
//
//   - error_kind: the kinds of the *HandlerError values in the chain, texts
//     that are constants in the program's source (see Fail);
//   - error_is: the texts of the well-known sentinel errors in the chain
//     (context.DeadlineExceeded, waflow.ErrNotFound, flowtoken.ErrExpired,
//     ...), fixed texts matched by identity, not by errors.Is, so a wrapper
//     never lends its own text;
//   - error_types: the Go types of the chain, e.g. *fmt.wrapError >
//     *strconv.NumError.
//
// A handler that wants its failure described in the log returns
// Fail("kind", err).

// constText is a string that can only be written as a constant by callers
// outside this package: they cannot name the type, so a string variable
// (one built with fmt.Sprintf from the request, say) does not convert to
// it, while an untyped string constant does.
type constText string

// Fail returns an error for a handler to return when it cannot answer: the
// endpoint answers 500 and logs kind, e.g. "booking store unavailable",
// along with the types of err's chain. err's own text is never logged (it
// may hold submitted values) but stays in the chain for errors.Is and
// errors.As. kind must be a string constant: the parameter's type accepts
// no string variable, so text built from a request cannot become a kind.
func Fail(kind constText, err error) error {
	return &HandlerError{kind: string(kind), err: err}
}

// HandlerError is the error Fail returns: a failure with a kind fixed in
// the program's source, which the endpoint logs, and the error it wraps,
// which the endpoint does not log.
type HandlerError struct {
	kind string
	err  error
}

// Kind returns the log-safe description given to Fail.
func (e *HandlerError) Kind() string {
	if e == nil {
		return ""
	}
	return e.kind
}

// Error returns the kind and the wrapped error's text. The endpoint does not
// log it; other code that logs it logs the wrapped error's text.
func (e *HandlerError) Error() string {
	switch {
	case e == nil:
		return "<nil>"
	case e.err == nil:
		return e.kind
	}
	return e.kind + ": " + e.err.Error()
}

// Unwrap returns the wrapped error.
func (e *HandlerError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.err
}

// knownErrors are sentinels whose fixed text is safe to log.
var knownErrors = []error{
	context.Canceled, context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF,
	waflow.ErrNotFound, waflow.ErrConflict, waflow.ErrTokenUsed, waflow.ErrTokenExpired,
	waflow.ErrLeaseLost, waflow.ErrInvalid, waflow.ErrClosed,
	flowtoken.ErrMalformed, flowtoken.ErrForged, flowtoken.ErrExpired, flowtoken.ErrWrongFlow,
	flowtoken.ErrJWTMalformed, flowtoken.ErrJWTAlgorithm, flowtoken.ErrJWTSignature,
	flowtoken.ErrJWTMismatch, flowtoken.ErrJWTExpired,
}

// maxErrorNodes bounds the walk of an error tree.
const maxErrorNodes = 32

// errorAttrs describes err for the log without its text (see Fail).
func errorAttrs(err error) []slog.Attr {
	var kinds, known, types []string
	n := 0
	var walk func(error)
	walk = func(e error) {
		if e == nil || n >= maxErrorNodes {
			return
		}
		n++
		types = append(types, fmt.Sprintf("%T", e))
		if he, ok := e.(*HandlerError); ok && he != nil {
			kinds = append(kinds, he.kind)
		}
		for _, k := range knownErrors {
			// Sentinels are pointers, so == compares identity and cannot
			// panic on an error type that is not comparable.
			if e == k {
				known = append(known, k.Error())
				break
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		}
	}
	func() {
		// Unwrap is the handler's code: one that panics ends the walk,
		// not the request.
		defer func() {
			if recover() != nil {
				types = append(types, "(Unwrap panicked)")
			}
		}()
		walk(err)
	}()
	var attrs []slog.Attr
	if len(kinds) > 0 {
		attrs = append(attrs, slog.String("error_kind", strings.Join(kinds, ": ")))
	}
	if len(known) > 0 {
		attrs = append(attrs, slog.String("error_is", strings.Join(known, ", ")))
	}
	return append(attrs, slog.String("error_types", strings.Join(types, " > ")))
}

// panicAttrs describes a recovered panic for the log. A runtime error (nil
// map, index out of range, failed type assertion) says what went wrong in
// terms of the program; any other value may have been built from the
// request, so only its type, or its chain as an error, is logged. The
// stack's function lines lose their argument words, which can be submitted
// numbers.
func panicAttrs(v any, stack []byte) []slog.Attr {
	var attrs []slog.Attr
	switch p := v.(type) {
	case runtime.Error:
		attrs = append(attrs, slog.String("panic", p.Error()))
	case error:
		attrs = append(attrs, slog.String("panic", fmt.Sprintf("%T", p)))
		attrs = append(attrs, errorAttrs(p)...)
	default:
		attrs = append(attrs, slog.String("panic", fmt.Sprintf("%T", v)))
	}
	return append(attrs, slog.String("stack", stackWithoutArgs(stack)))
}

// stackWithoutArgs replaces the argument list of each function line of a
// goroutine dump, "pkg.f(0x2a, {0xc000012345, 0x5})", with "(...)". The
// file lines (indented with a tab) and the "goroutine N" and "created by"
// lines are kept.
func stackWithoutArgs(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if l == "" || l[0] == '\t' || !strings.HasSuffix(l, ")") || strings.HasPrefix(l, "goroutine ") {
			continue
		}
		if j := strings.LastIndexByte(l, '('); j > 0 {
			lines[i] = l[:j] + "(...)"
		}
	}
	return strings.Join(lines, "\n")
}
