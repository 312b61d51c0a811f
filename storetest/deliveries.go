package storetest

import (
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// deliveries returns s's waflow.DeliveryStore: every driver has one.
func deliveries(t *testing.T, s waflow.Store) waflow.DeliveryStore {
	t.Helper()
	ds, ok := s.(waflow.DeliveryStore)
	if !ok {
		t.Fatalf("%T does not implement waflow.DeliveryStore", s)
	}
	return ds
}

func delivery(msg, target, key string) waflow.Delivery {
	return waflow.Delivery{MsgID: msg, Target: target, Type: "flow.completed", OrderKey: key, Payload: []byte(`{"id":"` + msg + `"}`)}
}

// An event emitted twice is stored once per target; a batch with an
// invalid delivery stores nothing.
func testDeliveryAddDedupe(t *testing.T, s waflow.Store, clock *Clock) {
	ds := deliveries(t, s)
	n, err := ds.AddDeliveries(ctx, []waflow.Delivery{delivery("msg_1", "sub_a", ""), delivery("msg_1", "sub_b", ""), delivery("msg_1", "sub_a", "")})
	WantErr(t, "AddDeliveries", err, nil)
	if n != 2 {
		t.Fatalf("AddDeliveries added %d, want 2 (one per target)", n)
	}
	n, err = ds.AddDeliveries(ctx, []waflow.Delivery{delivery("msg_1", "sub_a", ""), delivery("msg_2", "sub_a", "")})
	WantErr(t, "AddDeliveries(again)", err, nil)
	if n != 1 {
		t.Fatalf("AddDeliveries(again) added %d, want 1", n)
	}
	bad := delivery("msg_3", "sub_a", "")
	bad.Payload = nil
	_, err = ds.AddDeliveries(ctx, []waflow.Delivery{delivery("msg_4", "sub_a", ""), bad})
	WantErr(t, "AddDeliveries(empty payload)", err, waflow.ErrInvalid)
	all, err := ds.Deliveries(ctx, waflow.DeliveryFilter{})
	WantErr(t, "Deliveries", err, nil)
	if len(all) != 3 {
		t.Fatalf("Deliveries = %d rows, want 3: %+v", len(all), all)
	}
	d := all[0]
	if d.MsgID != "msg_1" || d.Target != "sub_a" || d.State != waflow.DeliveryPending || string(d.Payload) != `{"id":"msg_1"}` ||
		!d.CreatedAt.Equal(Epoch) || !d.NextAttemptAt.Equal(Epoch) {
		t.Fatalf("stored delivery: %+v", d)
	}
}

// Claim leases, settle records each attempt; a dead delivery can be
// redelivered, a live one cannot.
func testDeliveryLifecycle(t *testing.T, s waflow.Store, clock *Clock) {
	ds := deliveries(t, s)
	if _, err := ds.AddDeliveries(ctx, []waflow.Delivery{delivery("msg_1", "sub_a", "")}); err != nil {
		t.Fatal(err)
	}
	got, err := ds.ClaimDeliveries(ctx, "w1", 10, time.Minute)
	WantErr(t, "ClaimDeliveries", err, nil)
	if len(got) != 1 || got[0].State != waflow.DeliverySending || got[0].Attempts != 1 || got[0].LeaseOwner != "w1" {
		t.Fatalf("claimed: %+v", got)
	}
	id := got[0].ID
	if again, _ := ds.ClaimDeliveries(ctx, "w2", 10, time.Minute); len(again) != 0 {
		t.Fatalf("a leased delivery was claimed again: %+v", again)
	}
	a1 := waflow.DeliveryAttempt{At: clock.Now(), Status: 500, Duration: 1500 * time.Microsecond, Error: "HTTP 500"}
	WantErr(t, "SettleDelivery(wrong owner)", ds.SettleDelivery(ctx, id, "w2", a1, waflow.DeliveryPending, clock.Now()), waflow.ErrLeaseLost)
	WantErr(t, "SettleDelivery(unknown)", ds.SettleDelivery(ctx, 999999, "w1", a1, waflow.DeliveryPending, clock.Now()), waflow.ErrNotFound)
	WantErr(t, "SettleDelivery(sending)", ds.SettleDelivery(ctx, id, "w1", a1, waflow.DeliverySending, clock.Now()), waflow.ErrInvalid)
	WantErr(t, "SettleDelivery(retry)", ds.SettleDelivery(ctx, id, "w1", a1, waflow.DeliveryPending, clock.Now().Add(5*time.Second)), nil)
	if early, _ := ds.ClaimDeliveries(ctx, "w1", 10, time.Minute); len(early) != 0 {
		t.Fatalf("claimed before its retry time: %+v", early)
	}
	clock.Advance(5 * time.Second)
	got, err = ds.ClaimDeliveries(ctx, "w1", 10, time.Minute)
	WantErr(t, "ClaimDeliveries(retry)", err, nil)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "HTTP 500" {
		t.Fatalf("claimed for the retry: %+v", got)
	}
	a2 := waflow.DeliveryAttempt{At: clock.Now(), Error: "connection refused"}
	WantErr(t, "SettleDelivery(dead)", ds.SettleDelivery(ctx, id, "w1", a2, waflow.DeliveryDead, time.Time{}), nil)
	dead := waflow.DeliveryDead
	if l, _ := ds.Deliveries(ctx, waflow.DeliveryFilter{State: dead}); len(l) != 1 || l[0].LastError != "connection refused" {
		t.Fatalf("dead deliveries: %+v", l)
	}
	as, err := ds.DeliveryAttempts(ctx, id)
	WantErr(t, "DeliveryAttempts", err, nil)
	if len(as) != 2 || as[0].Status != 500 || as[0].Duration != 1500*time.Microsecond || as[0].Error != "HTTP 500" ||
		!as[0].At.Equal(Epoch) || as[1].Status != 0 || as[1].Error != "connection refused" {
		t.Fatalf("attempts: %+v", as)
	}
	WantErr(t, "Redeliver(unknown)", ds.Redeliver(ctx, 999999), waflow.ErrNotFound)
	WantErr(t, "Redeliver", ds.Redeliver(ctx, id), nil)
	WantErr(t, "Redeliver(pending)", ds.Redeliver(ctx, id), waflow.ErrConflict)
	got, err = ds.ClaimDeliveries(ctx, "w1", 10, time.Minute)
	WantErr(t, "ClaimDeliveries(redelivered)", err, nil)
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("redelivered: %+v", got)
	}
	WantErr(t, "SettleDelivery(delivered)", ds.SettleDelivery(ctx, id, "w1", waflow.DeliveryAttempt{At: clock.Now(), Status: 204}, waflow.DeliveryDelivered, time.Time{}), nil)
	d, err := ds.Delivery(ctx, id)
	WantErr(t, "Delivery", err, nil)
	if d.State != waflow.DeliveryDelivered || d.LastError != "" || !d.DeliveredAt.Equal(clock.Now()) || d.LeaseOwner != "" {
		t.Fatalf("delivered: %+v", d)
	}
	if as, _ := ds.DeliveryAttempts(ctx, id); len(as) != 3 {
		t.Fatalf("attempts after redelivery: %+v", as)
	}
	_, err = ds.Delivery(ctx, 999999)
	WantErr(t, "Delivery(unknown)", err, waflow.ErrNotFound)
}

