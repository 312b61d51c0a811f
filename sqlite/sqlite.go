package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/internal/migrate"
)

//go:embed migration/*.sql
var migrations embed.FS

// Options configure a DB. The zero value is the production setting.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "FULL" (the default) or
	// "NORMAL". See the package documentation, Durability.
	Synchronous string
	// BusyTimeout is how long a connection waits for another process's
	// write lock before failing; 10 seconds when zero.
	BusyTimeout time.Duration
	// MaxBatch bounds how many writes share one transaction; 256 when
	// zero.
	MaxBatch int
	// Now is the store's clock; time.Now when nil.
	Now func() time.Time
	// Logger receives migration notes; slog.Default() when nil.
	Logger *slog.Logger
}

// DB is a waflow.Store on one SQLite database. It is safe for concurrent use.
type DB struct {
	path     string
	w        *sql.DB // the one writer connection
	r        *sql.DB // the read-only pool; w for an in-memory database
	now      func() time.Time
	log      *slog.Logger
	maxBatch int

	writes        chan *writeTurn
	closing       chan struct{}
	committerDone chan struct{}
	closeOnce     sync.Once
	closeErr      error
	insertEvent   *sql.Stmt
}

var (
	_ waflow.Store       = (*DB)(nil)
	_ catalogstore.Store = (*DB)(nil)
)

// Open opens (creating it if needed) the SQLite database at path, which may
// be ":memory:", and applies the migrations it lacks.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: database path %q contains '?'; pass options in Options, not in the path", path)
	}
	sync := strings.ToUpper(opts.Synchronous)
	switch sync {
	case "":
		sync = "FULL"
	case "FULL", "NORMAL":
	default:
		return nil, fmt.Errorf("sqlite: synchronous %q: want FULL or NORMAL", opts.Synchronous)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	db := &DB{
		path:          path,
		now:           opts.Now,
		log:           opts.Logger,
		maxBatch:      opts.MaxBatch,
		writes:        make(chan *writeTurn, 256),
		closing:       make(chan struct{}),
		committerDone: make(chan struct{}),
	}
	if db.now == nil {
		db.now = time.Now
	}
	if db.log == nil {
		db.log = slog.Default()
	}
	if db.maxBatch <= 0 {
		db.maxBatch = 256
	}
	memory := path == ":memory:"

	// busy_timeout: wait for another process's lock instead of failing at
	// once. foreign_keys: SQLite leaves them off unless asked, per
	// connection. WAL: readers and the writer do not block each other, and a
	// commit appends to one file (see Durability in the package doc).
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	wq := cloneValues(q)
	wq.Add("_pragma", "synchronous("+sync+")")
	// BEGIN IMMEDIATE takes the write lock when the transaction starts, so a
	// transaction that reads then writes never fails half-way with
	// SQLITE_BUSY when another process holds the lock.
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer: see the package doc. It also keeps an in-memory database
	// alive and the same for every caller.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db.w, db.r = w, w
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if !memory {
		rq := cloneValues(q)
		rq.Add("_pragma", "query_only(1)")
		r, err := sql.Open("sqlite", path+"?"+rq.Encode())
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
		}
		r.SetMaxOpenConns(4)
		r.SetMaxIdleConns(4)
		db.r = r
	}
	db.insertEvent, err = w.PrepareContext(ctx, `INSERT INTO inbox_events (dedupe_key, kind, payload, received_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`)
	if err != nil {
		db.closeDBs()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	go db.committer()
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Close stops the committer, waiting for the batch in flight, and closes the
// database. Closing again does nothing.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closing)
		<-db.committerDone
		db.closeErr = db.closeDBs()
	})
	return db.closeErr
}

func (db *DB) closeDBs() error {
	var errs []error
	if db.insertEvent != nil {
		errs = append(errs, db.insertEvent.Close())
	}
	if db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
}

func (db *DB) isClosed() bool {
	select {
	case <-db.closing:
		return true
	default:
		return false
	}
}

// Ping checks that the database file can be read and written.
func (db *DB) Ping(ctx context.Context) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	// The writer is checked with a turn of its own, queued with the other
	// writes, so a busy store answers in turn rather than starving it.
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Path returns the database path given to Open.
func (db *DB) Path() string { return db.path }

func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrations, "migration")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := db.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	var newest int
	if err := db.w.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if newest > len(ms) {
		db.log.Warn("database schema is newer than this binary", "path", db.path, "schema_version", newest, "known_version", len(ms))
	}
	return nil
}

// applyMigration applies m in its own transaction unless it is recorded as
// applied. BEGIN IMMEDIATE makes the check and the change atomic even when
// two processes start at once.
func (db *DB) applyMigration(ctx context.Context, m migrate.Migration) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, db.now().UnixMicro()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	db.log.Info("applied database migration", "driver", "sqlite", "migration", m.Name)
	return nil
}

// micros converts t to the stored form: microseconds since the epoch, or
// NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeCol scans a microsecond column (or NULL, the zero time) into a
// time.Time in UTC.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(x).UTC()
	default:
		return fmt.Errorf("sqlite: time column holds %T, want INTEGER", v)
	}
	return nil
}

// nullString scans a TEXT column that may be NULL into a string.
type nullString struct{ s *string }

func (c nullString) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.s = ""
	case string:
		*c.s = x
	case []byte:
		*c.s = string(x)
	default:
		return fmt.Errorf("sqlite: text column holds %T", v)
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// wrap adds the operation to err, keeping it testable with errors.Is.
func wrap(err error, op string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// Durability reports the writer connection's journal mode and synchronous
// setting as "journal_mode=wal synchronous=FULL", for logs and benchmarks.
func (db *DB) Durability(ctx context.Context) (string, error) {
	if db.isClosed() {
		return "", waflow.ErrClosed
	}
	var mode string
	var sync int
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return "", wrap(err, "Durability")
	}
	defer conn.Close()
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return "", wrap(err, "Durability")
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return "", wrap(err, "Durability")
	}
	names := map[int]string{0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
	return fmt.Sprintf("journal_mode=%s synchronous=%s", strings.ToLower(mode), names[sync]), nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
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
