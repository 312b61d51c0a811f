package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// rejected is a completion waflow rejected before recording it.
func rejected(msg, flow, token, why string) waflow.Completion {
	c := completion(msg, token)
	c.Flow, c.Status, c.Result = flow, waflow.CompletionRejected, why
	return c
}

// Completions waflow rejected without using a token, attributed or not,
// are kept once.
func testCompletionKeep(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	foreign := rejected("wamid.foreign", "", "", "no usable flow_token, and context.id names no flow message we sent")
	foreign.UserID = "US.1"
	foreign.ReceivedAt = Epoch.Add(-time.Minute)
	got, err := s.KeepCompletion(ctx, foreign)
	WantErr(t, "KeepCompletion(unattributed)", err, nil)
	want := foreign
	want.RecordedAt = clock.Now()
	Diff(t, "kept completion", want, got)
	stored, err := s.Completion(ctx, "wamid.foreign")
	WantErr(t, "Completion(kept)", err, nil)
	Diff(t, "kept completion read back", want, stored)

	// Stored once: keeping it again changes nothing.
	clock.Advance(time.Minute)
	again := foreign
	again.Result = "other"
	got, err = s.KeepCompletion(ctx, again)
	WantErr(t, "KeepCompletion(again)", err, nil)
	Diff(t, "completion kept again", want, got)

	// One that names a stored token does not use it.
	replay := rejected("wamid.invalid", "book_table", "t", "submitted values do not fit flow book_table: guests")
	_, err = s.KeepCompletion(ctx, replay)
	WantErr(t, "KeepCompletion(with token)", err, nil)
	if tok := mustToken(t, s, "t"); tok.State != waflow.TokenIssued {
		t.Fatalf("KeepCompletion used the token: %+v", tok)
	}
	_, err = s.CompletionByToken(ctx, "t")
	WantErr(t, "CompletionByToken(kept)", err, waflow.ErrNotFound)
	// The token is still free for a good completion, and the rejected
	// message can never be recorded.
	_, err = s.RecordCompletion(ctx, completion("wamid.valid", "t"))
	WantErr(t, "RecordCompletion after a kept one", err, nil)
	_, err = s.RecordCompletion(ctx, completion("wamid.invalid", "t"))
	WantErr(t, "RecordCompletion(kept message)", err, waflow.ErrRejected)
	// A recorded message is not kept over.
	got, err = s.KeepCompletion(ctx, rejected("wamid.valid", "", "", "x"))
	WantErr(t, "KeepCompletion(recorded message)", err, nil)
	if got.Status != waflow.CompletionRecorded {
		t.Fatalf("KeepCompletion of a recorded message returned %+v", got)
	}

	for _, tc := range []struct {
		name string
		c    waflow.Completion
		want error
	}{
		{"unknown token", rejected("wamid.u", "book_table", "nope", "x"), waflow.ErrNotFound},
		{"no message id", rejected("", "", "", "x"), waflow.ErrInvalid},
		{"no response", func() waflow.Completion { c := rejected("wamid.r", "", "", "x"); c.Response = nil; return c }(), waflow.ErrInvalid},
		{"no time", func() waflow.Completion { c := rejected("wamid.t", "", "", "x"); c.CompletedAt = time.Time{}; return c }(), waflow.ErrInvalid},
		{"not rejected", func() waflow.Completion {
			c := rejected("wamid.s", "", "", "x")
			c.Status = waflow.CompletionHandled
			return c
		}(), waflow.ErrInvalid},
	} {
		_, err := s.KeepCompletion(ctx, tc.c)
		WantErr(t, "KeepCompletion("+tc.name+")", err, tc.want)
		if tc.c.MessageID != "" {
			_, err := s.Completion(ctx, tc.c.MessageID)
			WantErr(t, "Completion after refused "+tc.name, err, waflow.ErrNotFound)
		}
	}
}

