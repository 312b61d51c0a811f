package waflow

import (
	"context"
	"time"
)

// FlowDeployment is what "waflow flows deploy" last did to one flow of a
// WhatsApp Business Account: which Meta flow it is, and which Flow JSON it
// uploaded. Deploying compares the local Flow JSON with ContentHash and
// uploads only when they differ, so a second deploy changes nothing.
type FlowDeployment struct {
	WABAID string // the WhatsApp Business Account the flow lives in
	Flow   string // the flow's name, unique in the WABA
	FlowID string // Meta's id of the flow
	// ContentHash identifies the Flow JSON uploaded last, as
	// "sha256:" and the lowercase hex SHA-256 of its bytes.
	ContentHash string
	UpdatedAt   time.Time // when the record was saved
}

// DeploymentStore keeps the deployment record of each flow.
type DeploymentStore interface {
	// FlowDeployment returns the record of flow in wabaID, or ErrNotFound.
	FlowDeployment(ctx context.Context, wabaID, flow string) (FlowDeployment, error)

	// SaveFlowDeployment stores d, replacing the record of the same WABAID
	// and Flow; a zero UpdatedAt is set to the store's clock. It returns
	// ErrInvalid when WABAID, Flow, FlowID or ContentHash is empty.
	SaveFlowDeployment(ctx context.Context, d FlowDeployment) error

	// FlowDeployments returns the records of wabaID, ordered by flow name.
	FlowDeployments(ctx context.Context, wabaID string) ([]FlowDeployment, error)
}
