package forward_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/forward"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/stdwebhooks"
)

// A two-screen flow: WELCOME asks a name, CONFIRM shows it; both submit
// with data_exchange, and the backend completes the flow from CONFIRM.
const twoScreens = `{"version": "7.3", "data_api_version": "3.0",
 "routing_model": {"WELCOME": ["CONFIRM"], "CONFIRM": []},
 "screens": [
  {"id": "WELCOME", "title": "Welcome",
   "data": {"greeting": {"type": "string", "__example__": "Hello"}},
   "layout": {"type": "SingleColumnLayout", "children": [
    {"type": "TextHeading", "text": "${data.greeting}"},
    {"type": "TextInput", "name": "name", "label": "Your name", "required": true},
    {"type": "Footer", "label": "Next", "on-click-action": {"name": "data_exchange", "payload": {"name": "${form.name}"}}}]}},
  {"id": "CONFIRM", "title": "Confirm", "terminal": true,
   "data": {"summary": {"type": "string", "__example__": "Ada"}},
   "layout": {"type": "SingleColumnLayout", "children": [
    {"type": "TextBody", "text": "${data.summary}"},
    {"type": "Footer", "label": "Confirm", "on-click-action": {"name": "data_exchange", "payload": {"confirmed": true}}}]}}]}`

func spec(t *testing.T) *flowjson.Flow {
	t.Helper()
	f, problems := flowjson.ValidateSource([]byte(twoScreens))
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	return f
}

// received is what the test backend saw of one request.
type received struct {
	header http.Header
	body   []byte
	req    forward.Request
}

// backend is a test backend: it verifies each request's signature as a
// backend must (401 when it fails), records it, and answers with answer.
type backend struct {
	t        *testing.T
	verifier *stdwebhooks.Verifier
	answer   func(w http.ResponseWriter, r *forward.Request)

	mu   sync.Mutex
	seen []received
}

func newBackend(t *testing.T, secret string, answer func(w http.ResponseWriter, r *forward.Request)) (*backend, *httptest.Server) {
	v, err := stdwebhooks.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{t: t, verifier: v, answer: answer}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, srv
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := b.verifier.Verify(r.Header, body); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var req forward.Request
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.seen = append(b.seen, received{r.Header.Clone(), body, req})
	b.mu.Unlock()
	b.answer(w, &req)
}

func (b *backend) requests() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.seen...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// twoScreenAnswers is the backend of the two-screen flow, as a backend in
// any language would write it.
func twoScreenAnswers(w http.ResponseWriter, r *forward.Request) {
	var data map[string]any
	json.Unmarshal(r.Data, &data)
	switch {
	case r.Action == "INIT":
		writeJSON(w, 200, map[string]any{"screen": "WELCOME", "data": map[string]any{"greeting": "Hello"}})
	case r.Action == "data_exchange" && r.Screen == "WELCOME":
		writeJSON(w, 200, map[string]any{"screen": "CONFIRM", "data": map[string]any{"summary": "Booking for " + data["name"].(string)}})
	case r.Action == "data_exchange" && r.Screen == "CONFIRM":
		// No flow_token in params: the forwarder adds the request's.
		writeJSON(w, 200, map[string]any{"screen": "SUCCESS", "data": map[string]any{
			"extension_message_response": map[string]any{"params": map[string]any{"booking": 42}}}})
	default:
		http.Error(w, "unexpected request", 400)
	}
}

// observations collects what a forwarder observes.
type observations struct {
	mu  sync.Mutex
	all []forward.Observation
}

func (o *observations) add(x forward.Observation) {
	o.mu.Lock()
	o.all = append(o.all, x)
	o.mu.Unlock()
}

func (o *observations) list() []forward.Observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]forward.Observation(nil), o.all...)
}

