package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/waflow/waflow"
)

// Opener opens a new, empty store whose clock is now. It registers with
// t.Cleanup whatever closes and removes the store.
type Opener func(t *testing.T, now func() time.Time) waflow.Store

// Epoch is the time the suite's clocks start at. It has microsecond
// precision, the precision both drivers keep.
var Epoch = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	t.Helper()
	RunCases(t, open, []Case[waflow.Store]{
		{"Token/RoundTrip", testTokenRoundTrip},
		{"Token/CreateErrors", testTokenCreateErrors},
		{"Token/Expiry", testTokenExpiry},
		{"Token/MarkUsedOnce", testTokenMarkUsedOnce},
		{"Token/MarkUsedErrors", testTokenMarkUsedErrors},
		{"Token/Message", testTokenMessage},
		{"Inbox/AddDedupe", testInboxAddDedupe},
		{"Inbox/AddConcurrentDuplicates", testInboxAddConcurrentDuplicates},
		{"Inbox/AddInvalid", testInboxAddInvalid},
		{"Inbox/ClaimLease", testInboxClaimLease},
		{"Inbox/Retry", testInboxRetry},
		{"Inbox/SettleErrors", testInboxSettleErrors},
		{"Inbox/ClaimConcurrent", testInboxClaimConcurrent},
		{"Inbox/ListAndStats", testInboxListAndStats},
		{"Completion/Record", testCompletionRecord},
		{"Completion/Idempotent", testCompletionIdempotent},
		{"Completion/Refused", testCompletionRefused},
		{"Completion/Concurrent", testCompletionConcurrent},
		{"Completion/Reject", testCompletionReject},
		{"Completion/List", testCompletionList},
		{"Completion/Keep", testCompletionKeep},
		{"Completion/Failed", testCompletionFailed},
		{"Completion/Each", testCompletionEach},
		{"Completion/EachPages", testCompletionEachPages},
		{"Completion/EachAfter", testCompletionEachAfter},
		{"Outbox/Enqueue", testOutboxEnqueue},
		{"Outbox/Lifecycle", testOutboxLifecycle},
		{"Outbox/ClaimConcurrent", testOutboxClaimConcurrent},
		{"Outbox/Unknown", testOutboxUnknown},
		{"Deployment/RoundTrip", testDeploymentRoundTrip},
		{"Users/Merge", testUsersMerge},
		{"Users/IDsKept", testUserIDsKept},
		{"Users/RecycledNumber", testUsersRecycledNumber},
		{"FlowHealth/PausesOutbox", testFlowHealthPausesOutbox},
		{"Delivery/AddDedupe", testDeliveryAddDedupe},
		{"Delivery/Lifecycle", testDeliveryLifecycle},
		{"Delivery/OrderKey", testDeliveryOrderKey},
		{"Delivery/Prune", testDeliveryPrune},
		{"Delivery/Subscriptions", testDeliverySubscriptions},
		{"Store/PingClose", testPingClose},
	})
}

// Case is one check of a conformance suite, run on a new store of type S
// whose clock it drives.
type Case[S any] struct {
	Name  string
	Check func(t *testing.T, s S, clock *Clock)
}

// RunCases runs each case as a parallel subtest on a store of its own,
// opened by open with a clock that starts at Epoch. Run runs the core suite
// with it; a suite for a flow's own tables (package catalogtest) does too.
func RunCases[S any](t *testing.T, open func(t *testing.T, now func() time.Time) S, cases []Case[S]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			clock := NewClock(Epoch)
			s := open(t, clock.Now)
			tc.Check(t, s, clock)
		})
	}
}

var ctx = context.Background()

// WantErr fails t unless errors.Is(err, want) (or err is nil when want is).
func WantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error: %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want one matching %v", what, err, want)
	}
}

// Diff fails t when got differs from want, nil and empty slices and maps
// alike, and shows the difference.
func Diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func mustCreateToken(t *testing.T, s waflow.Store, id string, expires time.Time) waflow.FlowToken {
	t.Helper()
	tok := waflow.FlowToken{
		ID:        id,
		Flow:      "book_table",
		WAID:      "15551234567",
		IssuedAt:  Epoch,
		ExpiresAt: expires,
	}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken(%q): %v", id, err)
	}
	tok.State = waflow.TokenIssued
	return tok
}

func mustToken(t *testing.T, s waflow.Store, id string) waflow.FlowToken {
	t.Helper()
	tok, err := s.Token(ctx, id)
	if err != nil {
		t.Fatalf("Token(%q): %v", id, err)
	}
	return tok
}

func testTokenRoundTrip(t *testing.T, s waflow.Store, clock *Clock) {
	want := mustCreateToken(t, s, "tok-1", Epoch.Add(time.Hour))
	Diff(t, "Token", want, mustToken(t, s, "tok-1"))
	// Fields the caller sets that CreateToken must ignore.
	err := s.CreateToken(ctx, waflow.FlowToken{ID: "tok-2", Flow: "f", ExpiresAt: Epoch.Add(time.Hour),
		State: waflow.TokenUsed, UsedAt: Epoch, MessageID: "wamid.X"})
	WantErr(t, "CreateToken", err, nil)
	got := mustToken(t, s, "tok-2")
	if got.State != waflow.TokenIssued || !got.UsedAt.IsZero() || got.MessageID != "" {
		t.Fatalf("CreateToken kept caller's State/UsedAt/MessageID: %+v", got)
	}
}

