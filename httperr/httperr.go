// Package httperr is the one error type of waflow's HTTP handlers and the
// helper that answers it.
//
// An [Error] keeps apart what the client is told (Msg) and what the server
// logs (Err): a handler can say "bad request" to the sender and log why,
// or log a store's failure without showing it. It carries the status code
// and any headers the answer needs (Retry-After, Allow). [Write] answers an
// error in the handler's format ([Text] or [JSON]) and logs it in one line.
//
// The logged text is the wrapped error's: it must never hold keys, secrets,
// flow tokens or submitted values. A handler that wraps an error which may
// quote the request (a JSON syntax error, a value) wraps a description of
// it instead. The client's text is never logged, since it may quote the
// request, and neither is the query string, which may carry a token.
//
// The package imports only the standard library, so that any handler,
// waflow's or a library user's, can use it.
package httperr

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Error is an HTTP error answer.
type Error struct {
	// Code is the HTTP status; 500 when zero.
	Code int
	// Msg is the text the client sees; empty for an answer without a
	// body.
	Msg string
	// Err is what is logged, never sent: the cause, wrapped with context.
	// It must not hold secrets or submitted values.
	Err error
	// Header holds headers the answer needs besides its Content-Type, e.g.
	// Retry-After.
	Header http.Header
	// Kind is a short machine-readable name of the error, such as
	// "bad_cursor", for the CodedJSON format; when empty, the status text in
	// snake case ("too_many_requests").
	Kind string
}

// New returns an Error answering code with msg, which logs err (nil for
// none).
func New(code int, msg string, err error) *Error {
	return &Error{Code: code, Msg: msg, Err: err}
}

// WithKind sets the error's Kind and returns e.
func (e *Error) WithKind(kind string) *Error {
	e.Kind = kind
	return e
}

// WithHeader sets a header of the answer and returns e.
func (e *Error) WithHeader(key, value string) *Error {
	if e.Header == nil {
		e.Header = http.Header{}
	}
	e.Header.Set(key, value)
	return e
}

// Error returns the status, the client's text and the logged error.
func (e *Error) Error() string {
	s := strconv.Itoa(e.code())
	if e.Msg != "" {
		s += " " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the logged error, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// kind is Kind, or the status text in snake case.
func (e *Error) kind() string {
	if e.Kind != "" {
		return e.Kind
	}
	k := strings.ToLower(http.StatusText(e.code()))
	k = strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(k)
	if k == "" {
		return "error"
	}
	return k
}

func (e *Error) code() int {
	if e.Code == 0 {
		return http.StatusInternalServerError
	}
	return e.Code
}

// Format is how a handler writes its error answers.
type Format int

const (
	// Text answers Msg and a newline as text/plain, as http.Error does.
	Text Format = iota
	// JSON answers {"error": Msg} as application/json.
	JSON
	// CodedJSON answers {"error": {"code": Kind, "message": Msg}} as
	// application/json: the HTTP API's errors (package api).
	CodedJSON
)

// internal is what the client is told of an error that is not an *Error.
const internal = "internal error"

// From returns the *Error in err's chain; for any other error (or nil), a
// 500 that tells the client "internal error" and logs err, whose text must
// then be fit for the log.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	if err == nil {
		err = errors.New("httperr: no error given")
	}
	return &Error{Code: http.StatusInternalServerError, Msg: internal, Err: err}
}

// Write answers err (see From) on w in format f, with the error's headers,
// and logs it on log at Level(status): the method, the path, the status,
// the logged error and attrs. With a nil log nothing is logged, for a
// handler that logs each request its own way. It returns the status.
func Write(w http.ResponseWriter, r *http.Request, log *slog.Logger, f Format, err error, attrs ...slog.Attr) int {
	e := From(err)
	code := e.code()
	var body []byte
	if e.Msg != "" {
		if f == JSON {
			var b bytes.Buffer
			// An Encoder, not Marshal, for the trailing newline.
			json.NewEncoder(&b).Encode(struct {
				Error string `json:"error"`
			}{e.Msg})
			body = b.Bytes()
		} else if f == CodedJSON {
			type coded struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			}
			var b bytes.Buffer
			json.NewEncoder(&b).Encode(struct {
				Error coded `json:"error"`
			}{coded{e.kind(), e.Msg}})
			body = b.Bytes()
		} else {
			body = []byte(e.Msg + "\n")
		}
	}
	h := w.Header()
	for k, v := range e.Header {
		h[k] = append([]string(nil), v...)
	}
	if len(body) > 0 {
		if f == JSON || f == CodedJSON {
			h.Set("Content-Type", "application/json")
		} else {
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
		h.Set("X-Content-Type-Options", "nosniff")
	} else {
		h.Del("Content-Type") // an empty answer has no type (432)
	}
	// The length of this answer, not of whatever the handler had set.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)

	if log != nil {
		level := Level(code)
		ctx := r.Context()
		if log.Enabled(ctx, level) {
			a := make([]slog.Attr, 0, 4+len(attrs))
			a = append(a, slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", code))
			if e.Err != nil {
				a = append(a, slog.String("error", e.Err.Error()))
			}
			a = append(a, attrs...)
			msg := "request refused"
			if level == slog.LevelError {
				msg = "request failed"
			}
			log.LogAttrs(ctx, level, msg, a...)
		}
	}
	return code
}

// Level is the level an answer with status is logged at: Error for a
// server failure (5xx), Warn for a refusal (4xx, and 503, which refuses
// for load or readiness and is no failure).
func Level(status int) slog.Level {
	if status >= 500 && status != http.StatusServiceUnavailable {
		return slog.LevelError
	}
	return slog.LevelWarn
}
