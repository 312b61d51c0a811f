package storetest

import (
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// A send whose outcome is unknown is settled in a final state of its own,
// never claimed again.
func testOutboxUnknown(t *testing.T, s waflow.Store, clock *Clock) {
	mustCreateToken(t, s, "t", Epoch.Add(time.Hour))
	for _, m := range []waflow.OutboxMessage{outMsg("u1", "t"), outMsg("u2", "")} {
		if _, _, err := s.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimOutbox(ctx, "s1", 2, time.Minute)
	WantErr(t, "ClaimOutbox", err, nil)
	if len(claimed) != 2 {
		t.Fatalf("ClaimOutbox: %+v", claimed)
	}
	u1, u2 := claimed[0].ID, claimed[1].ID

	WantErr(t, "MarkUnknown(wrong owner)", s.MarkUnknown(ctx, u1, "s2", "x"), waflow.ErrLeaseLost)
	WantErr(t, "MarkUnknown(unknown id)", s.MarkUnknown(ctx, 999999, "s1", "x"), waflow.ErrNotFound)
	WantErr(t, "MarkUnknown", s.MarkUnknown(ctx, u1, "s1", "attempt 1: graph: outcome unknown"), nil)
	got, err := s.OutboxMessage(ctx, u1)
	WantErr(t, "OutboxMessage", err, nil)
	if got.State != waflow.OutboxUnknown || got.LastError != "attempt 1: graph: outcome unknown" ||
		got.LeaseOwner != "" || !got.LeaseUntil.IsZero() || got.WAMID != "" || got.Attempts != 1 {
		t.Fatalf("message settled as unknown: %+v", got)
	}
	WantErr(t, "MarkUnknown(twice)", s.MarkUnknown(ctx, u1, "s1", "x"), waflow.ErrLeaseLost)
	WantErr(t, "MarkSent(unknown message)", s.MarkSent(ctx, u1, "s1", "wamid.U1", clock.Now()), waflow.ErrLeaseLost)
	WantErr(t, "FailOutbox(unknown message)", s.FailOutbox(ctx, u1, "s1", "x"), waflow.ErrLeaseLost)
	WantErr(t, "RetryOutbox(unknown message)", s.RetryOutbox(ctx, u1, "s1", "x", Epoch), waflow.ErrLeaseLost)

	// Long after, only u2, whose lease ran out, is claimed again.
	clock.Advance(24 * time.Hour)
	again, err := s.ClaimOutbox(ctx, "s3", 10, time.Minute)
	WantErr(t, "ClaimOutbox after a day", err, nil)
	if len(again) != 1 || again[0].ID != u2 {
		t.Fatalf("claim after a day: %+v, want only message %d", again, u2)
	}
	if got, _ := s.OutboxMessage(ctx, u1); got.State != waflow.OutboxUnknown {
		t.Fatalf("message settled as unknown is now %s", got.State)
	}
}
