package webhook_test

import (
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/storetest"
	"github.com/waflow/waflow/webhook"
)

// Flow status changes from Meta pause and unpause a deployed flow, stored
// (protocol.md 4.3); health alerts and flows waflow did not deploy change
// nothing.
func TestFlowHealthRecorder(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(storetest.Epoch)
	store := openStore(t, clock.Now)
	if err := store.SaveFlowDeployment(ctx, waflow.FlowDeployment{WABAID: "102290129340398", Flow: "customer_survey", FlowID: "9100001", ContentHash: "sha256:aa"}); err != nil {
		t.Fatal(err)
	}
	rec := webhook.FlowHealthRecorder(store, quiet)
	at := storetest.Epoch.Add(time.Minute)
	for _, e := range []webhook.FlowsEvent{
		{Event: webhook.EndpointLatency, FlowID: "9100001", AlertState: "ACTIVATED", WABAID: "102290129340398", Time: at},
		{Event: webhook.FlowStatusChange, FlowID: "555", NewStatus: "BLOCKED", WABAID: "102290129340398", Time: at},
	} {
		if err := rec(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.FlowHealth(ctx, "customer_survey"); err == nil {
		t.Fatal("an alert, or another flow's status, set the flow's health")
	}
	if err := rec(ctx, &webhook.FlowsEvent{Event: webhook.FlowStatusChange, FlowID: "9100001", OldStatus: "PUBLISHED", NewStatus: "THROTTLED",
		Message: "Flow throttled", WABAID: "102290129340398", Time: at}); err != nil {
		t.Fatal(err)
	}
	h, err := store.FlowHealth(ctx, "customer_survey")
	if err != nil || !h.Paused || h.Status != "THROTTLED" || h.FlowID != "9100001" || !h.UpdatedAt.Equal(at) {
		t.Fatalf("after THROTTLED: %+v, %v; want paused", h, err)
	}
	if err := rec(ctx, &webhook.FlowsEvent{Event: webhook.FlowStatusChange, FlowID: "9100001", OldStatus: "THROTTLED", NewStatus: "PUBLISHED",
		WABAID: "102290129340398", Time: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if h, _ := store.FlowHealth(ctx, "customer_survey"); h.Paused || h.Status != "PUBLISHED" {
		t.Fatalf("after PUBLISHED: %+v; want unpaused", h)
	}
}
