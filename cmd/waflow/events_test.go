package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/storage"
)

// waflow events list shows deliveries without payloads, filters by state,
// and redeliver makes a dead one pending again; mistakes get clear answers.
func TestEventsCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "waflow.db")
	ctx := context.Background()
	store, err := storage.Open(ctx, db, storage.Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddDeliveries(ctx, []waflow.Delivery{
		{MsgID: "msg_aaaa1111", Target: "crm", Type: "flow.completed", Payload: []byte(`{"secret-value":"x"}`)},
		{MsgID: "msg_bbbb2222", Target: waflow.RelayTarget, Type: "webhook", Payload: []byte(`{}`)},
	}); err != nil {
		t.Fatal(err)
	}
	ds, _ := store.ClaimDeliveries(ctx, "t", 1, 60e9)
	if err := store.SettleDelivery(ctx, ds[0].ID, "t", waflow.DeliveryAttempt{Error: "HTTP 500", Status: 500}, waflow.DeliveryDead, ds[0].CreatedAt); err != nil {
		t.Fatal(err)
	}
	store.Close()

	code, out, errs := runWaflow(t, "events", "list", "-data-dir", dir)
	if code != 0 || !strings.Contains(out, "msg_aaaa1111") || !strings.Contains(out, "msg_bbbb2222") || strings.Contains(out, "secret-value") {
		t.Fatalf("list: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runWaflow(t, "events", "list", "-state", "dead", "-data-dir", dir)
	if code != 0 || !strings.Contains(out, "msg_aaaa1111") || strings.Contains(out, "msg_bbbb2222") || !strings.Contains(out, "HTTP 500") {
		t.Fatalf("list -state dead: exit %d\n%s", code, out)
	}
	code, out, errs = runWaflow(t, "events", "redeliver", "-data-dir", dir, "1")
	if code != 0 || !strings.Contains(out, "delivery 1 is pending again") {
		t.Fatalf("redeliver: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runWaflow(t, "events", "list", "-state", "pending", "-data-dir", dir)
	if code != 0 || !strings.Contains(out, "msg_aaaa1111") || !strings.Contains(out, "msg_bbbb2222") {
		t.Fatalf("list -state pending: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"events", "redeliver", "-data-dir", dir, "1"}, 1, "still pending"},
		{[]string{"events", "redeliver", "-data-dir", dir, "99"}, 1, "no delivery 99"},
		{[]string{"events", "redeliver", "-data-dir", dir, "x"}, 2, "want the number"},
		{[]string{"events", "list", "-state", "gone", "-data-dir", dir}, 2, "want pending"},
		{[]string{"events", "purge"}, 2, "want list or redeliver"},
		{[]string{"events", "list", "-data-dir", filepath.Join(dir, "none")}, 1, "no database at"},
	} {
		code, out, errs := runWaflow(t, c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", c.args, code, c.code, c.want, out, errs)
		}
	}
}
