package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/internal/migrate"
)

//go:embed migration/*.sql
var migrations embed.FS

// Options configure a DB. The zero value is the production setting.
type Options struct {
	// Schema is the schema holding waflow's tables, created if needed; the
	// server's default search_path (usually "public") when empty. It must be
	// a plain identifier: letters, digits and underscores.
	Schema string
	// MaxConns bounds the connection pool; pgxpool's default (the larger of
	// 4 and the number of CPUs) when zero.
	MaxConns int32
	// Now is this process's clock, for the times the store records on a
	// caller's behalf (IssuedAt, RecordedAt, ProcessedAt and the like);
	// time.Now when nil. Leases and due times are never read from it but
	// from the database's clock (see the package documentation).
	Now func() time.Time
	// Logger receives migration notes; slog.Default() when nil.
	Logger *slog.Logger
}

// DB is a waflow.Store on a PostgreSQL database. It is safe for concurrent
// use, and for use by several processes at once.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// testClock, when set (only by tests, through export_test.go), stands
	// in for the database's clock; see dbClock.
	testClock func() time.Time
	log       *slog.Logger
	closed    atomic.Bool
	schema    string // Options.Schema, which names advisory locks
}

var (
	_ waflow.Store       = (*DB)(nil)
	_ catalogstore.Store = (*DB)(nil)
)

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Open connects to the PostgreSQL database at url (postgres:// or
// postgresql://, or a key=value connection string) and applies the
// migrations it lacks.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included; keep it out.
		return nil, errors.New("postgres: cannot parse the database URL")
	}
	if opts.Schema != "" {
		if !identifier.MatchString(opts.Schema) {
			return nil, fmt.Errorf("postgres: schema %q: want letters, digits and underscores", opts.Schema)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, now: opts.Now, log: opts.Logger, schema: opts.Schema}
	if db.now == nil {
		db.now = time.Now
	}
	if db.log == nil {
		db.log = slog.Default()
	}
	if err := db.migrate(ctx, opts.Schema); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the connection pool. Closing again does nothing.
func (db *DB) Close() error {
	if db.closed.CompareAndSwap(false, true) {
		db.pool.Close()
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	return wrap(db.pool.Ping(ctx), "Ping")
}

// Pool returns the connection pool, for tests and diagnostics.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// migrate applies the missing migrations under an advisory lock held on
// one connection, so that replicas starting together take turns.
func (db *DB) migrate(ctx context.Context, schema string) error {
	ms, err := migrate.Load(migrations, "migration")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Release()
	lockKey := "waflow migrations " + schema
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", lockKey); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext($1))", lockKey)
	if schema != "" {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: create schema: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL
	)`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := db.applyMigration(ctx, conn.Conn(), m); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
	}
	var newest int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if newest > len(ms) {
		db.log.Warn("database schema is newer than this binary", "schema_version", newest, "known_version", len(ms))
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, conn *pgx.Conn, m migrate.Migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// Exec without arguments uses the simple protocol, which runs a file of
	// several statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.Version, m.Name, db.now()); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	db.log.Info("applied database migration", "driver", "postgres", "migration", m.Name)
	return nil
}

// timeCol scans a timestamptz (or NULL, the zero time) into a time.Time in
// UTC.
type timeCol struct{ t *time.Time }

func (c timeCol) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*c.t = time.Time{}
		return nil
	}
	*c.t = v.Time.UTC()
	return nil
}

// dbClock is the argument of a query that reads the database's clock as
// coalesce($N::timestamptz, now()): NULL, so now(), the start of the
// statement's transaction on the database server, which every replica shares.
// Leases and due times are compared with it only, so a replica whose own
// clock is off can neither take a lease that still holds nor delay a due
// event. Tests whose clock moves only when told set testClock instead.
func (db *DB) dbClock() any {
	if db.testClock == nil {
		return nil
	}
	return db.testClock()
}

// fromNow is the distance from this process's clock to t, in microseconds
// (the precision stored), for a query to add to the database's clock:
// a retry scheduled "in ten seconds" by this replica is due ten seconds
// after the database's now, whatever the replica's clock says.
func (db *DB) fromNow(t time.Time) int64 { return t.Sub(db.now()).Microseconds() }

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func wrap(err error, op string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (db *DB) begin(ctx context.Context) (pgx.Tx, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	return db.pool.Begin(ctx)
}

// collect scans every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
