package graph_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/graph"
)

func flowMsg() *graph.FlowMessage {
	return &graph.FlowMessage{To: "491511234", Body: "Book now", FlowID: "8812", CTA: "Book", Token: "wf1.secret-flow-token"}
}

const sent = `{"messaging_product":"whatsapp","contacts":[{"input":"491511234","wa_id":"491511234"}],"messages":[{"id":"wamid.OK"}]}`

// noLeak fails t if the access token shows up in err or in the log.
func noLeak(t *testing.T, s *setup, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("error contains the access token: %v", err)
	}
	if strings.Contains(s.log.String(), testToken) {
		t.Errorf("log contains the access token:\n%s", s.log)
	}
	if strings.Contains(s.log.String(), "wf1.secret-flow-token") {
		t.Errorf("log contains a flow token:\n%s", s.log)
	}
}

func TestRetry500ThenSuccess(t *testing.T) {
	t.Parallel()
	s := newSetup(t,
		graphError(500, 1, "An unknown error occurred"),
		ok(`{"id":"8812","name":"appointment_booking","status":"PUBLISHED"}`),
	)
	f, err := s.client.GetFlow(t.Context(), "8812", nil)
	if err != nil {
		t.Fatalf("err = %v, want success on the second attempt", err)
	}
	if f.Status != graph.StatusPublished {
		t.Errorf("status = %q", f.Status)
	}
	if n := len(s.fake.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if d := cmp.Diff([]time.Duration{100 * time.Millisecond}, s.sleeps.got()); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}
	if !strings.Contains(s.log.String(), "retrying") || !strings.Contains(s.log.String(), "fbtrace_id AbCdEf123") {
		t.Errorf("log does not report the retry with its trace id:\n%s", s.log)
	}
	noLeak(t, s, err)
}

func TestRetryIdempotentWritesOn5xx(t *testing.T) {
	t.Parallel()
	s := newSetup(t, reply{status: 503, body: "<html>Service Unavailable</html>"}, ok(`{"success":true}`))
	if err := s.client.UpdateFlow(t.Context(), "8812", graph.FlowUpdate{EndpointURI: "https://flows.example.com/endpoint"}); err != nil {
		t.Fatalf("err = %v, want the update retried after 503", err)
	}
	reqs := s.fake.requests()
	if len(reqs) != 2 || string(reqs[0].Body) != string(reqs[1].Body) {
		t.Fatalf("requests = %v; want the same body sent twice", summarize(reqs))
	}
}

func TestRetryGivesUp(t *testing.T) {
	t.Parallel()
	s := newSetup(t, graphError(500, 2, "Service temporarily unavailable"), graphError(502, 2, "x"), graphError(503, 2, "Service temporarily unavailable"))
	_, err := s.client.GetFlow(t.Context(), "8812", nil)
	var e *graph.Error
	if !errors.As(err, &e) || e.HTTPStatus != 503 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("err = %v, want the last *Error and the number of attempts", err)
	}
	if d := cmp.Diff([]time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, s.sleeps.got()); d != "" {
		t.Errorf("waits, want exponential backoff (-want +got):\n%s", d)
	}
}

// TestRetry429 sends a message: a 429 means Meta refused it, so even a send
// is retried, after the Retry-After the server asked for.
func TestRetry429(t *testing.T) {
	t.Parallel()
	throttled := graphError(429, 130429, "(#130429) Rate limit hit")
	throttled.header = map[string]string{"Retry-After": "2"}
	s := newSetup(t, throttled, ok(sent))
	res, err := s.client.Send(t.Context(), "106540352242922", flowMsg())
	if err != nil || res.MessageID != "wamid.OK" {
		t.Fatalf("Send = %+v, %v; want success after the 429", res, err)
	}
	reqs := s.fake.requests()
	if len(reqs) != 2 || string(reqs[0].Body) != string(reqs[1].Body) {
		t.Fatalf("requests = %v, want the same message posted twice", summarize(reqs))
	}
	if d := cmp.Diff([]time.Duration{2 * time.Second}, s.sleeps.got()); d != "" {
		t.Errorf("waits, want Retry-After honoured over the 100ms backoff (-want +got):\n%s", d)
	}
	noLeak(t, s, err)
}