// A completion whose handler failed says so until it is handled.
func testCompletionFailed(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	_, err := s.RecordCompletion(ctx, completion("wamid.f", "t"))
	WantErr(t, "RecordCompletion", err, nil)
	WantErr(t, "MarkCompletionFailed", s.MarkCompletionFailed(ctx, "wamid.f", "attempt 1: database unavailable"), nil)
	WantErr(t, "MarkCompletionFailed(again)", s.MarkCompletionFailed(ctx, "wamid.f", "attempt 2: database unavailable"), nil)
	c, err := s.Completion(ctx, "wamid.f")
	WantErr(t, "Completion", err, nil)
	if c.Status != waflow.CompletionFailed || c.Result != "attempt 2: database unavailable" {
		t.Fatalf("after MarkCompletionFailed: status %q, result %q", c.Status, c.Result)
	}
	if c, err := s.CompletionByToken(ctx, "t"); err != nil || c.MessageID != "wamid.f" {
		t.Fatalf("CompletionByToken of a failed completion: %+v, %v", c, err)
	}
	WantErr(t, "MarkCompletionHandled", s.MarkCompletionHandled(ctx, "wamid.f", clock.Now()), nil)
	c, _ = s.Completion(ctx, "wamid.f")
	if c.Status != waflow.CompletionHandled || c.Result != "" || !c.HandledAt.Equal(clock.Now()) {
		t.Fatalf("after MarkCompletionHandled: %+v", c)
	}
	// Handled is final.
	WantErr(t, "MarkCompletionFailed(handled)", s.MarkCompletionFailed(ctx, "wamid.f", "late"), nil)
	if c, _ := s.Completion(ctx, "wamid.f"); c.Status != waflow.CompletionHandled {
		t.Fatalf("MarkCompletionFailed changed a handled completion to %q", c.Status)
	}
	WantErr(t, "MarkCompletionFailed(unknown)", s.MarkCompletionFailed(ctx, "nope", "x"), waflow.ErrNotFound)
}

// collect gathers what EachCompletion yields, failing t on an error.
func collect(t *testing.T, s waflow.Store, r waflow.CompletionRange) []string {
	t.Helper()
	out := []string{}
	for c, err := range s.EachCompletion(ctx, r) {
		if err != nil {
			t.Fatalf("EachCompletion(%+v): %v", r, err)
		}
		out = append(out, c.MessageID)
	}
	return out
}

