package storetest

import (
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// testDeploymentRoundTrip checks the deployment records of "waflow flows
// deploy": saved, replaced per WABA and flow, listed by flow, refused when
// incomplete, and closed with the store.
func testDeploymentRoundTrip(t *testing.T, s waflow.Store, clock *Clock) {
	_, err := s.FlowDeployment(ctx, "waba1", "appointment_booking")
	WantErr(t, "FlowDeployment before any save", err, waflow.ErrNotFound)
	got, err := s.FlowDeployments(ctx, "waba1")
	WantErr(t, "FlowDeployments of an empty store", err, nil)
	Diff(t, "FlowDeployments of an empty store", []waflow.FlowDeployment{}, got)

	first := waflow.FlowDeployment{WABAID: "waba1", Flow: "appointment_booking", FlowID: "100", ContentHash: "sha256:aa"}
	WantErr(t, "SaveFlowDeployment", s.SaveFlowDeployment(ctx, first), nil)
	first.UpdatedAt = clock.Now() // a zero UpdatedAt is the store's clock
	got1, err := s.FlowDeployment(ctx, "waba1", "appointment_booking")
	WantErr(t, "FlowDeployment", err, nil)
	Diff(t, "saved deployment", first, got1)

	// Another flow, the same flow in another WABA, and a replacement.
	clock.Advance(time.Minute)
	other := waflow.FlowDeployment{WABAID: "waba1", Flow: "expense_entry", FlowID: "200", ContentHash: "sha256:bb", UpdatedAt: Epoch.Add(time.Hour)}
	elsewhere := waflow.FlowDeployment{WABAID: "waba2", Flow: "appointment_booking", FlowID: "900", ContentHash: "sha256:cc", UpdatedAt: Epoch}
	replaced := waflow.FlowDeployment{WABAID: "waba1", Flow: "appointment_booking", FlowID: "101", ContentHash: "sha256:dd"}
	for _, d := range []waflow.FlowDeployment{other, elsewhere, replaced} {
		WantErr(t, "SaveFlowDeployment "+d.WABAID+"/"+d.Flow, s.SaveFlowDeployment(ctx, d), nil)
	}
	replaced.UpdatedAt = clock.Now()
	got, err = s.FlowDeployments(ctx, "waba1")
	WantErr(t, "FlowDeployments", err, nil)
	Diff(t, "deployments of waba1, by flow", []waflow.FlowDeployment{replaced, other}, got)
	got2, err := s.FlowDeployment(ctx, "waba2", "appointment_booking")
	WantErr(t, "FlowDeployment in waba2", err, nil)
	Diff(t, "deployment in waba2", elsewhere, got2)

	for name, d := range map[string]waflow.FlowDeployment{
		"no WABA":    {Flow: "f", FlowID: "1", ContentHash: "h"},
		"no flow":    {WABAID: "w", FlowID: "1", ContentHash: "h"},
		"no flow id": {WABAID: "w", Flow: "f", ContentHash: "h"},
		"no hash":    {WABAID: "w", Flow: "f", FlowID: "1"},
	} {
		WantErr(t, "SaveFlowDeployment with "+name, s.SaveFlowDeployment(ctx, d), waflow.ErrInvalid)
	}
	_, err = s.FlowDeployment(ctx, "w", "f")
	WantErr(t, "FlowDeployment after refused saves", err, waflow.ErrNotFound)

	WantErr(t, "Close", s.Close(), nil)
	_, err = s.FlowDeployment(ctx, "waba1", "appointment_booking")
	WantErr(t, "FlowDeployment after Close", err, waflow.ErrClosed)
	WantErr(t, "SaveFlowDeployment after Close", s.SaveFlowDeployment(ctx, first), waflow.ErrClosed)
	_, err = s.FlowDeployments(ctx, "waba1")
	WantErr(t, "FlowDeployments after Close", err, waflow.ErrClosed)
}