func TestRetryAfterLongerThanPolicy(t *testing.T) {
	t.Parallel()
	throttled := graphError(429, 4, "(#4) Application request limit reached")
	throttled.header = map[string]string{"Retry-After": "3600"}
	s := newSetup(t, throttled)
	_, err := s.client.ListFlows(t.Context(), "102290129340398")
	var e *graph.Error
	if !errors.As(err, &e) || e.RetryAfter != time.Hour || !strings.Contains(err.Error(), "Retry-After 1h0m0s") {
		t.Fatalf("err = %v; want an *Error carrying RetryAfter 1h", err)
	}
	if len(s.sleeps.got()) != 0 || len(s.fake.requests()) != 1 {
		t.Errorf("waited %v over %d requests; want no wait, one request", s.sleeps.got(), len(s.fake.requests()))
	}
}

func TestThrottledIsNotRetried(t *testing.T) {
	t.Parallel()
	s := newSetup(t, reply{status: 400, body: `{"error":{"message":"(#132069) Flow is throttled","type":"OAuthException","code":132069,
		"error_data":{"messaging_product":"whatsapp","details":"Flow 8812 is throttled and 10 messages were already sent in the last hour."},
		"fbtrace_id":"Tr4ce"}}`})
	_, err := s.client.Send(t.Context(), "106540352242922", flowMsg())
	if !graph.IsThrottled(err) || graph.IsBlocked(err) {
		t.Fatalf("err = %v, want throttled", err)
	}
	for _, want := range []string{"send message", "Flow is throttled", "10 messages were already sent", "code 132069", "HTTP 400", "fbtrace_id Tr4ce", "THROTTLED", "10 new flow messages an hour"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if errors.Is(err, graph.ErrOutcomeUnknown) {
		t.Error("a 400 is a definite refusal, not an unknown outcome")
	}
	if n := len(s.fake.requests()); n != 1 || len(s.sleeps.got()) != 0 {
		t.Errorf("%d requests, %d waits; a 4xx must not be retried", n, len(s.sleeps.got()))
	}
}

func TestPublishRefusedShowsReason(t *testing.T) {
	t.Parallel()
	s := newSetup(t, graphError(400, 139002, "Publishing failed", "error_user_title", "Missing Flows Signed Public Key",
		"error_user_msg", "Your flow can't be published because the business public key of the phone number is not signed. Upload it and try again."))
	err := s.client.PublishFlow(t.Context(), "8812")
	if !graph.IsPublishRefused(err) {
		t.Fatalf("err = %v, want 139002", err)
	}
	var e *graph.Error
	errors.As(err, &e)
	if e.UserTitle != "Missing Flows Signed Public Key" || !strings.HasPrefix(e.UserMessage, "Your flow can't be published") {
		t.Errorf("Error = %+v, want the user title and message", e)
	}
	for _, want := range []string{"publish flow 8812", "Missing Flows Signed Public Key", "is not signed", "code 139002"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not show %q", err, want)
		}
	}
	if n := len(s.fake.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestExpiredToken(t *testing.T) {
	t.Parallel()
	s := newSetup(t, reply{status: 401, body: `{"error":{"message":"Error validating access token: Session has expired on Tuesday, 01-Dec-26 10:00:00 PST.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"Exp1"}}`})
	_, err := s.client.ListFlows(t.Context(), "102290129340398")
	if !graph.IsAccessTokenError(err) {
		t.Fatalf("err = %v, want code 190", err)
	}
	var e *graph.Error
	if !errors.As(err, &e) || e.Subcode != 463 || e.HTTPStatus != 401 || e.Type != "OAuthException" {
		t.Errorf("Error = %+v", e)
	}
	if !strings.Contains(err.Error(), "configure a new system-user token") {
		t.Errorf("error %q does not say what to do", err)
	}
	if n := len(s.fake.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	noLeak(t, s, err)
}

func TestTimeoutRetriesReads(t *testing.T) {
	t.Parallel()
	s := newSetupWith(t, func(o *graph.Options) { o.Timeout = 50 * time.Millisecond },
		reply{hang: true}, reply{hang: true}, reply{hang: true})
	_, err := s.client.GetFlow(t.Context(), "8812", nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no complete answer within 50ms") {
		t.Fatalf("err = %v, want a timeout that says so", err)
	}
	if n := len(s.fake.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (a read is retried after a timeout)", n)
	}
	noLeak(t, s, err)
}

// TestSendOutcomeUnknown covers the failures after which a message may have
// been sent: none is retried, and each says so.
func TestSendOutcomeUnknown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		reply   reply
		timeout time.Duration
		want    string
	}{
		{"500", graphError(500, 131000, "(#131000) Something went wrong"), time.Second, "Something went wrong"},
		{"timeout", reply{hang: true}, 50 * time.Millisecond, "no complete answer within 50ms"},
		{"connection dropped", reply{drop: true}, time.Second, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetupWith(t, func(o *graph.Options) { o.Timeout = tc.timeout }, tc.reply)
			_, err := s.client.Send(t.Context(), "106540352242922", flowMsg())
			if !errors.Is(err, graph.ErrOutcomeUnknown) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrOutcomeUnknown mentioning %q", err, tc.want)
			}
			if n := len(s.fake.requests()); n != 1 || len(s.sleeps.got()) != 0 {
				t.Errorf("%d requests, %d waits; a send that may have arrived must not be repeated", n, len(s.sleeps.got()))
			}
			noLeak(t, s, err)
		})
	}
}