func testTokenCreateErrors(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "dup", Epoch.Add(time.Hour))
	err := s.CreateToken(ctx, waflow.FlowToken{ID: "dup", Flow: "other", ExpiresAt: Epoch.Add(2 * time.Hour)})
	WantErr(t, "CreateToken(duplicate)", err, waflow.ErrConflict)
	if got := mustToken(t, s, "dup"); got.Flow != "book_table" {
		t.Fatalf("a refused duplicate changed the stored token: %+v", got)
	}
	for name, tok := range map[string]waflow.FlowToken{
		"no id":     {Flow: "f", ExpiresAt: Epoch},
		"no flow":   {ID: "x", ExpiresAt: Epoch},
		"no expiry": {ID: "x", Flow: "f"},
	} {
		WantErr(t, "CreateToken("+name+")", s.CreateToken(ctx, tok), waflow.ErrInvalid)
	}
	_, err = s.Token(ctx, "x")
	WantErr(t, "Token(never stored)", err, waflow.ErrNotFound)
}

func testTokenExpiry(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "short", Epoch.Add(time.Minute))
	mustCreateToken(t, s, "long", Epoch.Add(time.Hour))
	mustCreateToken(t, s, "used", Epoch.Add(time.Minute))
	WantErr(t, "MarkTokenUsed", s.MarkTokenUsed(ctx, "used", Epoch), nil)

	if st := mustToken(t, s, "short").State; st != waflow.TokenIssued {
		t.Fatalf("before expiry: state %q, want issued", st)
	}
	clock.Advance(time.Minute) // exactly at ExpiresAt: no longer valid
	if st := mustToken(t, s, "short").State; st != waflow.TokenExpired {
		t.Fatalf("at expiry, before the sweep: state %q, want expired", st)
	}
	n, err := s.ExpireTokens(ctx, clock.Now())
	WantErr(t, "ExpireTokens", err, nil)
	if n != 1 {
		t.Fatalf("ExpireTokens moved %d tokens, want 1 (only the unused, expired one)", n)
	}
	for id, want := range map[string]waflow.TokenState{"short": waflow.TokenExpired, "long": waflow.TokenIssued, "used": waflow.TokenUsed} {
		if st := mustToken(t, s, id).State; st != want {
			t.Errorf("after the sweep, token %s is %q, want %q", id, st, want)
		}
	}
	// A completion made before the expiry but delivered after the sweep
	// still uses the token.
	WantErr(t, "MarkTokenUsed(swept, at before expiry)", s.MarkTokenUsed(ctx, "short", Epoch.Add(30*time.Second)), nil)
	if tok := mustToken(t, s, "short"); tok.State != waflow.TokenUsed || !tok.UsedAt.Equal(Epoch.Add(30*time.Second)) {
		t.Fatalf("after late use: %+v", tok)
	}
}

func testTokenMarkUsedOnce(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "race", Epoch.Add(time.Hour))
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.MarkTokenUsed(ctx, "race", Epoch.Add(time.Duration(i)*time.Second)) })
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case errors.Is(err, waflow.ErrTokenUsed):
			if !errors.Is(err, waflow.ErrConflict) {
				t.Errorf("caller %d: ErrTokenUsed does not match ErrConflict: %v", i, err)
			}
		default:
			t.Errorf("caller %d: %v, want nil or ErrTokenUsed", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent MarkTokenUsed calls succeeded, want exactly 1", winners, n)
	}
	if tok := mustToken(t, s, "race"); tok.State != waflow.TokenUsed || tok.UsedAt.IsZero() {
		t.Fatalf("after MarkTokenUsed: %+v", tok)
	}
	WantErr(t, "MarkTokenUsed(again)", s.MarkTokenUsed(ctx, "race", Epoch), waflow.ErrTokenUsed)
}

func testTokenMarkUsedErrors(t *testing.T, s waflow.Store, clock *Clock) {
	WantErr(t, "MarkTokenUsed(unknown)", s.MarkTokenUsed(ctx, "nope", Epoch), waflow.ErrNotFound)
	mustCreateToken(t, s, "exp", Epoch.Add(time.Minute))
	WantErr(t, "MarkTokenUsed(at expiry)", s.MarkTokenUsed(ctx, "exp", Epoch.Add(time.Minute)), waflow.ErrTokenExpired)
	if st := mustToken(t, s, "exp").State; st != waflow.TokenIssued {
		t.Fatalf("a refused MarkTokenUsed changed the state to %q", st)
	}
}

func testTokenMessage(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "a", Epoch.Add(time.Hour))
	mustCreateToken(t, s, "b", Epoch.Add(time.Hour))
	_, err := s.TokenByMessage(ctx, "wamid.A")
	WantErr(t, "TokenByMessage(before)", err, waflow.ErrNotFound)

	WantErr(t, "SetTokenMessage", s.SetTokenMessage(ctx, "a", "wamid.A"), nil)
	WantErr(t, "SetTokenMessage(same again)", s.SetTokenMessage(ctx, "a", "wamid.A"), nil)
	WantErr(t, "SetTokenMessage(other wamid)", s.SetTokenMessage(ctx, "a", "wamid.Z"), waflow.ErrConflict)
	WantErr(t, "SetTokenMessage(wamid of another token)", s.SetTokenMessage(ctx, "b", "wamid.A"), waflow.ErrConflict)
	WantErr(t, "SetTokenMessage(unknown token)", s.SetTokenMessage(ctx, "nope", "wamid.N"), waflow.ErrNotFound)
	WantErr(t, "SetTokenMessage(empty)", s.SetTokenMessage(ctx, "b", ""), waflow.ErrInvalid)

	tok, err := s.TokenByMessage(ctx, "wamid.A")
	WantErr(t, "TokenByMessage", err, nil)
	if tok.ID != "a" || tok.MessageID != "wamid.A" {
		t.Fatalf("TokenByMessage(wamid.A) = %+v, want token a", tok)
	}
	if got := mustToken(t, s, "b"); got.MessageID != "" {
		t.Fatalf("token b got a message id: %+v", got)
	}
}

func event(key string, kind waflow.EventKind) waflow.InboxEvent {
	return waflow.InboxEvent{DedupeKey: key, Kind: kind, Payload: []byte(`{"key":"` + key + `","text":"héllo ✓"}`)}
}