// Deliveries with one order key go one at a time, in order; other keys
// and unordered deliveries are not held up.
// PruneDeliveries deletes the deliveries delivered before the cutoff, and
// their attempts; live, dead and recent ones stay (the queue does not grow
// without bound with every relayed webhook).
func testDeliveryPrune(t *testing.T, s waflow.Store, clock *Clock) {
	ds := deliveries(t, s)
	if _, err := ds.AddDeliveries(ctx, []waflow.Delivery{delivery("msg_1", "sub_a", ""), delivery("msg_2", "sub_a", ""),
		delivery("msg_3", "sub_a", ""), delivery("msg_4", "sub_a", "")}); err != nil {
		t.Fatal(err)
	}
	got, err := ds.ClaimDeliveries(ctx, "w1", 3, time.Minute)
	WantErr(t, "ClaimDeliveries", err, nil)
	if len(got) != 3 {
		t.Fatalf("claimed %d, want 3", len(got))
	}
	pending, err := ds.Deliveries(ctx, waflow.DeliveryFilter{State: waflow.DeliveryPending})
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending deliveries: %+v, %v", pending, err)
	}
	old, recent, dead, live := got[0].ID, got[1].ID, got[2].ID, pending[0].ID
	ok := waflow.DeliveryAttempt{At: clock.Now(), Status: 204}
	WantErr(t, "SettleDelivery(old)", ds.SettleDelivery(ctx, old, "w1", ok, waflow.DeliveryDelivered, time.Time{}), nil)
	WantErr(t, "SettleDelivery(dead)", ds.SettleDelivery(ctx, dead, "w1", waflow.DeliveryAttempt{At: clock.Now(), Error: "HTTP 500", Status: 500}, waflow.DeliveryDead, time.Time{}), nil)
	clock.Advance(2 * time.Hour)
	ok.At = clock.Now()
	WantErr(t, "SettleDelivery(recent)", ds.SettleDelivery(ctx, recent, "w1", ok, waflow.DeliveryDelivered, time.Time{}), nil)

	n, err := ds.PruneDeliveries(ctx, clock.Now().Add(-time.Hour))
	WantErr(t, "PruneDeliveries", err, nil)
	if n != 1 {
		t.Fatalf("PruneDeliveries deleted %d, want 1", n)
	}
	_, err = ds.Delivery(ctx, old)
	WantErr(t, "Delivery(pruned)", err, waflow.ErrNotFound)
	if as, err := ds.DeliveryAttempts(ctx, old); err != nil || len(as) != 0 {
		t.Fatalf("attempts of a pruned delivery: %v, %v", as, err)
	}
	for name, id := range map[string]int64{"recent": recent, "dead": dead, "pending": live} {
		_, err := ds.Delivery(ctx, id)
		WantErr(t, "Delivery("+name+") after the prune", err, nil)
	}
	if as, _ := ds.DeliveryAttempts(ctx, dead); len(as) != 1 {
		t.Fatalf("attempts of the dead delivery after the prune: %+v", as)
	}
}

