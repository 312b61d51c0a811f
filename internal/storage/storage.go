package storage

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console/consolestore"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/sqlite"
)

// Options are the settings of either driver.
type Options struct {
	// Logger receives the drivers' notes (migrations); slog.Default() when nil.
	Logger *slog.Logger
	// Now is the stores' clock; time.Now when nil.
	Now func() time.Time
	// SQLiteSynchronous is "FULL" (the default) or "NORMAL"; see package
	// sqlite, Durability.
	SQLiteSynchronous string
	// PostgresSchema puts waflow's tables in that schema (created if
	// needed); the database's search_path when empty.
	PostgresSchema string
}

// Store is what either driver keeps: the core's tables, the media files,
// the catalog flows' tables and the HTTP API's keys, which share the
// driver's migrations.
type Store interface {
	waflow.Store
	waflow.MediaStore
	catalogstore.Store
	waflow.APIKeyStore
	consolestore.Store
	// DeliveryStore keeps the events and relayed webhooks of package
	// events.
	waflow.DeliveryStore
}

// IsPostgres reports whether dbURL names a PostgreSQL database.
func IsPostgres(dbURL string) bool {
	l := strings.ToLower(dbURL)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Open opens the store dbURL names and applies its migrations.
func Open(ctx context.Context, dbURL string, opts Options) (Store, error) {
	if IsPostgres(dbURL) {
		return postgres.Open(ctx, dbURL, postgres.Options{Schema: opts.PostgresSchema, Now: opts.Now, Logger: opts.Logger})
	}
	return sqlite.Open(ctx, dbURL, sqlite.Options{Synchronous: opts.SQLiteSynchronous, Now: opts.Now, Logger: opts.Logger})
}

// Describe names the database of dbURL for a log line, without its
// password: "sqlite waflow-data/waflow.db" or "postgres db.example:5432/waflow".
func Describe(dbURL string) string {
	if !IsPostgres(dbURL) {
		return "sqlite " + dbURL
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return "postgres (unparsable URL)"
	}
	return "postgres " + u.Host + u.Path
}
