package simulator

import (
	"bytes"
	"fmt"
	"net/http"
)

// recorder is the http.ResponseWriter of an in-process Handler (Config.
// Handler, WebhookOptions.Handler): the status and body it answers. It
// stands in for httptest.ResponseRecorder so that programs linking the
// simulator do not link net/http/httptest.
type recorder struct {
	header http.Header
	code   int // 0 until WriteHeader or Write
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}

func (r *recorder) WriteHeader(code int) {
	if r.code != 0 {
		return
	}
	if code < 100 || code > 999 {
		// As net/http and httptest do: a handler bug, not an answer.
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	r.code = code
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// Flush lets handlers that flush as they write run in-process too.
func (r *recorder) Flush() { r.WriteHeader(http.StatusOK) }

// status is the answer's HTTP status: 200 for a handler that wrote
// nothing, as net/http sends.
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// serve calls h with req and returns its status and body.
func serve(h http.Handler, req *http.Request) (int, []byte) {
	var rec recorder
	h.ServeHTTP(&rec, req)
	return rec.status(), rec.body.Bytes()
}
