package webhook

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/waflow/waflow"
)

// FlowHealthStore is what FlowHealthRecorder needs: the deployment records
// that name a Meta flow id, and the flow health it stores (the contracts of
// waflow.DeploymentStore and waflow.FlowHealthStore).
type FlowHealthStore interface {
	FlowDeployments(ctx context.Context, wabaID string) ([]waflow.FlowDeployment, error)
	SetFlowHealth(ctx context.Context, h waflow.FlowHealth) error
}

// FlowHealthRecorder returns a FlowsHandler that stores each flow status
// change (protocol.md 4.3) as the flow's health: a flow Meta reports BLOCKED
// or THROTTLED is paused, and the outbox holds the messages that open it
// until a later status change (PUBLISHED) unpauses it. The state is stored,
// so every replica's outbox sees it. The flow is named by the deployment
// record of the event's WABA that holds its id; an event of a flow waflow
// did not deploy is logged and left.
func FlowHealthRecorder(s FlowHealthStore, log *slog.Logger) FlowsHandler {
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, e *FlowsEvent) error {
		if e.Event != FlowStatusChange || e.NewStatus == "" {
			return nil
		}
		ds, err := s.FlowDeployments(ctx, e.WABAID)
		if err != nil {
			return fmt.Errorf("reading the deployments of WABA %s: %w", e.WABAID, err)
		}
		for _, d := range ds {
			if d.FlowID != e.FlowID {
				continue
			}
			h := waflow.FlowHealth{Flow: d.Flow, FlowID: d.FlowID, Status: e.NewStatus, Paused: waflow.PausesSending(e.NewStatus),
				Message: e.Message, UpdatedAt: e.Time}
			if err := s.SetFlowHealth(ctx, h); err != nil {
				return fmt.Errorf("storing the health of flow %s: %w", d.Flow, err)
			}
			if h.Paused {
				log.Warn("flow paused: the outbox holds its messages until Meta reports it healthy", "flow", d.Flow, "status", h.Status)
			} else {
				log.Info("flow health", "flow", d.Flow, "status", h.Status)
			}
			return nil
		}
		log.Info("flows webhook for a flow waflow has no deployment record of; its health is not tracked", "flow_id", e.FlowID, "waba_id", e.WABAID)
		return nil
	}
}