// EachCompletion yields one flow's completions received in [since, until),
// in order, rejected and unattributed ones too.
func testCompletionEach(t *testing.T, s waflow.Store, clock *Clock) {
	at := func(min int) time.Time { return Epoch.Add(time.Duration(min) * time.Minute) }
	for i, c := range []struct {
		msg, flow string
		received  int
		status    waflow.CompletionStatus
	}{
		{"wamid.a3", "a", 3, waflow.CompletionRecorded},
		{"wamid.a1", "a", 1, waflow.CompletionRecorded},
		{"wamid.b2", "b", 2, waflow.CompletionRecorded},
		{"wamid.a2y", "a", 2, waflow.CompletionRejected},
		{"wamid.a2x", "a", 2, waflow.CompletionRecorded},
		{"wamid.x2", "", 2, waflow.CompletionRejected},
		{"wamid.a5", "a", 5, waflow.CompletionRecorded},
	} {
		if c.status == waflow.CompletionRejected {
			k := rejected(c.msg, c.flow, "", "x")
			k.ReceivedAt = at(c.received)
			if _, err := s.KeepCompletion(ctx, k); err != nil {
				t.Fatal(err)
			}
			continue
		}
		id := fmt.Sprintf("t%d", i)
		mustCreateToken(t, s, id, Epoch.Add(time.Hour))
		r := completion(c.msg, id)
		r.Flow, r.ReceivedAt = c.flow, at(c.received)
		if _, err := s.RecordCompletion(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	Diff(t, "all of a", []string{"wamid.a1", "wamid.a2x", "wamid.a2y", "wamid.a3", "wamid.a5"}, collect(t, s, waflow.CompletionRange{Flow: "a"}))
	Diff(t, "a in [2, 5)", []string{"wamid.a2x", "wamid.a2y", "wamid.a3"}, collect(t, s, waflow.CompletionRange{Flow: "a", Since: at(2), Until: at(5)}))
	Diff(t, "a since 3", []string{"wamid.a3", "wamid.a5"}, collect(t, s, waflow.CompletionRange{Flow: "a", Since: at(3)}))
	Diff(t, "a until 2", []string{"wamid.a1"}, collect(t, s, waflow.CompletionRange{Flow: "a", Until: at(2)}))
	Diff(t, "unattributed", []string{"wamid.x2"}, collect(t, s, waflow.CompletionRange{}))
	Diff(t, "none", []string{}, collect(t, s, waflow.CompletionRange{Flow: "nope"}))

	// Stopping early is fine; the fields are all there.
	for c, err := range s.EachCompletion(ctx, waflow.CompletionRange{Flow: "b"}) {
		WantErr(t, "EachCompletion(b)", err, nil)
		if c.MessageID != "wamid.b2" || c.Status != waflow.CompletionRecorded || !c.ReceivedAt.Equal(at(2)) || string(c.Response) == "" {
			t.Fatalf("EachCompletion(b) yielded %+v", c)
		}
		break
	}
	var n int
	for _, err := range s.EachCompletion(ctx, waflow.CompletionRange{Flow: "a", Since: at(3), Until: at(3)}) {
		n++
		WantErr(t, "EachCompletion(until = since)", err, waflow.ErrInvalid)
	}
	if n != 1 {
		t.Fatalf("EachCompletion(until = since) yielded %d times, want one error", n)
	}
}

// EachCompletion reads page after page: every completion once, in order,
// however many share a time.
func testCompletionEachPages(t *testing.T, s waflow.Store, clock *Clock) {
	const n = 1234
	want := make([]string, 0, n)
	for i := range n {
		k := rejected(fmt.Sprintf("wamid.%05d", i), "big", "", "x")
		k.ReceivedAt = Epoch.Add(time.Duration(i/300) * time.Second) // 300 share each time
		if _, err := s.KeepCompletion(ctx, k); err != nil {
			t.Fatal(err)
		}
		want = append(want, k.MessageID)
	}
	Diff(t, "every completion once, in order", want, collect(t, s, waflow.CompletionRange{Flow: "big"}))
	Diff(t, "from the third second", want[600:900], collect(t, s, waflow.CompletionRange{Flow: "big", Since: Epoch.Add(2 * time.Second), Until: Epoch.Add(3 * time.Second)}))
}

// EachCompletion resumes after a key, selects by status and stops at a
// limit, across the driver's own pages too: what package api's cursor
// pagination stands on.
func testCompletionEachAfter(t *testing.T, s waflow.Store, clock *Clock) {
	const n = 620 // more than a driver's page (500)
	all := make([]string, 0, n)
	keys := map[string]waflow.CompletionKey{}
	var rejectedIDs []string
	for i := range n {
		msg := fmt.Sprintf("wamid.%05d", i)
		at := Epoch.Add(time.Duration(i/7) * time.Second) // 7 share each time
		if i%3 == 0 {
			k := rejected(msg, "f", "", "x")
			k.ReceivedAt = at
			if _, err := s.KeepCompletion(ctx, k); err != nil {
				t.Fatal(err)
			}
			rejectedIDs = append(rejectedIDs, msg)
		} else {
			id := fmt.Sprintf("tok%05d", i)
			mustCreateToken(t, s, id, Epoch.Add(time.Hour))
			c := completion(msg, id)
			c.Flow, c.ReceivedAt = "f", at
			if _, err := s.RecordCompletion(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, msg)
		keys[msg] = waflow.CompletionKey{ReceivedAt: at, MessageID: msg}
	}
	Diff(t, "limit 10", all[:10], collect(t, s, waflow.CompletionRange{Flow: "f", Limit: 10}))
	Diff(t, "after the 10th, limit 10 (mid-second)", all[10:20], collect(t, s, waflow.CompletionRange{Flow: "f", After: keys[all[9]], Limit: 10}))
	Diff(t, "after the 600th, no limit", all[600:], collect(t, s, waflow.CompletionRange{Flow: "f", After: keys[all[599]]}))
	Diff(t, "limit beyond one driver page", all[3:563], collect(t, s, waflow.CompletionRange{Flow: "f", After: keys[all[2]], Limit: 560}))
	Diff(t, "after the last", []string{}, collect(t, s, waflow.CompletionRange{Flow: "f", After: keys[all[n-1]]}))
	Diff(t, "rejected only", rejectedIDs, collect(t, s, waflow.CompletionRange{Flow: "f", Status: waflow.CompletionRejected}))
	Diff(t, "rejected after the 6th, limit 5", rejectedIDs[2:7], collect(t, s, waflow.CompletionRange{Flow: "f", Status: waflow.CompletionRejected, After: keys[all[5]], Limit: 5}))
	Diff(t, "handled: none yet", []string{}, collect(t, s, waflow.CompletionRange{Flow: "f", Status: waflow.CompletionHandled}))
	// The bounds still hold with a key before them.
	Diff(t, "after a key before since", all[14:21], collect(t, s, waflow.CompletionRange{Flow: "f", Since: Epoch.Add(2 * time.Second), Until: Epoch.Add(3 * time.Second), After: keys[all[0]]}))

	for _, r := range []waflow.CompletionRange{{Flow: "f", Status: "done"}, {Flow: "f", Limit: -1}} {
		var errs int
		for _, err := range s.EachCompletion(ctx, r) {
			errs++
			WantErr(t, fmt.Sprintf("EachCompletion(%+v)", r), err, waflow.ErrInvalid)
		}
		if errs != 1 {
			t.Fatalf("EachCompletion(%+v) yielded %d times, want one error", r, errs)
		}
	}
}