// syncBuffer is a log destination safe for the endpoint's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestForwardEndToEnd: the simulator plays the two-screen flow through
// the real endpoint, INIT to SUCCESS, each request forwarded to the
// backend as signed plain JSON with what the contract lists.
func TestForwardEndToEnd(t *testing.T) {
	secret := stdwebhooks.NewSecret()
	be, srv := newBackend(t, secret, twoScreenAnswers)
	var obs observations
	f, err := forward.NewFlow("booking", forward.Config{URL: srv.URL, Secret: secret, Observe: obs.add})
	if err != nil {
		t.Fatal(err)
	}
	h := flowtest.NewHarness(t, spec(t), f, flowtest.HarnessOptions{})
	s := h.Session(t)
	ctx := t.Context()
	if st, err := s.Start(ctx); err != nil || !st.OK() || st.To != "WELCOME" {
		t.Fatalf("INIT: %v %v, to %q", err, st.Err(), st.To)
	}
	if s.Data()["greeting"] != "Hello" {
		t.Errorf("WELCOME data %v", s.Data())
	}
	if err := s.Set("name", "Ada"); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Submit(ctx); err != nil || !st.OK() || st.To != "CONFIRM" {
		t.Fatalf("WELCOME submit: %v %v, to %q", err, st.Err(), st.To)
	}
	if s.Data()["summary"] != "Booking for Ada" {
		t.Errorf("CONFIRM data %v", s.Data())
	}
	st, err := s.Submit(ctx)
	if err != nil || !st.OK() || st.To != "SUCCESS" {
		t.Fatalf("CONFIRM submit: %v %v, to %q", err, st.Err(), st.To)
	}
	c := s.Completion()
	if c == nil {
		t.Fatal("no completion")
	}
	if n, _ := c.ResponseJSON["booking"].(float64); n != 42 {
		t.Errorf("completion params %v", c.ResponseJSON)
	}

	seen := be.requests()
	if len(seen) != 3 {
		t.Fatalf("the backend got %d requests, want 3", len(seen))
	}
	token := seen[0].req.FlowToken
	if token == "" || c.ResponseJSON["flow_token"] != token {
		t.Errorf("flow token %q, completion's %v", token, c.ResponseJSON["flow_token"])
	}
	want := []struct{ action, screen, data string }{
		{"INIT", "", `{}`},
		{"data_exchange", "WELCOME", `{"name":"Ada"}`},
		{"data_exchange", "CONFIRM", `{"confirmed":true}`},
	}
	ids := map[string]bool{}
	for i, r := range seen {
		q := r.req
		if q.Flow != "booking" || q.Action != want[i].action || q.Screen != want[i].screen || compact(t, q.Data) != want[i].data {
			t.Errorf("request %d: %+v, data %s", i, q, q.Data)
		}
		if q.FlowToken != token || !q.FlowTokenChecked || q.User == nil || q.User.WAID != "15550000001" || q.DataAPIVersion != "3.0" {
			t.Errorf("request %d: token %q checked %v user %+v version %q", i, q.FlowToken, q.FlowTokenChecked, q.User, q.DataAPIVersion)
		}
		if q.ID == "" || r.header.Get(stdwebhooks.HeaderID) != q.ID || ids[q.ID] {
			t.Errorf("request %d: id %q, webhook-id %q (ids must be unique)", i, q.ID, r.header.Get(stdwebhooks.HeaderID))
		}
		ids[q.ID] = true
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, ct)
		}
	}
	for _, o := range obs.list() {
		if o.Outcome != forward.OutcomeAnswered || o.Status != 200 || o.Flow != "booking" || !ids[o.RequestID] {
			t.Errorf("observation %+v", o)
		}
	}
	if n := len(obs.list()); n != 3 {
		t.Errorf("%d observations, want 3", n)
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("data %q: %v", raw, err)
	}
	return b.String()
}

