package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

const deploymentCols = `waba_id, flow, flow_id, content_hash, updated_at`

func scanDeployment(r pgx.Row) (waflow.FlowDeployment, error) {
	var d waflow.FlowDeployment
	err := r.Scan(&d.WABAID, &d.Flow, &d.FlowID, &d.ContentHash, timeCol{&d.UpdatedAt})
	return d, err
}

// FlowDeployment implements waflow.DeploymentStore.
func (db *DB) FlowDeployment(ctx context.Context, wabaID, flow string) (waflow.FlowDeployment, error) {
	if db.closed.Load() {
		return waflow.FlowDeployment{}, waflow.ErrClosed
	}
	d, err := scanDeployment(db.pool.QueryRow(ctx, "SELECT "+deploymentCols+" FROM flow_deployments WHERE waba_id = $1 AND flow = $2", wabaID, flow))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.FlowDeployment{}, wrap(waflow.ErrNotFound, "FlowDeployment")
	}
	return d, wrap(err, "FlowDeployment")
}

// SaveFlowDeployment implements waflow.DeploymentStore.
func (db *DB) SaveFlowDeployment(ctx context.Context, d waflow.FlowDeployment) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO flow_deployments (`+deploymentCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (waba_id, flow) DO UPDATE SET flow_id = excluded.flow_id, content_hash = excluded.content_hash, updated_at = excluded.updated_at`,
		d.WABAID, d.Flow, d.FlowID, d.ContentHash, d.UpdatedAt)
	return wrap(err, "SaveFlowDeployment")
}

// FlowDeployments implements waflow.DeploymentStore.
func (db *DB) FlowDeployments(ctx context.Context, wabaID string) ([]waflow.FlowDeployment, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, "SELECT "+deploymentCols+" FROM flow_deployments WHERE waba_id = $1 ORDER BY flow", wabaID)
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