// TestSendCallerGivesUpAfterWrite: when the caller's own context ends while
// Meta holds a written send, the message may still go out; the error must
// say so, or an outbox that retries on context errors would send twice.
func TestSendCallerGivesUpAfterWrite(t *testing.T) {
	t.Parallel()
	s := newSetupWith(t, func(o *graph.Options) { o.Timeout = 10 * time.Second }, reply{hang: true})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := s.client.Send(ctx, "106540352242922", flowMsg())
	if !errors.Is(err, graph.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline and ErrOutcomeUnknown", err)
	}
	if graph.IsTemporary(err) {
		t.Errorf("IsTemporary(%v) = true; a send that may have arrived must not be repeated", err)
	}
	if n := len(s.fake.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestSendRetriedBeforeWrite: a connection that fails before the request
// is written cannot have delivered it, so the send is retried.
func TestSendRetriedBeforeWrite(t *testing.T) {
	t.Parallel()
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, errors.New("connect: connection refused")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	s := newSetupWith(t, func(o *graph.Options) { o.HTTPClient = &http.Client{Transport: tr} }, ok(sent))
	res, err := s.client.Send(t.Context(), "106540352242922", flowMsg())
	if err != nil || res.MessageID != "wamid.OK" {
		t.Fatalf("Send = %+v, %v; want success on the second dial", res, err)
	}
	if dials.Load() != 2 || len(s.fake.requests()) != 1 {
		t.Errorf("%d dials, %d requests received; want 2 and 1", dials.Load(), len(s.fake.requests()))
	}
}

func TestCreateFlowNotRetriedOn5xx(t *testing.T) {
	t.Parallel()
	s := newSetup(t, graphError(500, 1, "An unknown error occurred"))
	_, err := s.client.CreateFlow(t.Context(), "102290129340398", graph.FlowCreate{Name: "x", Categories: []graph.Category{graph.CategoryOther}})
	if !errors.Is(err, graph.ErrOutcomeUnknown) || len(s.fake.requests()) != 1 {
		t.Fatalf("err = %v after %d requests; want ErrOutcomeUnknown after 1", err, len(s.fake.requests()))
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	s := newSetupWith(t, func(o *graph.Options) {
		o.Retry.Sleep = func(ctx context.Context, d time.Duration) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}
	}, graphError(503, 2, "Service temporarily unavailable"))
	_, err := s.client.GetFlow(ctx, "8812", nil)
	if !errors.Is(err, context.Canceled) || len(s.fake.requests()) != 1 {
		t.Fatalf("err = %v after %d requests; want context.Canceled after 1", err, len(s.fake.requests()))
	}
}

func TestUnexpectedAnswers(t *testing.T) {
	t.Parallel()
	t.Run("success false", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, ok(`{"success":false}`))
		if err := s.client.PublishFlow(t.Context(), "8812"); !errors.Is(err, graph.ErrUnexpectedResponse) {
			t.Fatalf("err = %v, want ErrUnexpectedResponse", err)
		}
	})
	t.Run("send without id", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, ok(`{"messaging_product":"whatsapp","messages":[]}`))
		_, err := s.client.Send(t.Context(), "106540352242922", flowMsg())
		if !errors.Is(err, graph.ErrUnexpectedResponse) || !errors.Is(err, graph.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want an unexpected answer whose outcome is unknown", err)
		}
	})
	t.Run("html error page", func(t *testing.T) {
		t.Parallel()
		s := newSetupWith(t, func(o *graph.Options) { o.Retry.MaxAttempts = 1 }, reply{status: 502, body: "<html><body>Bad Gateway</body></html>"})
		_, err := s.client.GetFlow(t.Context(), "8812", nil)
		var e *graph.Error
		if !errors.As(err, &e) || e.HTTPStatus != 502 || !strings.Contains(err.Error(), "Bad Gateway") {
			t.Fatalf("err = %v, want an *Error quoting the page", err)
		}
	})
	t.Run("2xx not json", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, ok(`not json`))
		if _, err := s.client.GetFlow(t.Context(), "8812", nil); !errors.Is(err, graph.ErrUnexpectedResponse) {
			t.Fatalf("err = %v, want ErrUnexpectedResponse", err)
		}
	})
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opts    graph.Options
		wantErr string
	}{
		{"no token", graph.Options{}, "no access token"},
		{"blank token", graph.Options{AccessToken: " \n"}, "no access token"},
		{"token with newline", graph.Options{AccessToken: "abc\n"}, "line break"},
		{"bad version", graph.Options{AccessToken: "t", Version: "25"}, `API version "25"`},
		{"relative base", graph.Options{AccessToken: "t", BaseURL: "graph.facebook.com"}, "absolute http(s) URL"},
		{"base with query", graph.Options{AccessToken: "t", BaseURL: "https://graph.facebook.com/?a=b"}, "without query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := graph.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.name == "no token" && !errors.Is(err, graph.ErrNoAccessToken) {
				t.Fatalf("err = %v, want ErrNoAccessToken", err)
			}
		})
	}
	c, err := graph.New(graph.Options{AccessToken: "t"})
	if err != nil || c.Version() != graph.DefaultVersion {
		t.Fatalf("defaults: %v, %v", c, err)
	}
}