// TestBackendFailures: each wrong backend answer is an endpoint failure
// with the right status, a log line that names the failure and quotes no
// value, and an observation counted as a failure; a 427 from the backend
// closes the flow with its message.
func TestBackendFailures(t *testing.T) {
	const value = "SECRET-VALUE-7"
	cases := []struct {
		name    string
		answer  func(w http.ResponseWriter, r *forward.Request)
		status  int
		outcome forward.Outcome
		failure forward.Failure
	}{
		{"not JSON", func(w http.ResponseWriter, _ *forward.Request) {
			io.WriteString(w, "<html>"+value+"</html>")
		}, 500, forward.OutcomeFailed, forward.FailureNotJSON},
		{"a 500", func(w http.ResponseWriter, _ *forward.Request) {
			http.Error(w, "database down "+value, 500)
		}, 500, forward.OutcomeFailed, forward.FailureStatus},
		{"a timeout", func(w http.ResponseWriter, r *forward.Request) {
			time.Sleep(400 * time.Millisecond)
			writeJSON(w, 200, map[string]any{"screen": "WELCOME", "data": map[string]any{"greeting": value}})
		}, 500, forward.OutcomeFailed, forward.FailureTimeout},
		{"a body over 1 MiB", func(w http.ResponseWriter, _ *forward.Request) {
			writeJSON(w, 200, map[string]any{"screen": "WELCOME", "data": map[string]any{"greeting": strings.Repeat(value, forward.MaxAnswerBytes/len(value)+1)}})
		}, 500, forward.OutcomeFailed, forward.FailureTooLarge},
		{"a body over 1 MiB, streamed", func(w http.ResponseWriter, _ *forward.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"screen":"WELCOME","data":{"greeting":"`)
			chunk := strings.Repeat(value, 64<<10/len(value))
			for written := 0; written <= forward.MaxAnswerBytes; written += len(chunk) {
				io.WriteString(w, chunk)
			}
			w.(http.Flusher).Flush()
			io.WriteString(w, `"}}`)
		}, 500, forward.OutcomeFailed, forward.FailureTooLarge},
		{"no screen", func(w http.ResponseWriter, _ *forward.Request) {
			writeJSON(w, 200, map[string]any{"data": map[string]any{"greeting": value}})
		}, 500, forward.OutcomeFailed, forward.FailureBadAnswer},
		{"a redirect", func(w http.ResponseWriter, _ *forward.Request) {
			http.Redirect(w, &http.Request{}, "http://127.0.0.1:1/elsewhere", http.StatusTemporaryRedirect)
		}, 500, forward.OutcomeFailed, forward.FailureStatus},
		{"the token is not valid", func(w http.ResponseWriter, _ *forward.Request) {
			writeJSON(w, 427, map[string]any{"error_msg": "This order was already placed."})
		}, 427, forward.OutcomeTokenRejected, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			secret := stdwebhooks.NewSecret()
			_, srv := newBackend(t, secret, c.answer)
			timeout := 2 * time.Second
			if c.failure == forward.FailureTimeout {
				timeout = 150 * time.Millisecond
			}
			var obs observations
			var logs syncBuffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			f, err := forward.NewFlow("booking", forward.Config{URL: srv.URL, Secret: secret, Timeout: timeout, Observe: obs.add, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			h := flowtest.NewHarness(t, spec(t), f, flowtest.HarnessOptions{Logger: log})
			token := h.Token(t, "15550000001")
			client, err := simulator.NewClient(h.Config(token))
			if err != nil {
				t.Fatal(err)
			}
			s := simulator.NewSession(client)
			st, err := s.Start(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != c.status {
				t.Errorf("status %d, want %d", st.Status, c.status)
			}
			o := obs.list()
			if len(o) != 1 || o[0].Outcome != c.outcome || o[0].Failure != c.failure || o[0].Action != "INIT" {
				t.Fatalf("observations %+v, want outcome %q failure %q", o, c.outcome, c.failure)
			}
			out := logs.String()
			if strings.Contains(out, value) {
				t.Errorf("the log quotes the answer's value:\n%s", out)
			}
			if strings.Contains(out, secret) || strings.Contains(out, token) {
				t.Errorf("the log holds a secret:\n%s", out)
			}
			if c.outcome == forward.OutcomeFailed {
				if !strings.Contains(out, "forward to the backend failed") || !strings.Contains(out, "failure="+string(c.failure)) || !strings.Contains(out, "request_id=msg_") {
					t.Errorf("no failure line naming %q:\n%s", c.failure, out)
				}
				if s.State().Screen != "" {
					t.Errorf("the session moved to %q", s.State().Screen)
				}
			} else if !st.Closed || st.CloseMessage != "This order was already placed." {
				t.Errorf("427: closed %v, message %q", st.Closed, st.CloseMessage)
			}
		})
	}
}

// TestUnreachable: a backend that is not listening is a forward failure.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var obs observations
	f, err := forward.NewFlow("booking", forward.Config{URL: "http://" + addr + "/flow", Secret: stdwebhooks.NewSecret(), Observe: obs.add,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := flowtest.NewHarness(t, spec(t), f, flowtest.HarnessOptions{})
	st, err := h.Session(t).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if o := obs.list(); st.Status != 500 || len(o) != 1 || o[0].Failure != forward.FailureUnreachable {
		t.Errorf("status %d, observations %+v", st.Status, o)
	}
}

// TestBackendVerifiesSignature: what the forwarder sends passes the
// backend's verification; an unsigned request, one signed with another
// secret, one replayed with another body and one too old are refused.
func TestBackendVerifiesSignature(t *testing.T) {
	secret := stdwebhooks.NewSecret()
	be, srv := newBackend(t, secret, twoScreenAnswers)
	f, err := forward.NewFlow("booking", forward.Config{URL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	h := flowtest.NewHarness(t, spec(t), f, flowtest.HarnessOptions{})
	if st, err := h.Session(t).Start(t.Context()); err != nil || !st.OK() {
		t.Fatalf("INIT: %v %v", err, st.Err())
	}
	genuine := be.requests()[0]

	post := func(body []byte, header http.Header) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(genuine.body, genuine.header); got != 200 {
		t.Errorf("the genuine request, sent again at once: %d", got)
	}
	if got := post(genuine.body, nil); got != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", got)
	}
	forger, _ := stdwebhooks.NewSigner(stdwebhooks.NewSecret())
	forged := http.Header{}
	forger.SetHeaders(forged, stdwebhooks.NewID(), time.Now(), genuine.body)
	if got := post(genuine.body, forged); got != http.StatusUnauthorized {
		t.Errorf("signed with another secret: %d", got)
	}
	altered := bytes.Replace(genuine.body, []byte(`"INIT"`), []byte(`"BACK"`), 1)
	if got := post(altered, genuine.header); got != http.StatusUnauthorized {
		t.Errorf("another body under the genuine signature: %d", got)
	}
	signer, _ := stdwebhooks.NewSigner(secret)
	old := http.Header{}
	signer.SetHeaders(old, stdwebhooks.NewID(), time.Now().Add(-10*time.Minute), genuine.body)
	if got := post(genuine.body, old); got != http.StatusUnauthorized {
		t.Errorf("signed 10 minutes ago: %d", got)
	}
}

// TestTokenPolicy: by default waflow refuses a token it did not issue
// before the backend hears of it; with TokensBackend it forwards the
// token unchecked, and the backend's verdict is what WhatsApp gets.
func TestTokenPolicy(t *testing.T) {
	secret := stdwebhooks.NewSecret()
	be, srv := newBackend(t, secret, func(w http.ResponseWriter, r *forward.Request) {
		if r.FlowToken != "crm-order-42" {
			writeJSON(w, 427, map[string]any{"error_msg": "We do not know this order."})
			return
		}
		twoScreenAnswers(w, r)
	})
	session := func(h *flowtest.Harness, token string) *simulator.Session {
		c, err := simulator.NewClient(h.Config(token))
		if err != nil {
			t.Fatal(err)
		}
		return simulator.NewSession(c)
	}

	f, _ := forward.NewFlow("booking", forward.Config{URL: srv.URL, Secret: secret})
	h := flowtest.NewHarness(t, spec(t), f, flowtest.HarnessOptions{})
	st, err := session(h, "crm-order-42").Start(t.Context())
	if err != nil || st.Status != 427 {
		t.Fatalf("policy waflow, a foreign token: %v, status %d", err, st.Status)
	}
	if n := len(be.requests()); n != 0 {
		t.Fatalf("the backend got %d requests with a token waflow refused", n)
	}

	f, _ = forward.NewFlow("booking", forward.Config{URL: srv.URL, Secret: secret, TokenPolicy: forward.TokensBackend})
	h = flowtest.NewHarness(t, spec(t), f, flowtest.HarnessOptions{})
	if st, err := session(h, "crm-order-42").Start(t.Context()); err != nil || !st.OK() || st.To != "WELCOME" {
		t.Fatalf("policy backend, a token the backend knows: %v %v", err, st.Err())
	}
	q := be.requests()[0].req
	if q.FlowToken != "crm-order-42" || q.FlowTokenChecked || q.User != nil {
		t.Errorf("policy backend: token %q checked %v user %+v", q.FlowToken, q.FlowTokenChecked, q.User)
	}
	st, err = session(h, "crm-order-0").Start(t.Context())
	if err != nil || st.Status != 427 || !st.Closed || st.CloseMessage != "We do not know this order." {
		t.Errorf("policy backend, a token the backend refuses: %v, status %d, closed %v, message %q", err, st.Status, st.Closed, st.CloseMessage)
	}
}

// TestConnectionReuse: the shared client keeps the connection to the
// backend alive between requests.
func TestConnectionReuse(t *testing.T) {
	secret := stdwebhooks.NewSecret()
	v, _ := stdwebhooks.NewVerifier(secret)
	be := &backend{t: t, verifier: v, answer: twoScreenAnswers}
	srv := httptest.NewUnstartedServer(be)
	var mu sync.Mutex
	conns := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	fw, err := forward.New(forward.Config{URL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := fw.Handle(context.Background(), &endpoint.Request{Flow: "booking", Version: "3.0", Action: "INIT", FlowToken: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(be.requests()) != 5 || conns != 1 {
		t.Errorf("%d requests over %d connections, want 5 over 1", len(be.requests()), conns)
	}
}

func TestNewRefuses(t *testing.T) {
	good := stdwebhooks.NewSecret()
	for _, c := range []struct {
		name string
		cfg  forward.Config
		want string
	}{
		{"no URL", forward.Config{Secret: good}, "http or https"},
		{"ftp", forward.Config{URL: "ftp://example.com/x", Secret: good}, "http or https"},
		{"no host", forward.Config{URL: "http:///x", Secret: good}, "http or https"},
		{"credentials are not echoed", forward.Config{URL: "gopher://user:pw@example.com/?key=k", Secret: good}, "http or https"},
		{"no secret", forward.Config{URL: "http://example.com"}, "no secret"},
		{"short secret", forward.Config{URL: "http://example.com", Secret: "whsec_c2hvcnQ="}, "at least 24"},
		{"policy", forward.Config{URL: "http://example.com", Secret: good, TokenPolicy: "nobody"}, "token policy"},
	} {
		_, err := forward.New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "key=k")) {
			t.Errorf("%s: the error quotes credentials: %v", c.name, err)
		}
	}
	if p, err := forward.ParseTokenPolicy("waflow"); err != nil || p != forward.TokensWaflow {
		t.Errorf("ParseTokenPolicy(waflow) = %q, %v", p, err)
	}
}

func TestParseAnswer(t *testing.T) {
	for _, c := range []struct {
		status  int
		body    string
		failure forward.Failure // "" for an answer
		screen  string
	}{
		{200, `{"screen":"A","data":{"n":12345678901234567890}}`, "", "A"},
		{200, `{"version":"3.0","screen":"A"}`, "", "A"},
		{200, `{"screen":"A","data":{"error_message":"Pick another slot"}}`, "", "A"},
		{200, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"flow_token":"other"}}}}`, "", "SUCCESS"},
		{200, `{"screen":"SUCCESS","data":{"extension_message_response":{}}}`, "", "SUCCESS"},
		{200, `{"screen":"SUCCESS","data":{}}`, forward.FailureBadAnswer, ""},
		{200, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":[]}}}`, forward.FailureBadAnswer, ""},
		{200, `{"screen":"A","data":[]}`, forward.FailureBadAnswer, ""},
		{200, `{"screen":""}`, forward.FailureBadAnswer, ""},
		{200, `{"screen":"A","extra":1}`, forward.FailureBadAnswer, ""},
		{200, `{"screen":"A","version":3}`, forward.FailureBadAnswer, ""},
		{200, `["screen"]`, forward.FailureBadAnswer, ""},
		{200, `{"screen":"A"} {}`, forward.FailureNotJSON, ""},
		{200, ``, forward.FailureNotJSON, ""},
		{200, `{"screen":`, forward.FailureNotJSON, ""},
		{201, `{"screen":"A"}`, forward.FailureStatus, ""},
		{302, ``, forward.FailureStatus, ""},
		{503, `{"screen":"A"}`, forward.FailureStatus, ""},
	} {
		resp, err := forward.ParseAnswer(c.status, []byte(c.body), "tok")
		var fe *forward.Error
		switch {
		case c.failure == "" && (err != nil || resp.Screen != c.screen):
			t.Errorf("%d %s: %v, %+v", c.status, c.body, err, resp)
		case c.failure != "" && (!errors.As(err, &fe) || fe.Failure != c.failure):
			t.Errorf("%d %s: %v, want failure %q", c.status, c.body, err, c.failure)
		}
	}
	resp, _ := forward.ParseAnswer(200, []byte(`{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"a":1}}}}`), "tok")
	params := resp.Data.(map[string]any)["extension_message_response"].(map[string]any)["params"].(map[string]any)
	if params["flow_token"] != "tok" || params["a"] != json.Number("1") {
		t.Errorf("SUCCESS params %v", params)
	}
	resp, _ = forward.ParseAnswer(200, []byte(`{"screen":"A","data":{"n":12345678901234567890}}`), "tok")
	if b, _ := json.Marshal(resp.Data); string(b) != `{"n":12345678901234567890}` {
		t.Errorf("a large number changed: %s", b)
	}
	for body, msg := range map[string]string{`{"error_msg":"Expired"}`: "Expired", ``: "", `oops`: ""} {
		_, err := forward.ParseAnswer(427, []byte(body), "tok")
		var te *endpoint.TokenError
		if !errors.As(err, &te) || te.Msg != msg {
			t.Errorf("427 %q: %v, want a TokenError with %q", body, err, msg)
		}
	}
	if _, err := forward.ParseAnswer(200, make([]byte, forward.MaxAnswerBytes+1), "tok"); err == nil {
		t.Error("an answer over the cap was parsed")
	}
}

// FuzzParseAnswer: any backend answer is an answer, a token verdict or a
// forward failure, never a panic; an answer always has a screen, and a
// failure's log detail never quotes the body.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"screen":"A","data":{"x":1}}`, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":{}}}}`,
		`{"screen":"SUCCESS","data":{"extension_message_response":{"params":null}}}`,
		`{"error_msg":"no"}`, `{"screen":"A","data":null}`, `{"screen":1}`, `nul`, `{"screen":"A"}x`, "\xff",
	} {
		f.Add(200, []byte(s))
		f.Add(427, []byte(s))
	}
	f.Add(500, []byte("boom"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		resp, err := forward.ParseAnswer(status, body, "tok")
		var fe *forward.Error
		var te *endpoint.TokenError
		switch {
		case err == nil:
			if resp == nil || resp.Screen == "" {
				t.Fatalf("an answer without a screen: %+v", resp)
			}
		case errors.As(err, &te):
			if status != 427 {
				t.Fatalf("a token verdict for status %d", status)
			}
		case errors.As(err, &fe):
			if fe.Failure == "" || (len(body) > 8 && strings.Contains(fe.Detail, string(body))) {
				t.Fatalf("failure %+v for %q", fe, body)
			}
		default:
			t.Fatalf("an error of type %T: %v", err, err)
		}
	})
}

// TestForwardedAnswersCheckedWithSpec: with the flow's Flow JSON, a backend
// answer that breaks it (a screen INIT cannot open, a mistyped data field)
// is never sent to WhatsApp: the endpoint answers 500 instead. Without the
// Flow JSON the same answer goes out.
func TestForwardedAnswersCheckedWithSpec(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer map[string]any
	}{
		{"screen INIT cannot open", map[string]any{"screen": "CONFIRM", "data": map[string]any{"summary": "x"}}},
		{"mistyped data field", map[string]any{"screen": "WELCOME", "data": map[string]any{"greeting": 5}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			secret := stdwebhooks.NewSecret()
			_, srv := newBackend(t, secret, func(w http.ResponseWriter, r *forward.Request) { writeJSON(w, 200, c.answer) })
			for _, checked := range []bool{true, false} {
				cfg := forward.Config{URL: srv.URL, Secret: secret}
				if checked {
					cfg.Spec = spec(t)
				}
				f, err := forward.NewFlow("booking", cfg)
				if err != nil {
					t.Fatal(err)
				}
				h := flowtest.NewHarness(t, spec(t), f, flowtest.HarnessOptions{Logger: slog.New(slog.DiscardHandler)})
				st, err := h.Session(t).Start(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if checked && st.Status != http.StatusInternalServerError {
					t.Errorf("with the Flow JSON: status %d, want 500 (the answer refused before encryption)", st.Status)
				}
				if !checked && st.Status != http.StatusOK {
					t.Errorf("without the Flow JSON: status %d, want the unchecked answer sent (200)", st.Status)
				}
			}
		})
	}
}

// The text of a forward error holds neither the backend URL's query, which
// may carry a key, nor a character of an answer that is not JSON.
func TestErrorTextHoldsNoValues(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	fw, err := forward.New(forward.Config{URL: "http://" + addr + "/flow?key=QUERYKEY", Secret: stdwebhooks.NewSecret(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fw.Handle(t.Context(), &endpoint.Request{Flow: "booking", Action: endpoint.ActionInit, Version: "3.0"})
	if err == nil || strings.Contains(err.Error(), "QUERYKEY") {
		t.Errorf("unreachable backend: error %v, want one without the URL's query", err)
	}
	_, err = forward.ParseAnswer(200, []byte(`{"screen": Zebra}`), "")
	if err == nil || strings.Contains(err.Error(), "Z") {
		t.Errorf("answer not JSON: error %v, want one without the answer's characters", err)
	}
}

// Issue 19: the files endpoint.ReceiveMedia stored reach the backend as
// descriptions with a signed URL to fetch each from waflow, never as
// WhatsApp's CDN URLs and keys.
func TestForwardMediaURLs(t *testing.T) {
	secret := stdwebhooks.NewSecret()
	be, srv := newBackend(t, secret, twoScreenAnswers)
	f, err := forward.NewFlow("booking", forward.Config{URL: srv.URL, Secret: secret,
		MediaURL: func(key string) string { return "https://flows.example.com/media/" + key + "?sig=s" }})
	if err != nil {
		t.Fatal(err)
	}
	stored := endpoint.StoredFile{MediaID: "m1", Key: strings.Repeat("ab", 32), MIMEType: "application/pdf", Size: 1234, FileName: "receipt.pdf"}
	// Stands in for ReceiveMedia, which sets Request.Media.
	f.Use(func(next endpoint.HandlerFunc) endpoint.HandlerFunc {
		return func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
			r.Media = map[string][]endpoint.StoredFile{"receipts": {stored}}
			return next(ctx, r)
		}
	})
	h := flowtest.NewHarness(t, spec(t), f, flowtest.HarnessOptions{})
	c, err := simulator.NewClient(h.Config(h.Token(t, "15550000001")))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := simulator.NewSession(c).Start(t.Context()); err != nil || !st.OK() {
		t.Fatalf("start: %v %v", err, st.Err())
	}
	got := be.requests()[0].req.Media["receipts"]
	want := forward.File{StoredFile: stored, URL: "https://flows.example.com/media/" + stored.Key + "?sig=s"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("backend got media %+v, want %+v", got, want)
	}
	if body := string(be.requests()[0].body); !strings.Contains(body, `"media":{"receipts":[{"media_id":"m1","sha256":"`+stored.Key+`","mime_type":"application/pdf","size":1234,"file_name":"receipt.pdf","url":"https://flows.example.com/media/`) {
		t.Fatalf("wire form: %s", body)
	}
}
