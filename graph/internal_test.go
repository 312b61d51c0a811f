package graph

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBackoffJitterBounds(t *testing.T) {
	t.Parallel()
	c := &Client{retry: RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Jitter: 0.5}}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 40: time.Second} {
		lo, hi := want/2, want
		seen := map[time.Duration]bool{}
		for range 200 {
			d := c.backoff(n)
			if d < lo || d > hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) took only %d distinct values in 200 draws; jitter is not random", n, len(seen))
		}
	}
	c.retry.Jitter = 0
	if d := c.backoff(3); d != 400*time.Millisecond {
		t.Errorf("backoff(3) without jitter = %v, want 400ms", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"5", 5 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"99999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseError(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	for _, tc := range []struct {
		name string
		body string
		want Error
	}{
		{"full", `{"error":{"message":"(#132068) Flow is blocked","type":"OAuthException","code":132068,"error_subcode":2494010,
			"error_user_title":"Flow blocked","error_user_msg":"The flow is blocked.","is_transient":false,
			"error_data":{"messaging_product":"whatsapp","details":"Flow 1 is blocked"},"fbtrace_id":"A1"}}`,
			Error{HTTPStatus: 400, Code: 132068, Subcode: 2494010, Type: "OAuthException", Message: "(#132068) Flow is blocked",
				UserTitle: "Flow blocked", UserMessage: "The flow is blocked.", Details: "Flow 1 is blocked", FBTraceID: "A1"}},
		{"error_data as a string", `{"error":{"message":"Invalid parameter","code":100,"error_data":"{\"blame_field_specs\":[[\"name\"]]}","fbtrace_id":"B2"}}`,
			Error{HTTPStatus: 400, Code: 100, Message: "Invalid parameter", Details: `{"blame_field_specs":[["name"]]}`, FBTraceID: "B2"}},
		{"no message", `{"error":{"code":2}}`, Error{HTTPStatus: 400, Code: 2, Message: "HTTP 400 Bad Request"}},
		// encoding/json's rules for keys, whatever the shape of error_data
		// (issue 12 item 7: the string form used to match keys by case).
		{"keys in another case", `{"error":{"Message":"m","CODE":190,"Error_Data":"d"}}`,
			Error{HTTPStatus: 400, Code: 190, Message: "m", Details: "d"}},
		{"a field of the wrong type", `{"error":{"message":"m","code":"190","fbtrace_id":"C3","error_data":{"details":"x"}}}`,
			Error{HTTPStatus: 400, Message: "m", Details: "x", FBTraceID: "C3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseError(400, h, []byte(tc.body))
			if *got != tc.want {
				t.Errorf("parseError =\n%+v, want\n%+v", *got, tc.want)
			}
		})
	}
	long := parseError(400, h, []byte(strings.Repeat("é", 300)))
	if long.Code != 0 || !strings.Contains(long.Message, "not a Graph API error") || len(long.Message) > 300 {
		t.Errorf("non-JSON body: %q", long.Message)
	}
	if e := parseError(400, h, []byte(`{"error":{"message":"m","code":190}}`)); !strings.Contains(e.Error(), "configure a new system-user token") {
		t.Errorf("190 without a hint: %q", e.Error())
	}
}

func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`{"error":{"message":"(#132069) Flow is throttled","type":"OAuthException","code":132069,"error_data":{"details":"d"},"fbtrace_id":"x"}}`,
		`{"error":{"message":"m","code":"190"}}`,
		`{"error":{"code":100,"error_data":"s"}}`,
		`{"error":null}`, `{"error":[]}`, `<html>`, ``, `{"error":{"error_subcode":1e400}}`,
	} {
		f.Add(400, s, "")
		f.Add(503, s, "7")
	}
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := parseError(status, h, []byte(body))
		if e == nil || e.HTTPStatus != status || e.Message == "" {
			t.Fatalf("parseError(%d, %q) = %+v: want an Error with the status and a message", status, body, e)
		}
		if e.RetryAfter < 0 || e.RetryAfter > 24*time.Hour {
			t.Fatalf("RetryAfter = %v out of range", e.RetryAfter)
		}
		_ = e.Error()
		// A well-formed Graph error keeps its code.
		var probe struct {
			Error *struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal([]byte(body), &probe) == nil && probe.Error != nil && e.Code != probe.Error.Code {
			t.Fatalf("code = %d, body says %d", e.Code, probe.Error.Code)
		}
	})
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{`"2026-12-26T11:18:09+0000"`, `"2026-12-26T11:18:09Z"`, `1767000000`, `null`, `"yesterday"`, `{}`, `"2026-02-30T00:00:00+0000"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ts Timestamp
		if err := ts.UnmarshalJSON([]byte(s)); err != nil {
			return
		}
		// Whatever was accepted is a real instant that formats back.
		if _, err := time.Parse(time.RFC3339, ts.UTC().Format(time.RFC3339)); err != nil && !ts.IsZero() {
			t.Fatalf("accepted %q as %v, which does not format", s, ts.Time)
		}
	})
}