func mustAdd(t *testing.T, s waflow.Store, want int, events ...waflow.InboxEvent) {
	t.Helper()
	n, err := s.AddEvents(ctx, events)
	if err != nil {
		t.Fatalf("AddEvents: %v", err)
	}
	if n != want {
		t.Fatalf("AddEvents added %d events, want %d", n, want)
	}
}

func mustEventByKey(t *testing.T, s waflow.Store, key string) waflow.InboxEvent {
	t.Helper()
	ev, err := s.InboxEventByKey(ctx, key)
	if err != nil {
		t.Fatalf("InboxEventByKey(%q): %v", key, err)
	}
	return ev
}

func mustClaim(t *testing.T, s waflow.Store, owner string, max int, lease time.Duration) []waflow.InboxEvent {
	t.Helper()
	evs, err := s.ClaimEvents(ctx, owner, max, lease)
	if err != nil {
		t.Fatalf("ClaimEvents(%s): %v", owner, err)
	}
	return evs
}

func keys(evs []waflow.InboxEvent) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.DedupeKey)
	}
	return out
}

func testInboxAddDedupe(t *testing.T, s waflow.Store, clock *Clock) {
	mustAdd(t, s, 0)
	mustAdd(t, s, 2, event("a", waflow.EventCompletion), event("b", waflow.EventStatus), event("a", waflow.EventCompletion))
	clock.Advance(time.Second)
	mustAdd(t, s, 1, event("b", waflow.EventStatus), event("c", waflow.EventFlows))

	a := mustEventByKey(t, s, "a")
	want := waflow.InboxEvent{
		ID: a.ID, DedupeKey: "a", Kind: waflow.EventCompletion, Payload: event("a", "").Payload,
		ReceivedAt: Epoch, State: waflow.InboxPending, NextAttemptAt: Epoch,
	}
	Diff(t, "event a", want, a)
	b, c := mustEventByKey(t, s, "b"), mustEventByKey(t, s, "c")
	if !(a.ID < b.ID && b.ID < c.ID) {
		t.Fatalf("IDs not increasing in insertion order: a=%d b=%d c=%d", a.ID, b.ID, c.ID)
	}
	if !b.ReceivedAt.Equal(Epoch) || !c.ReceivedAt.Equal(Epoch.Add(time.Second)) {
		t.Fatalf("a duplicate changed ReceivedAt: b=%v c=%v", b.ReceivedAt, c.ReceivedAt)
	}
	got, err := s.InboxEvent(ctx, c.ID)
	WantErr(t, "InboxEvent", err, nil)
	Diff(t, "InboxEvent(c)", c, got)
	_, err = s.InboxEvent(ctx, c.ID+1000)
	WantErr(t, "InboxEvent(unknown)", err, waflow.ErrNotFound)
	_, err = s.InboxEventByKey(ctx, "zzz")
	WantErr(t, "InboxEventByKey(unknown)", err, waflow.ErrNotFound)

	// An explicit ReceivedAt is kept.
	at := Epoch.Add(-time.Hour)
	ev := event("d", waflow.EventOther)
	ev.ReceivedAt = at
	mustAdd(t, s, 1, ev)
	if d := mustEventByKey(t, s, "d"); !d.ReceivedAt.Equal(at) || !d.NextAttemptAt.Equal(at) {
		t.Fatalf("explicit ReceivedAt: got %+v", d)
	}
}

func testInboxAddConcurrentDuplicates(t *testing.T, s waflow.Store, clock *Clock) {
	const senders, distinct = 32, 8
	added := make([]int, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			n, err := s.AddEvents(ctx, []waflow.InboxEvent{event(fmt.Sprintf("k%d", i%distinct), waflow.EventMessage)})
			if err != nil {
				t.Errorf("sender %d: %v", i, err)
			}
			added[i] = n
		})
	}
	wg.Wait()
	total := 0
	for _, n := range added {
		total += n
	}
	if total != distinct {
		t.Fatalf("concurrent senders added %d events in all, want %d", total, distinct)
	}
	all, err := s.InboxEvents(ctx, waflow.InboxFilter{Limit: 1000})
	WantErr(t, "InboxEvents", err, nil)
	if len(all) != distinct {
		t.Fatalf("inbox holds %d events, want %d: %v", len(all), distinct, keys(all))
	}
}

func testInboxAddInvalid(t *testing.T, s waflow.Store, clock *Clock) {
	for name, bad := range map[string]waflow.InboxEvent{
		"no key":     {Kind: waflow.EventMessage, Payload: []byte("{}")},
		"no kind":    {DedupeKey: "x", Payload: []byte("{}")},
		"no payload": {DedupeKey: "x", Kind: waflow.EventMessage},
	} {
		_, err := s.AddEvents(ctx, []waflow.InboxEvent{event("good", waflow.EventMessage), bad})
		WantErr(t, "AddEvents("+name+")", err, waflow.ErrInvalid)
	}
	if all, _ := s.InboxEvents(ctx, waflow.InboxFilter{}); len(all) != 0 {
		t.Fatalf("a refused batch stored events: %v", keys(all))
	}
}

