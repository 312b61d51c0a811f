package api

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
)

var testCursors = cursors{key: []byte("fuzz key")}

// FuzzListQuery: any query string is either refused with a queryError
// (answered 400) or gives a query within bounds; a cursor the server
// issued for a query is accepted by the same query, and by no other flow.
func FuzzListQuery(f *testing.F) {
	k := waflow.CompletionKey{ReceivedAt: time.Date(2026, 12, 3, 10, 0, 0, 123456000, time.UTC), MessageID: "wamid.HBgL"}
	good := testCursors.issue(k, listQuery{}.binding("survey"))
	for _, s := range []string{
		"", "limit=10", "since=2026-12-03&until=2026-12-04", "status=rejected&limit=1000",
		"cursor=" + good, "cursor=" + good + "&status=handled", "cursor=" + good[:len(good)-2],
		"limit=0", "limit=-1", "limit=99999999999999999999", "since=2026-13-40", "sort=x", "limit=1&limit=2",
		"cursor=AQ", "cursor=%ff%fe", "since=2026-12-03T10:00:00%2B02:00", "until=0001-01-01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // net/http answers such a query itself
		}
		lq, err := parseListQuery(testCursors, "survey", q)
		if err != nil {
			var qe *queryError
			if !errors.As(err, &qe) || qe.msg == "" || (qe.kind != "bad_filter" && qe.kind != "bad_cursor") {
				t.Fatalf("%q: error %v is not a 400 of the API", raw, err)
			}
			return
		}
		if lq.Limit < 1 || lq.Limit > MaxLimit {
			t.Fatalf("%q: limit %d out of bounds", raw, lq.Limit)
		}
		if !lq.Since.IsZero() && !lq.Until.IsZero() && !lq.Until.After(lq.Since) {
			t.Fatalf("%q: until %v not after since %v", raw, lq.Until, lq.Since)
		}
		r := waflow.CompletionRange{Flow: "survey", Since: lq.Since, Until: lq.Until, Status: lq.Status, After: lq.After, Limit: lq.Limit + 1}
		if err := r.Validate(); err != nil {
			t.Fatalf("%q: accepted query makes an invalid range: %v", raw, err)
		}
		// A cursor issued for this query round-trips, and only here.
		next := testCursors.issue(k, lq.binding("survey"))
		q.Set("cursor", next)
		lq2, err := parseListQuery(testCursors, "survey", q)
		if err != nil || !lq2.After.ReceivedAt.Equal(k.ReceivedAt) || lq2.After.MessageID != k.MessageID {
			t.Fatalf("%q: an issued cursor did not round-trip: %+v, %v", raw, lq2.After, err)
		}
		if _, err := parseListQuery(testCursors, "other", q); err == nil {
			t.Fatalf("%q: a cursor was accepted for another flow", raw)
		}
	})
}

func TestCursorTamper(t *testing.T) {
	b := listQuery{Status: waflow.CompletionHandled}.binding("survey")
	k := waflow.CompletionKey{ReceivedAt: time.Unix(1700000000, 5000).UTC(), MessageID: "wamid.A"}
	c := testCursors.issue(k, b)
	got, err := testCursors.parse(c, b)
	if err != nil || !got.ReceivedAt.Equal(k.ReceivedAt) || got.MessageID != k.MessageID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	// Every single-character change is refused.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range c {
		for _, r := range []byte{alphabet[(strings.IndexByte(alphabet, c[i])+1)%len(alphabet)]} {
			bad := c[:i] + string(r) + c[i+1:]
			if _, err := testCursors.parse(bad, b); err == nil {
				// The last character may carry unused bits only.
				if i != len(c)-1 {
					t.Fatalf("changing character %d was accepted", i)
				}
			}
		}
	}
	if _, err := (cursors{key: []byte("another server")}).parse(c, b); err == nil {
		t.Fatal("a cursor of another key was accepted")
	}
}