func TestBaseURLPrefixAndVersion(t *testing.T) {
	t.Parallel()
	paths := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		w.Write([]byte(`{"success":true}`))
	}))
	t.Cleanup(srv.Close)
	c, err := graph.New(graph.Options{AccessToken: "t", BaseURL: srv.URL + "/proxy/graph/", Version: "v23.0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PublishFlow(t.Context(), "8812"); err != nil {
		t.Fatal(err)
	}
	if got := <-paths; got != "/proxy/graph/v23.0/8812/publish" {
		t.Errorf("path = %q, want the prefix and the configured version", got)
	}
}

// TestIsTemporary classifies the errors a worker sees once the client has
// given up: what to try again later, and what never to repeat.
func TestIsTemporary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		replies []reply
		call    func(context.Context, *graph.Client) error
		want    bool
	}{
		{"429 on send", []reply{graphError(429, 130429, "rate"), graphError(429, 130429, "rate"), graphError(429, 130429, "rate")},
			func(ctx context.Context, c *graph.Client) error { _, err := c.Send(ctx, "1", flowMsg()); return err }, true},
		{"503 on read", []reply{graphError(503, 2, "x"), graphError(503, 2, "x"), graphError(503, 2, "x")},
			func(ctx context.Context, c *graph.Client) error { _, err := c.GetFlow(ctx, "1", nil); return err }, true},
		{"500 on send", []reply{graphError(500, 131000, "x")},
			func(ctx context.Context, c *graph.Client) error { _, err := c.Send(ctx, "1", flowMsg()); return err }, false},
		{"throttled flow", []reply{graphError(400, graph.CodeFlowThrottled, "x")},
			func(ctx context.Context, c *graph.Client) error { _, err := c.Send(ctx, "1", flowMsg()); return err }, true},
		{"blocked flow", []reply{graphError(400, graph.CodeFlowBlocked, "x")},
			func(ctx context.Context, c *graph.Client) error { _, err := c.Send(ctx, "1", flowMsg()); return err }, false},
		{"expired token", []reply{graphError(401, graph.CodeAccessToken, "x")},
			func(ctx context.Context, c *graph.Client) error { return c.PublishFlow(ctx, "1") }, false},
		{"invalid request", nil,
			func(ctx context.Context, c *graph.Client) error {
				_, err := c.Send(ctx, "1", &graph.TextMessage{})
				return err
			}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, tc.replies...)
			err := tc.call(t.Context(), s.client)
			if err == nil || graph.IsTemporary(err) != tc.want {
				t.Fatalf("IsTemporary(%v) = %v, want %v", err, !tc.want, tc.want)
			}
		})
	}
	if !graph.IsTemporary(errors.New("dial tcp: connection refused")) || graph.IsTemporary(nil) || graph.IsTemporary(context.Canceled) {
		t.Error("network errors are temporary; nil and cancellation are not")
	}
}
