package postgres

import (
	"context"
	"fmt"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/migrate"
)

// SchemaVersion returns the newest migration applied to the database and
// the number of migrations this binary knows; waflow doctor reports both.
func (db *DB) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	if db.closed.Load() {
		return 0, 0, waflow.ErrClosed
	}
	ms, err := migrate.Load(migrations, "migration")
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: %w", err)
	}
	err = db.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&applied)
	return applied, len(ms), wrap(err, "SchemaVersion")
}