func TestParseKeyAndScopes(t *testing.T) {
	text, k, err := NewKey("crm", []Scope{ScopeSend, ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	id, secret, err := ParseKey(text)
	if err != nil || id != k.ID || !secretMatches(k, secret) || strings.Join(k.Scopes, ",") != "read,send" {
		t.Fatalf("ParseKey(%q) = %q, %v; key %+v", text, id, err, k)
	}
	if secretMatches(k, secret[:len(secret)-1]+"A") && !strings.HasSuffix(secret, "A") {
		t.Fatal("another secret matched")
	}
	for _, bad := range []string{"", "wfk_", text[4:], "wfk_" + id, "wfk_" + strings.ToUpper(id) + "_" + secret, text + "x", "wfk_zz" + id[2:] + "_" + secret, strings.Replace(text, "_", "-", 1)} {
		if _, _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	for s, want := range map[string]string{"read": "read", "send,read": "read,send", " read , send": "read,send", "admin,read": "read,admin"} {
		got, err := ParseScopes(s)
		var gs []string
		for _, g := range got {
			gs = append(gs, string(g))
		}
		if err != nil || strings.Join(gs, ",") != want {
			t.Errorf("ParseScopes(%q) = %v, %v; want %s", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "owner", "read,read", "read,"} {
		if _, err := ParseScopes(bad); err == nil {
			t.Errorf("ParseScopes(%q) accepted", bad)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(1, 2)
	t0 := time.Unix(0, 0)
	for i := range 2 {
		if ok, _ := l.allow("a", t0); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	ok, wait := l.allow("a", t0)
	if ok || wait != time.Second || retryAfter(wait) != 1 {
		t.Fatalf("past the burst: %v, wait %v", ok, wait)
	}
	if ok, _ := l.allow("a", t0.Add(999*time.Millisecond)); ok {
		t.Fatal("allowed before a token was back")
	}
	if ok, _ := l.allow("a", t0.Add(time.Second)); !ok {
		t.Fatal("refused once a token was back")
	}
	// A long pause refills to the burst, no more.
	t1 := t0.Add(time.Hour)
	for i := range 2 {
		if ok, _ := l.allow("a", t1); !ok {
			t.Fatalf("after an hour, request %d refused", i)
		}
	}
	if ok, _ := l.allow("a", t1); ok {
		t.Fatal("the bucket grew past its burst")
	}
	if retryAfter(1500*time.Millisecond) != 2 {
		t.Fatal("Retry-After rounds down")
	}
}

// FuzzParseKey: ParseKey accepts exactly the texts NewKey makes: the
// prefix, 16 lowercase hex digits, "_", 43 base64url characters.
func FuzzParseKey(f *testing.F) {
	text, _, _ := NewKey("f", []Scope{ScopeRead})
	for _, s := range []string{text, "", "wfk_", "wfk__", text + "=", strings.ToUpper(text), "wfk_0123456789abcdef_" + strings.Repeat("-", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := ParseKey(s)
		if err != nil {
			return
		}
		if KeyPrefix+id+"_"+secret != s || len(id) != 16 || len(secret) != 43 || strings.ContainsAny(id, "_ABCDEF") {
			t.Fatalf("ParseKey(%q) = %q, %q", s, id, secret)
		}
	})
}

// FuzzParseScopes: what ParseScopes accepts is known scopes, each once,
// in the order of Scopes.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"read", "send,read", "read,read", "", ",", " send ", "admin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseScopes(s)
		if err != nil {
			return
		}
		last := -1
		for _, g := range got {
			i := -1
			for j, k := range Scopes {
				if k == g {
					i = j
				}
			}
			if i <= last {
				t.Fatalf("ParseScopes(%q) = %v: unknown, repeated or out of order", s, got)
			}
			last = i
		}
		if len(got) == 0 {
			t.Fatalf("ParseScopes(%q) accepted no scope", s)
		}
	})
}
