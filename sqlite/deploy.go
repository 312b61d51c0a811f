package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/waflow/waflow"
)

const deploymentCols = `waba_id, flow, flow_id, content_hash, updated_at`

func scanDeployment(r rowScanner) (waflow.FlowDeployment, error) {
	var d waflow.FlowDeployment
	err := r.Scan(&d.WABAID, &d.Flow, &d.FlowID, &d.ContentHash, timeCol{&d.UpdatedAt})
	return d, err
}

// FlowDeployment implements waflow.DeploymentStore.
func (db *DB) FlowDeployment(ctx context.Context, wabaID, flow string) (waflow.FlowDeployment, error) {
	if db.isClosed() {
		return waflow.FlowDeployment{}, waflow.ErrClosed
	}
	d, err := scanDeployment(db.r.QueryRowContext(ctx, "SELECT "+deploymentCols+" FROM flow_deployments WHERE waba_id = ? AND flow = ?", wabaID, flow))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.FlowDeployment{}, wrap(waflow.ErrNotFound, "FlowDeployment")
	}
	return d, wrap(err, "FlowDeployment")
}

// SaveFlowDeployment implements waflow.DeploymentStore.
func (db *DB) SaveFlowDeployment(ctx context.Context, d waflow.FlowDeployment) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = db.now()
	}
	_, err := db.exec(ctx, `INSERT INTO flow_deployments (`+deploymentCols+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (waba_id, flow) DO UPDATE SET flow_id = excluded.flow_id, content_hash = excluded.content_hash, updated_at = excluded.updated_at`,
		d.WABAID, d.Flow, d.FlowID, d.ContentHash, micros(d.UpdatedAt))
	return wrap(err, "SaveFlowDeployment")
}

// FlowDeployments implements waflow.DeploymentStore.
func (db *DB) FlowDeployments(ctx context.Context, wabaID string) ([]waflow.FlowDeployment, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+deploymentCols+" FROM flow_deployments WHERE waba_id = ? ORDER BY flow", wabaID)
	if err != nil {
		return nil, wrap(err, "FlowDeployments")
	}
	defer rows.Close()
	out := []waflow.FlowDeployment{}
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, wrap(err, "FlowDeployments")
		}
		out = append(out, d)
	}
	return out, wrap(rows.Err(), "FlowDeployments")
}