func testDeliveryOrderKey(t *testing.T, s waflow.Store, clock *Clock) {
	ds := deliveries(t, s)
	if _, err := ds.AddDeliveries(ctx, []waflow.Delivery{
		delivery("m1", "relay", "u1"), delivery("m2", "relay", "u1"), delivery("m3", "relay", "u2"),
		delivery("m4", "relay", ""), delivery("m5", "relay", "u1"),
	}); err != nil {
		t.Fatal(err)
	}
	msgs := func(l []waflow.Delivery) (out []string) {
		for _, d := range l {
			out = append(out, d.MsgID)
		}
		return out
	}
	got, err := ds.ClaimDeliveries(ctx, "w1", 10, time.Minute)
	WantErr(t, "ClaimDeliveries", err, nil)
	if g := msgs(got); len(g) != 3 || g[0] != "m1" || g[1] != "m3" || g[2] != "m4" {
		t.Fatalf("first claim = %v, want [m1 m3 m4]", g)
	}
	// A failed m1 still holds m2 back until it is delivered or dead.
	WantErr(t, "retry m1", ds.SettleDelivery(ctx, got[0].ID, "w1", waflow.DeliveryAttempt{At: clock.Now(), Error: "x"}, waflow.DeliveryPending, clock.Now()), nil)
	got2, _ := ds.ClaimDeliveries(ctx, "w2", 10, time.Minute)
	if g := msgs(got2); len(g) != 1 || g[0] != "m1" {
		t.Fatalf("second claim = %v, want [m1]", g)
	}
	WantErr(t, "dead m1", ds.SettleDelivery(ctx, got2[0].ID, "w2", waflow.DeliveryAttempt{At: clock.Now(), Error: "x"}, waflow.DeliveryDead, time.Time{}), nil)
	got3, _ := ds.ClaimDeliveries(ctx, "w2", 10, time.Minute)
	if g := msgs(got3); len(g) != 1 || g[0] != "m2" {
		t.Fatalf("third claim = %v, want [m2]", g)
	}
}

// Subscriptions are created, replaced (keeping CreatedAt), listed and
// deleted; invalid ones are refused.
func testDeliverySubscriptions(t *testing.T, s waflow.Store, clock *Clock) {
	ds := deliveries(t, s)
	sub := waflow.Subscription{ID: "sub_a", URL: "https://example.com/hook", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Types: []string{"flow.completed", "booking.created"}}
	got, err := ds.PutSubscription(ctx, sub)
	WantErr(t, "PutSubscription", err, nil)
	if !got.CreatedAt.Equal(Epoch) || len(got.Types) != 2 {
		t.Fatalf("PutSubscription = %+v", got)
	}
	clock.Advance(time.Hour)
	sub.URL, sub.Types = "https://example.com/other", nil
	got, err = ds.PutSubscription(ctx, sub)
	WantErr(t, "PutSubscription(replace)", err, nil)
	if !got.CreatedAt.Equal(Epoch) || got.URL != sub.URL || len(got.Types) != 0 || got.Secret != sub.Secret {
		t.Fatalf("PutSubscription(replace) = %+v", got)
	}
	for _, bad := range []waflow.Subscription{
		{ID: "", URL: sub.URL, Secret: sub.Secret},
		{ID: "x", URL: "ftp://example.com", Secret: sub.Secret},
		{ID: "x", URL: sub.URL, Secret: "plain"},
	} {
		_, err := ds.PutSubscription(ctx, bad)
		WantErr(t, "PutSubscription(invalid)", err, waflow.ErrInvalid)
	}
	l, err := ds.Subscriptions(ctx)
	WantErr(t, "Subscriptions", err, nil)
	if len(l) != 1 || l[0].ID != "sub_a" {
		t.Fatalf("Subscriptions = %+v", l)
	}
	if one, err := ds.Subscription(ctx, "sub_a"); err != nil || one.URL != sub.URL {
		t.Fatalf("Subscription = %+v, %v", one, err)
	}
	WantErr(t, "DeleteSubscription", ds.DeleteSubscription(ctx, "sub_a"), nil)
	WantErr(t, "DeleteSubscription(again)", ds.DeleteSubscription(ctx, "sub_a"), waflow.ErrNotFound)
	_, err = ds.Subscription(ctx, "sub_a")
	WantErr(t, "Subscription(deleted)", err, waflow.ErrNotFound)
}