func testInboxClaimLease(t *testing.T, s waflow.Store, clock *Clock) {
	mustAdd(t, s, 3, event("e1", waflow.EventMessage), event("e2", waflow.EventMessage), event("e3", waflow.EventMessage))
	got := mustClaim(t, s, "w1", 2, time.Minute)
	Diff(t, "first claim", []string{"e1", "e2"}, keys(got))
	for _, ev := range got {
		if ev.State != waflow.InboxProcessing || ev.LeaseOwner != "w1" || ev.Attempts != 1 || !ev.LeaseUntil.Equal(Epoch.Add(time.Minute)) {
			t.Fatalf("claimed event: %+v", ev)
		}
	}
	Diff(t, "second claim", []string{"e3"}, keys(mustClaim(t, s, "w2", 10, time.Minute)))
	Diff(t, "claim with nothing due", []string{}, keys(mustClaim(t, s, "w2", 10, time.Minute)))

	// w1 crashes; once its lease runs out, w3 retakes e1 and e2.
	clock.Advance(time.Minute)
	retaken := mustClaim(t, s, "w3", 10, time.Minute)
	Diff(t, "claim after the leases ran out", []string{"e1", "e2", "e3"}, keys(retaken))
	if retaken[0].Attempts != 2 || retaken[0].LeaseOwner != "w3" {
		t.Fatalf("retaken event: %+v", retaken[0])
	}
	e1 := retaken[0].ID
	WantErr(t, "FinishEvent by the old owner", s.FinishEvent(ctx, e1, "w1", waflow.InboxDone, "late"), waflow.ErrLeaseLost)
	WantErr(t, "FinishEvent", s.FinishEvent(ctx, e1, "w3", waflow.InboxDone, "acted"), nil)
	WantErr(t, "FinishEvent(twice)", s.FinishEvent(ctx, e1, "w3", waflow.InboxDone, "again"), waflow.ErrLeaseLost)
	done := mustEventByKey(t, s, "e1")
	if done.State != waflow.InboxDone || done.Result != "acted" || !done.ProcessedAt.Equal(clock.Now()) || done.LeaseOwner != "" {
		t.Fatalf("finished event: %+v", done)
	}
	// A finished event is never claimed again, even long after.
	clock.Advance(24 * time.Hour)
	Diff(t, "claim after finishing e1", []string{"e2", "e3"}, keys(mustClaim(t, s, "w4", 10, time.Minute)))

	// An owner whose lease ran out may still settle the event as long as
	// nobody else claimed it.
	clock.Advance(2 * time.Minute)
	e2 := mustEventByKey(t, s, "e2")
	WantErr(t, "FinishEvent after own lease ran out", s.FinishEvent(ctx, e2.ID, "w4", waflow.InboxRejected, "unknown flow token"), nil)
	if ev := mustEventByKey(t, s, "e2"); ev.State != waflow.InboxRejected || ev.Result != "unknown flow token" {
		t.Fatalf("rejected event: %+v", ev)
	}
}

func testInboxRetry(t *testing.T, s waflow.Store, clock *Clock) {
	mustAdd(t, s, 1, event("r", waflow.EventCompletion))
	ev := mustClaim(t, s, "w", 1, time.Minute)[0]
	WantErr(t, "RetryEvent", s.RetryEvent(ctx, ev.ID, "w", "handler: connection refused", Epoch.Add(10*time.Second)), nil)
	got := mustEventByKey(t, s, "r")
	if got.State != waflow.InboxPending || got.LastError != "handler: connection refused" || got.Attempts != 1 ||
		!got.NextAttemptAt.Equal(Epoch.Add(10*time.Second)) || got.LeaseOwner != "" {
		t.Fatalf("after RetryEvent: %+v", got)
	}
	WantErr(t, "RetryEvent(twice)", s.RetryEvent(ctx, ev.ID, "w", "x", Epoch), waflow.ErrLeaseLost)
	Diff(t, "claim before NextAttemptAt", []string{}, keys(mustClaim(t, s, "w", 1, time.Minute)))
	clock.Advance(10 * time.Second)
	again := mustClaim(t, s, "w", 1, time.Minute)
	if len(again) != 1 || again[0].Attempts != 2 || again[0].LastError != "handler: connection refused" {
		t.Fatalf("claim at NextAttemptAt: %+v", again)
	}
	WantErr(t, "FinishEvent(dead)", s.FinishEvent(ctx, ev.ID, "w", waflow.InboxDead, "gave up after 2 attempts"), nil)
	if st, _ := s.InboxStats(ctx); st.Dead != 1 || st.Pending != 0 || st.Processing != 0 {
		t.Fatalf("InboxStats after dead-lettering: %+v", st)
	}
}

func testInboxSettleErrors(t *testing.T, s waflow.Store, clock *Clock) {
	WantErr(t, "FinishEvent(unknown)", s.FinishEvent(ctx, 999999, "w", waflow.InboxDone, ""), waflow.ErrNotFound)
	WantErr(t, "RetryEvent(unknown)", s.RetryEvent(ctx, 999999, "w", "", Epoch), waflow.ErrNotFound)
	mustAdd(t, s, 1, event("s", waflow.EventMessage))
	ev := mustEventByKey(t, s, "s")
	WantErr(t, "FinishEvent(never claimed)", s.FinishEvent(ctx, ev.ID, "w", waflow.InboxDone, ""), waflow.ErrLeaseLost)
	mustClaim(t, s, "w", 1, time.Minute)
	for _, st := range []waflow.InboxState{waflow.InboxPending, waflow.InboxProcessing, "bogus"} {
		WantErr(t, fmt.Sprintf("FinishEvent(%q)", st), s.FinishEvent(ctx, ev.ID, "w", st, ""), waflow.ErrInvalid)
	}
	for name, call := range map[string]func() error{
		"empty owner":  func() error { _, err := s.ClaimEvents(ctx, "", 1, time.Minute); return err },
		"zero max":     func() error { _, err := s.ClaimEvents(ctx, "w", 0, time.Minute); return err },
		"zero lease":   func() error { _, err := s.ClaimEvents(ctx, "w", 1, 0); return err },
		"outbox owner": func() error { _, err := s.ClaimOutbox(ctx, "", 1, time.Minute); return err },
	} {
		WantErr(t, "Claim("+name+")", call(), waflow.ErrInvalid)
	}
}

