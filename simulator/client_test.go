package simulator_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/simulator"
)

// TestWaitReady: a listening endpoint ends the wait at once; an address
// nobody listens on is retried until the wait is over, and the error says
// so and wraps the transport error.
func TestWaitReady(t *testing.T) {
	h := flowtest.NewHarness(t, catalogSpec(t, "appointment_booking"), bookingEndpoint(&bookingRequests{}), flowtest.HarnessOptions{})
	c, err := simulator.NewClient(h.Config(h.Token(t, "15550000001")))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(t.Context(), time.Second); err != nil {
		t.Fatalf("a served endpoint: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := h.Config("token")
	cfg.URL = "http://" + addr + "/flows/appointment_booking"
	c, err = simulator.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.WaitReady(t.Context(), 300*time.Millisecond)
	var te *simulator.TransportError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "did not answer within 300ms") {
		t.Errorf("nobody listening: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("gave up after %s, before the wait was over", d)
	}
}

// TestHandlerAnswers: an in-process Handler answers as over HTTP: a
// handler that writes nothing is a 200, the first status wins, and the
// body is kept.
func TestHandlerAnswers(t *testing.T) {
	spec, problems := flowjson.ValidateSource([]byte(signupFlow))
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	for _, c := range []struct {
		name   string
		h      http.HandlerFunc
		status int
		text   string
	}{
		{"nothing", func(http.ResponseWriter, *http.Request) {}, 200, ""},
		{"body", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }, 200, ""},
		{"status", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(503)
			w.WriteHeader(200)
			io.WriteString(w, "busy")
		}, 503, `HTTP 503 ("busy")`},
	} {
		cl, err := simulator.NewClient(simulator.Config{Flow: spec, FlowToken: "token-1"})
		if err != nil {
			t.Fatal(err)
		}
		s := simulator.NewSession(cl)
		s.Start(t.Context())
		s.Fill(map[string]any{"first_name": "Ada"})
		s.Submit(t.Context())
		s.Submit(t.Context())
		st, err := s.DeliverCompletion(t.Context(), simulator.WebhookOptions{Handler: c.h, AppSecret: []byte("s")})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if st.Status != c.status || (c.text == "") != st.OK() || (c.text != "" && !strings.Contains(st.Err().Error(), c.text)) {
			t.Errorf("%s: status %d, err %v; want %d %q", c.name, st.Status, st.Err(), c.status, c.text)
		}
	}
}
