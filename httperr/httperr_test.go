package httperr_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waflow/waflow/httperr"
)

func logger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func TestWriteText(t *testing.T) {
	log, logs := logger()
	w := httptest.NewRecorder()
	w.Header().Set("Content-Length", "999") // another answer's
	r := httptest.NewRequest(http.MethodPost, "/webhook?hub.verify_token=SECRET", nil)
	cause := fmt.Errorf("checking the signature: %w", fs.ErrPermission)
	e := httperr.New(http.StatusUnauthorized, "bad signature", cause).WithHeader("WWW-Authenticate", "Bearer")
	if got := httperr.Write(w, r, log, httperr.Text, e); got != http.StatusUnauthorized {
		t.Fatalf("Write returned %d", got)
	}
	if w.Code != 401 || w.Body.String() != "bad signature\n" {
		t.Fatalf("answer %d %q", w.Code, w.Body)
	}
	for k, want := range map[string]string{
		"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff",
		"Content-Length": "14", "WWW-Authenticate": "Bearer",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	l := logs.String()
	for _, want := range []string{"level=WARN", `msg="request refused"`, "method=POST", "path=/webhook", "status=401", `error="checking the signature: permission denied"`} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %s:\n%s", want, l)
		}
	}
	// The client's text and the query (a token) are not logged.
	if strings.Contains(l, "SECRET") || strings.Contains(l, "bad signature") {
		t.Errorf("the log shows the query or the client's text:\n%s", l)
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/api", nil)
	httperr.Write(w, r, nil, httperr.JSON, httperr.New(http.StatusBadRequest, `op "<x>": unknown`, nil))
	// json.Encoder's form: HTML characters escaped, a trailing newline.
	if w.Code != 400 || w.Body.String() != `{"error":"op \"\u003cx\u003e\": unknown"}`+"\n" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %q %q", w.Code, w.Body, w.Header().Get("Content-Type"))
	}
}

// An empty Msg is an answer without a body (the data endpoint's 432).
func TestWriteEmpty(t *testing.T) {
	for _, f := range []httperr.Format{httperr.Text, httperr.JSON} {
		w := httptest.NewRecorder()
		w.Header().Set("Content-Type", "text/html") // set before the handler failed
		httperr.Write(w, httptest.NewRequest(http.MethodPost, "/", nil), nil, f, httperr.New(432, "", errors.New("signature")))
		if w.Code != 432 || w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" || w.Header().Get("Content-Length") != "0" {
			t.Fatalf("format %d: %d %q %v", f, w.Code, w.Body, w.Header())
		}
	}
}

// An error that is not an *Error is a 500 whose text the client never sees;
// an *Error deep in a chain is found.
func TestWriteOtherErrors(t *testing.T) {
	log, logs := logger()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	httperr.Write(w, r, log, httperr.Text, errors.New("dial tcp 10.0.0.7:5432: connection refused"))
	if w.Code != 500 || w.Body.String() != "internal error\n" {
		t.Fatalf("answer %d %q", w.Code, w.Body)
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, `msg="request failed"`) || !strings.Contains(l, "connection refused") {
		t.Fatalf("log %s", l)
	}

	w = httptest.NewRecorder()
	wrapped := fmt.Errorf("handler: %w", httperr.New(http.StatusConflict, "already booked", nil))
	httperr.Write(w, r, nil, httperr.Text, wrapped)
	if w.Code != 409 || w.Body.String() != "already booked\n" {
		t.Fatalf("wrapped: %d %q", w.Code, w.Body)
	}

	w = httptest.NewRecorder()
	httperr.Write(w, r, nil, httperr.Text, nil)
	if w.Code != 500 {
		t.Fatalf("nil error: %d", w.Code)
	}
	w = httptest.NewRecorder()
	httperr.Write(w, r, nil, httperr.Text, &httperr.Error{Msg: "no code"})
	if w.Code != 500 {
		t.Fatalf("no code: %d", w.Code)
	}
}

func TestErrorChain(t *testing.T) {
	e := httperr.New(http.StatusServiceUnavailable, "busy", fs.ErrClosed)
	if !errors.Is(e, fs.ErrClosed) {
		t.Error("errors.Is does not find the logged error")
	}
	if got := e.Error(); got != "503 busy: file already closed" {
		t.Errorf("Error() = %q", got)
	}
	if got := httperr.New(432, "", fs.ErrClosed).Error(); got != "432: file already closed" {
		t.Errorf("Error() without a message = %q", got)
	}
	if got := httperr.From(fmt.Errorf("x: %w", e)); got != e {
		t.Errorf("From = %v", got)
	}
}

func TestLevel(t *testing.T) {
	for status, want := range map[int]slog.Level{400: slog.LevelWarn, 404: slog.LevelWarn, 500: slog.LevelError, 502: slog.LevelError, 503: slog.LevelWarn, 504: slog.LevelError} {
		if got := httperr.Level(status); got != want {
			t.Errorf("Level(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestWriteCodedJSON(t *testing.T) {
	for _, tc := range []struct {
		e    *httperr.Error
		want string
	}{
		{httperr.New(http.StatusBadRequest, "cursor is not one of ours", nil).WithKind("bad_cursor"),
			`{"error":{"code":"bad_cursor","message":"cursor is not one of ours"}}`},
		{httperr.New(http.StatusTooManyRequests, "slow down", nil),
			`{"error":{"code":"too_many_requests","message":"slow down"}}`},
		{httperr.New(http.StatusRequestEntityTooLarge, "too big", nil),
			`{"error":{"code":"request_entity_too_large","message":"too big"}}`},
	} {
		w := httptest.NewRecorder()
		httperr.Write(w, httptest.NewRequest("GET", "/api/v1/x", nil), nil, httperr.CodedJSON, tc.e)
		if got := strings.TrimSpace(w.Body.String()); got != tc.want || w.Code != tc.e.Code || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%d %q (%s), want %d %s", w.Code, got, w.Header().Get("Content-Type"), tc.e.Code, tc.want)
		}
	}
}
