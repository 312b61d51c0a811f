package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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

// ServerVersion connects to the database at url, without applying
// migrations, and returns the server's version as SHOW server_version
// says it ("15.20 (Debian 15.20-0+deb12u1)"): a pg_dump of that major
// version or newer can back it up.
func ServerVersion(ctx context.Context, url string) (string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", errors.New("postgres: cannot parse the database URL") // pgx's message may hold the password
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	return v, nil
}