func testInboxClaimConcurrent(t *testing.T, s waflow.Store, clock *Clock) {
	const events, workers = 120, 6
	var batch []waflow.InboxEvent
	for i := range events {
		batch = append(batch, event(fmt.Sprintf("c%03d", i), waflow.EventMessage))
	}
	mustAdd(t, s, events, batch...)
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for w := range workers {
		owner := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			for {
				evs, err := s.ClaimEvents(ctx, owner, 7, time.Hour)
				if err != nil {
					t.Errorf("%s: ClaimEvents: %v", owner, err)
					return
				}
				if len(evs) == 0 {
					return
				}
				for _, ev := range evs {
					mu.Lock()
					prev, dup := seen[ev.ID]
					seen[ev.ID] = owner
					mu.Unlock()
					if dup {
						t.Errorf("event %s claimed by %s and %s", ev.DedupeKey, prev, owner)
					}
					if err := s.FinishEvent(ctx, ev.ID, owner, waflow.InboxDone, "ok"); err != nil {
						t.Errorf("%s: FinishEvent: %v", owner, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != events {
		t.Fatalf("%d events were claimed, want %d", len(seen), events)
	}
}

func testInboxListAndStats(t *testing.T, s waflow.Store, clock *Clock) {
	mustAdd(t, s, 4, event("l1", waflow.EventCompletion), event("l2", waflow.EventStatus), event("l3", waflow.EventCompletion), event("l4", waflow.EventFlows))
	claimed := mustClaim(t, s, "w", 1, time.Minute) // l1 processing
	pending := waflow.InboxPending
	completion := waflow.EventCompletion
	for _, tc := range []struct {
		name string
		f    waflow.InboxFilter
		want []string
	}{
		{"all", waflow.InboxFilter{}, []string{"l1", "l2", "l3", "l4"}},
		{"pending", waflow.InboxFilter{State: &pending}, []string{"l2", "l3", "l4"}},
		{"completions", waflow.InboxFilter{Kind: &completion}, []string{"l1", "l3"}},
		{"pending completions", waflow.InboxFilter{State: &pending, Kind: &completion}, []string{"l3"}},
		{"after l1, limit 2", waflow.InboxFilter{AfterID: claimed[0].ID, Limit: 2}, []string{"l2", "l3"}},
	} {
		got, err := s.InboxEvents(ctx, tc.f)
		WantErr(t, "InboxEvents("+tc.name+")", err, nil)
		Diff(t, "InboxEvents("+tc.name+")", tc.want, keys(got))
	}
	st, err := s.InboxStats(ctx)
	WantErr(t, "InboxStats", err, nil)
	Diff(t, "InboxStats", waflow.InboxStats{Pending: 3, Processing: 1}, st)
}

func completion(msg, token string) waflow.Completion {
	return waflow.Completion{
		MessageID:   msg,
		TokenID:     token,
		Flow:        "book_table",
		WAID:        "15551234567",
		ContextID:   "wamid.sent",
		Response:    []byte(`{"flow_token":"wf1.x","guests":4,"name":"Zoë"}`),
		CompletedAt: Epoch.Add(time.Minute),
	}
}

func testCompletionRecord(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	mustAdd(t, s, 1, event("wamid.reply", waflow.EventCompletion))
	ev := mustEventByKey(t, s, "wamid.reply")
	c := completion("wamid.reply", "t")
	c.InboxEventID = ev.ID
	c.UserID = "US.13491208655302741918"
	c.ReceivedAt = Epoch.Add(90 * time.Second)
	c.Status, c.Result = waflow.CompletionHandled, "ignored" // the store sets them
	clock.Advance(2 * time.Minute)
	got, err := s.RecordCompletion(ctx, c)
	WantErr(t, "RecordCompletion", err, nil)
	want := c
	want.RecordedAt = clock.Now()
	want.Status, want.Result = waflow.CompletionRecorded, ""
	Diff(t, "recorded completion", want, got)

	tok := mustToken(t, s, "t")
	if tok.State != waflow.TokenUsed || !tok.UsedAt.Equal(c.CompletedAt) {
		t.Fatalf("RecordCompletion did not use the token: %+v", tok)
	}
	byMsg, err := s.Completion(ctx, "wamid.reply")
	WantErr(t, "Completion", err, nil)
	Diff(t, "Completion", want, byMsg)
	byTok, err := s.CompletionByToken(ctx, "t")
	WantErr(t, "CompletionByToken", err, nil)
	Diff(t, "CompletionByToken", want, byTok)

	WantErr(t, "MarkCompletionHandled", s.MarkCompletionHandled(ctx, "wamid.reply", Epoch.Add(3*time.Minute)), nil)
	WantErr(t, "MarkCompletionHandled(again)", s.MarkCompletionHandled(ctx, "wamid.reply", Epoch.Add(9*time.Minute)), nil)
	if got, _ := s.Completion(ctx, "wamid.reply"); !got.HandledAt.Equal(Epoch.Add(3*time.Minute)) || got.Status != waflow.CompletionHandled {
		t.Fatalf("HandledAt = %v, status %q; want the first call's time, handled", got.HandledAt, got.Status)
	}
	WantErr(t, "MarkCompletionHandled(unknown)", s.MarkCompletionHandled(ctx, "nope", Epoch), waflow.ErrNotFound)
	_, err = s.Completion(ctx, "nope")
	WantErr(t, "Completion(unknown)", err, waflow.ErrNotFound)
	_, err = s.CompletionByToken(ctx, "nope")
	WantErr(t, "CompletionByToken(unknown)", err, waflow.ErrNotFound)
}

func testCompletionIdempotent(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	first, err := s.RecordCompletion(ctx, completion("wamid.r", "t"))
	WantErr(t, "RecordCompletion", err, nil)
	clock.Advance(time.Hour)
	// The same message again (a duplicate webhook, or a retry after a crash)
	// returns what is stored and changes nothing.
	again := completion("wamid.r", "t")
	again.Response = []byte(`{"changed":true}`)
	got, err := s.RecordCompletion(ctx, again)
	WantErr(t, "RecordCompletion(same message)", err, nil)
	Diff(t, "completion recorded again", first, got)

	WantErr(t, "MarkCompletionHandled", s.MarkCompletionHandled(ctx, "wamid.r", clock.Now()), nil)
	got, err = s.RecordCompletion(ctx, completion("wamid.r", "t"))
	WantErr(t, "RecordCompletion(after handled)", err, nil)
	if !got.HandledAt.Equal(clock.Now()) {
		t.Fatalf("a repeated RecordCompletion does not show HandledAt: %+v", got)
	}
}

func testCompletionRefused(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	mustCreateToken(t, s, "u", Epoch.Add(time.Hour))
	mustCreateToken(t, s, "marked", Epoch.Add(time.Hour))
	mustCreateToken(t, s, "exp", Epoch.Add(30*time.Second))
	_, err := s.RecordCompletion(ctx, completion("wamid.1", "t"))
	WantErr(t, "RecordCompletion", err, nil)
	WantErr(t, "MarkTokenUsed", s.MarkTokenUsed(ctx, "marked", Epoch), nil)

	for _, tc := range []struct {
		name string
		c    waflow.Completion
		want error
	}{
		{"replay: another message, used token", completion("wamid.2", "t"), waflow.ErrTokenUsed},
		{"token used by MarkTokenUsed", completion("wamid.3", "marked"), waflow.ErrTokenUsed},
		{"unknown token", completion("wamid.4", "nope"), waflow.ErrNotFound},
		{"expired token", completion("wamid.5", "exp"), waflow.ErrTokenExpired},
		{"message recorded for another token", completion("wamid.1", "u"), waflow.ErrConflict},
		{"no message id", completion("", "u"), waflow.ErrInvalid},
		{"no token id", completion("wamid.6", ""), waflow.ErrInvalid},
		{"no response", func() waflow.Completion { c := completion("wamid.7", "u"); c.Response = nil; return c }(), waflow.ErrInvalid},
		{"no time", func() waflow.Completion { c := completion("wamid.8", "u"); c.CompletedAt = time.Time{}; return c }(), waflow.ErrInvalid},
	} {
		_, err := s.RecordCompletion(ctx, tc.c)
		WantErr(t, "RecordCompletion("+tc.name+")", err, tc.want)
		if tc.c.MessageID != "wamid.1" && tc.c.MessageID != "" {
			_, err := s.Completion(ctx, tc.c.MessageID)
			WantErr(t, "Completion after refused "+tc.name, err, waflow.ErrNotFound)
		}
	}
	// The refused completions left the tokens as they were.
	for id, want := range map[string]waflow.TokenState{"u": waflow.TokenIssued, "exp": waflow.TokenIssued, "marked": waflow.TokenUsed} {
		if st := mustToken(t, s, id).State; st != want {
			t.Errorf("token %s is %q after refused completions, want %q", id, st, want)
		}
	}
	if c, err := s.CompletionByToken(ctx, "t"); err != nil || c.MessageID != "wamid.1" {
		t.Fatalf("CompletionByToken(t) = %+v, %v; want the first completion", c, err)
	}
}

// A completion its handler rejected is undone but kept: it is rejected, with
// the reason, and its token is issued again.
func testCompletionReject(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	mustCreateToken(t, s, "h", Epoch.Add(time.Hour))
	_, err := s.RecordCompletion(ctx, completion("wamid.bad", "t"))
	WantErr(t, "RecordCompletion", err, nil)
	WantErr(t, "RejectCompletion", s.RejectCompletion(ctx, "wamid.bad", "booking_ref names no booking"), nil)
	got, err := s.Completion(ctx, "wamid.bad")
	WantErr(t, "Completion after RejectCompletion", err, nil)
	if got.Status != waflow.CompletionRejected || got.Result != "booking_ref names no booking" || got.TokenID != "t" {
		t.Fatalf("completion after RejectCompletion = %+v; want rejected with the reason, naming its token", got)
	}
	_, err = s.CompletionByToken(ctx, "t")
	WantErr(t, "CompletionByToken after RejectCompletion", err, waflow.ErrNotFound)
	if tok := mustToken(t, s, "t"); tok.State != waflow.TokenIssued || !tok.UsedAt.IsZero() {
		t.Fatalf("token after RejectCompletion = %+v, want issued and unused", tok)
	}
	WantErr(t, "RejectCompletion(again)", s.RejectCompletion(ctx, "wamid.bad", "other"), nil)
	if got, _ := s.Completion(ctx, "wamid.bad"); got.Result != "booking_ref names no booking" {
		t.Fatalf("a second RejectCompletion changed the result to %q", got.Result)
	}
	// A rejected completion is never recorded nor handled.
	_, err = s.RecordCompletion(ctx, completion("wamid.bad", "t"))
	WantErr(t, "RecordCompletion(rejected message)", err, waflow.ErrRejected)
	WantErr(t, "MarkCompletionHandled(rejected)", s.MarkCompletionHandled(ctx, "wamid.bad", clock.Now()), waflow.ErrConflict)
	WantErr(t, "MarkCompletionFailed(rejected)", s.MarkCompletionFailed(ctx, "wamid.bad", "x"), nil)
	if got, _ := s.Completion(ctx, "wamid.bad"); got.Status != waflow.CompletionRejected {
		t.Fatalf("MarkCompletionFailed changed a rejected completion to %q", got.Status)
	}

	// The token can be used again, by another message.
	again, err := s.RecordCompletion(ctx, completion("wamid.good", "t"))
	WantErr(t, "RecordCompletion after RejectCompletion", err, nil)
	if tok := mustToken(t, s, "t"); tok.State != waflow.TokenUsed || !tok.UsedAt.Equal(again.CompletedAt) {
		t.Fatalf("token after a new completion = %+v, want used", tok)
	}
	if c, err := s.CompletionByToken(ctx, "t"); err != nil || c.MessageID != "wamid.good" {
		t.Fatalf("CompletionByToken after a new completion = %+v, %v; want wamid.good", c, err)
	}
	if list, err := s.Completions(ctx, waflow.CompletionFilter{}); err != nil || len(list) != 2 {
		t.Fatalf("Completions = %d, %v; want the rejected one and the new one", len(list), err)
	}

	// A handled completion was acted on: it stays.
	_, err = s.RecordCompletion(ctx, completion("wamid.handled", "h"))
	WantErr(t, "RecordCompletion", err, nil)
	WantErr(t, "MarkCompletionHandled", s.MarkCompletionHandled(ctx, "wamid.handled", clock.Now()), nil)
	WantErr(t, "RejectCompletion(handled)", s.RejectCompletion(ctx, "wamid.handled", "x"), waflow.ErrConflict)
	if c, err := s.Completion(ctx, "wamid.handled"); err != nil || c.Status != waflow.CompletionHandled {
		t.Fatalf("a handled completion after RejectCompletion: %+v, %v", c, err)
	}
	if tok := mustToken(t, s, "h"); tok.State != waflow.TokenUsed {
		t.Fatalf("the token of a handled completion is %q after RejectCompletion, want used", tok.State)
	}
	WantErr(t, "RejectCompletion(unknown)", s.RejectCompletion(ctx, "nope", "x"), waflow.ErrNotFound)
}

func testCompletionConcurrent(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	const n = 12
	// Half the callers send the same message (duplicates), half other
	// messages with the same token (replays).
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = "wamid.same"
		if i%2 == 1 {
			msgs[i] = fmt.Sprintf("wamid.other%d", i)
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = s.RecordCompletion(ctx, completion(msgs[i], "t")) })
	}
	wg.Wait()
	winner, err := s.CompletionByToken(ctx, "t")
	WantErr(t, "CompletionByToken", err, nil)
	for i, err := range errs {
		if msgs[i] == winner.MessageID {
			WantErr(t, fmt.Sprintf("caller %d (the recorded message)", i), err, nil)
		} else {
			WantErr(t, fmt.Sprintf("caller %d (another message)", i), err, waflow.ErrTokenUsed)
		}
	}
	got, err := s.Completions(ctx, waflow.CompletionFilter{})
	WantErr(t, "Completions", err, nil)
	if len(got) != 1 {
		t.Fatalf("%d completions stored for one token, want 1", len(got))
	}
}

func testCompletionList(t *testing.T, s waflow.Store, clock *Clock) {
	for i, flow := range []string{"a", "b", "a"} {
		id := fmt.Sprintf("t%d", i)
		mustCreateToken(t, s, id, Epoch.Add(time.Hour))
		c := completion(fmt.Sprintf("wamid.%d", i), id)
		c.Flow = flow
		if _, err := s.RecordCompletion(ctx, c); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	msgs := func(cs []waflow.Completion) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.MessageID)
		}
		return out
	}
	all, err := s.Completions(ctx, waflow.CompletionFilter{})
	WantErr(t, "Completions", err, nil)
	Diff(t, "all completions", []string{"wamid.2", "wamid.1", "wamid.0"}, msgs(all))
	a, err := s.Completions(ctx, waflow.CompletionFilter{Flow: "a", Limit: 1})
	WantErr(t, "Completions(a)", err, nil)
	Diff(t, "completions of a, limit 1", []string{"wamid.2"}, msgs(a))
}

func outMsg(key, token string) waflow.OutboxMessage {
	return waflow.OutboxMessage{IdempotencyKey: key, To: "15551234567", TokenID: token,
		Payload: []byte(`{"messaging_product":"whatsapp","type":"text","text":{"body":"Thanks!"}}`)}
}

func testOutboxEnqueue(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	m, created, err := s.Enqueue(ctx, outMsg("confirm:1", "t"))
	WantErr(t, "Enqueue", err, nil)
	if !created || m.ID == 0 {
		t.Fatalf("Enqueue = %+v, created %v", m, created)
	}
	want := outMsg("confirm:1", "t")
	want.ID, want.State, want.CreatedAt, want.NextAttemptAt = m.ID, waflow.OutboxPending, Epoch, Epoch
	Diff(t, "enqueued message", want, m)

	clock.Advance(time.Second)
	again, created, err := s.Enqueue(ctx, outMsg("confirm:1", ""))
	WantErr(t, "Enqueue(same key)", err, nil)
	if created {
		t.Fatal("Enqueue with an existing idempotency key created a second message")
	}
	Diff(t, "message returned for an existing key", want, again)
	byID, err := s.OutboxMessage(ctx, m.ID)
	WantErr(t, "OutboxMessage", err, nil)
	Diff(t, "OutboxMessage", want, byID)
	byKey, err := s.OutboxMessageByKey(ctx, "confirm:1")
	WantErr(t, "OutboxMessageByKey", err, nil)
	Diff(t, "OutboxMessageByKey", want, byKey)

	_, err = s.OutboxMessage(ctx, m.ID+100)
	WantErr(t, "OutboxMessage(unknown)", err, waflow.ErrNotFound)
	_, err = s.OutboxMessageByKey(ctx, "nope")
	WantErr(t, "OutboxMessageByKey(unknown)", err, waflow.ErrNotFound)
	_, _, err = s.Enqueue(ctx, outMsg("k2", "no-such-token"))
	WantErr(t, "Enqueue(unknown token)", err, waflow.ErrNotFound)
	for name, bad := range map[string]waflow.OutboxMessage{
		"no key":     {To: "1", Payload: []byte("{}")},
		"no to":      {IdempotencyKey: "k", Payload: []byte("{}")},
		"no payload": {IdempotencyKey: "k", To: "1"},
	} {
		_, _, err := s.Enqueue(ctx, bad)
		WantErr(t, "Enqueue("+name+")", err, waflow.ErrInvalid)
	}
}

func testOutboxLifecycle(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	for _, k := range []string{"m1", "m2", "m3"} {
		tok := ""
		if k == "m1" {
			tok = "t"
		}
		if _, _, err := s.Enqueue(ctx, outMsg(k, tok)); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimOutbox(ctx, "s1", 2, time.Minute)
	WantErr(t, "ClaimOutbox", err, nil)
	if len(claimed) != 2 || claimed[0].IdempotencyKey != "m1" || claimed[1].IdempotencyKey != "m2" ||
		claimed[0].State != waflow.OutboxSending || claimed[0].Attempts != 1 || claimed[0].LeaseOwner != "s1" {
		t.Fatalf("ClaimOutbox: %+v", claimed)
	}
	m1, m2 := claimed[0].ID, claimed[1].ID

	WantErr(t, "MarkSent(wrong owner)", s.MarkSent(ctx, m1, "s2", "wamid.M1", clock.Now()), waflow.ErrLeaseLost)
	WantErr(t, "MarkSent(no wamid)", s.MarkSent(ctx, m1, "s1", "", clock.Now()), waflow.ErrInvalid)
	WantErr(t, "MarkSent(unknown)", s.MarkSent(ctx, 999999, "s1", "wamid.X", clock.Now()), waflow.ErrNotFound)
	WantErr(t, "MarkSent", s.MarkSent(ctx, m1, "s1", "wamid.M1", Epoch.Add(time.Second)), nil)
	sent, _ := s.OutboxMessage(ctx, m1)
	if sent.State != waflow.OutboxSent || sent.WAMID != "wamid.M1" || !sent.SentAt.Equal(Epoch.Add(time.Second)) || sent.LeaseOwner != "" {
		t.Fatalf("sent message: %+v", sent)
	}
	tok, err := s.TokenByMessage(ctx, "wamid.M1")
	WantErr(t, "TokenByMessage(wamid of the sent message)", err, nil)
	if tok.ID != "t" {
		t.Fatalf("MarkSent recorded the wamid on token %q, want t", tok.ID)
	}
	WantErr(t, "MarkSent(twice)", s.MarkSent(ctx, m1, "s1", "wamid.M1", clock.Now()), waflow.ErrLeaseLost)

	WantErr(t, "RetryOutbox", s.RetryOutbox(ctx, m2, "s1", "graph: 503", Epoch.Add(time.Minute)), nil)
	if m, _ := s.OutboxMessage(ctx, m2); m.State != waflow.OutboxPending || m.LastError != "graph: 503" || !m.NextAttemptAt.Equal(Epoch.Add(time.Minute)) {
		t.Fatalf("retried message: %+v", m)
	}
	next, _ := s.ClaimOutbox(ctx, "s1", 10, time.Minute)
	if len(next) != 1 || next[0].IdempotencyKey != "m3" {
		t.Fatalf("claim before m2 is due: %+v", next)
	}
	clock.Advance(time.Minute)
	next, _ = s.ClaimOutbox(ctx, "s2", 10, time.Minute) // m2 is due, m3's lease ran out
	if len(next) != 2 || next[0].ID != m2 || next[0].Attempts != 2 {
		t.Fatalf("claim after m2 is due: %+v", next)
	}
	WantErr(t, "FailOutbox(old owner)", s.FailOutbox(ctx, next[1].ID, "s1", "x"), waflow.ErrLeaseLost)
	WantErr(t, "FailOutbox", s.FailOutbox(ctx, m2, "s2", "graph: invalid recipient"), nil)
	if m, _ := s.OutboxMessage(ctx, m2); m.State != waflow.OutboxDead || m.LastError != "graph: invalid recipient" {
		t.Fatalf("failed message: %+v", m)
	}
	clock.Advance(time.Hour)
	if rest, _ := s.ClaimOutbox(ctx, "s3", 10, time.Minute); len(rest) != 1 || rest[0].IdempotencyKey != "m3" {
		t.Fatalf("only m3 should still be claimable: %+v", rest)
	}
}

func testOutboxClaimConcurrent(t *testing.T, s waflow.Store, clock *Clock) {
	const msgs, senders = 60, 5
	for i := range msgs {
		if _, _, err := s.Enqueue(ctx, outMsg(fmt.Sprintf("k%02d", i), "")); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	for w := range senders {
		owner := fmt.Sprintf("sender-%d", w)
		wg.Go(func() {
			for {
				ms, err := s.ClaimOutbox(ctx, owner, 4, time.Hour)
				if err != nil {
					t.Errorf("ClaimOutbox: %v", err)
					return
				}
				if len(ms) == 0 {
					return
				}
				for _, m := range ms {
					if err := s.MarkSent(ctx, m.ID, owner, fmt.Sprintf("wamid.%d", m.ID), clock.Now()); err != nil {
						t.Errorf("MarkSent: %v", err)
					}
					mu.Lock()
					got = append(got, m.ID)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("message %d claimed twice", got[i])
		}
	}
	if len(got) != msgs {
		t.Fatalf("%d messages claimed, want %d", len(got), msgs)
	}
}

func testPingClose(t *testing.T, s waflow.Store, clock *Clock) {
	WantErr(t, "Ping", s.Ping(ctx), nil)
	WantErr(t, "Close", s.Close(), nil)
	WantErr(t, "Ping after Close", s.Ping(ctx), waflow.ErrClosed)
	_, err := s.AddEvents(ctx, []waflow.InboxEvent{event("x", waflow.EventMessage)})
	WantErr(t, "AddEvents after Close", err, waflow.ErrClosed)
	WantErr(t, "Close(twice)", s.Close(), nil)
}
