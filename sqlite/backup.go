package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/migrate"
)

// ErrInUse is returned by Restore when another connection, in this process
// or another, has the database open: a running server would keep writing to
// the file being replaced.
var ErrInUse = errors.New("sqlite: the database is in use (stop waflow serve first)")

// Backup writes a consistent copy of the database to path, a file that must
// not exist yet, while the store keeps serving. It runs VACUUM INTO on one
// of the read connections: the copy is the snapshot of one read transaction
// (every write committed before Backup was called is in it), the writer is
// never blocked, and the copy is compacted. The file is synced before
// Backup returns; on failure it is removed.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return wrap(err, "backup")
	}
	defer conn.Close()
	if db.r != db.w {
		// The read pool is query_only, and SQLite counts writing the
		// copy as a write. Lift it on this connection only, and put it
		// back before the connection returns to the pool.
		if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
			return wrap(err, "backup")
		}
		defer func() {
			if _, rerr := conn.ExecContext(context.Background(), "PRAGMA query_only = 1"); rerr != nil {
				// Never hand a writable connection back to the read pool.
				conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	return vacuumInto(ctx, conn, path)
}

// BackupFile is Backup for another process's database: it opens the
// database at dbPath with one connection, without creating it nor applying
// migrations (the server that owns it does that), checks that it is a
// waflow database, and writes the copy to path, which must not exist. It is
// what "waflow backup" runs while "waflow serve" keeps the database open:
// in WAL mode the copy's read transaction blocks no writer.
func BackupFile(ctx context.Context, dbPath, path string) error {
	if strings.ContainsRune(dbPath, '?') {
		return fmt.Errorf("sqlite: backup: database path %q contains '?'", dbPath)
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	db, err := openOne(dbPath + "?" + "_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer conn.Close()
	var tables int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_migrations', 'inbox_events')`).Scan(&tables); err != nil {
		return fmt.Errorf("sqlite: backup: %s: %w", dbPath, err)
	}
	if tables != 2 {
		return fmt.Errorf("sqlite: backup: %s is not a waflow database", dbPath)
	}
	return vacuumInto(ctx, conn, path)
}

// vacuumInto writes a copy of conn's database to path, which must not
// exist, and syncs it; on failure it removes it.
func vacuumInto(ctx context.Context, conn *sql.Conn, path string) (err error) {
	if path == "" {
		return errors.New("sqlite: backup: empty path")
	}
	// O_EXCL refuses an existing file atomically; VACUUM INTO accepts the
	// empty file it leaves.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return wrap(err, "backup")
	}
	return syncFile(path)
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sqlite: sync %s: %w", path, err)
	}
	return f.Close()
}

// SchemaVersion returns the newest migration applied to the database and
// the number of migrations this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	if db.isClosed() {
		return 0, 0, waflow.ErrClosed
	}
	ms, err := migrate.Load(migrations, "migration")
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: %w", err)
	}
	err = db.r.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&applied)
	return applied, len(ms), wrap(err, "SchemaVersion")
}

// RestoreInfo says what Restore put in place.
type RestoreInfo struct {
	SchemaVersion int    // the newest migration applied in the backup
	Known         int    // the migrations this binary knows; serve applies the rest at start
	Previous      string // where the replaced database was moved, "" when there was none
}

// Restore replaces the database at dbPath with the backup at backupPath,
// with the server stopped. It copies the backup next to dbPath and checks
// the copy (SQLite's quick_check, a waflow schema no newer than this
// binary's) before touching dbPath; it refuses with ErrInUse while any
// connection has dbPath open; it moves the replaced database to
// dbPath+".before-restore" (refusing when that exists: an earlier restore
// to keep or remove first) and only then renames the copy into place.
func Restore(ctx context.Context, backupPath, dbPath string) (RestoreInfo, error) {
	var info RestoreInfo
	if backupPath == "" || dbPath == "" || dbPath == ":memory:" {
		return info, errors.New("sqlite: restore: want a backup file and a database file")
	}
	if strings.ContainsRune(dbPath, '?') {
		return info, fmt.Errorf("sqlite: restore: database path %q contains '?'", dbPath)
	}
	previous := dbPath + ".before-restore"
	if _, err := os.Lstat(previous); err == nil {
		return info, fmt.Errorf("sqlite: restore: %s exists (from an earlier restore): move it away first", previous)
	}
	tmp := dbPath + ".restoring"
	if err := copyNew(backupPath, tmp); err != nil {
		return info, fmt.Errorf("sqlite: restore: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			os.Remove(tmp)
		}
	}()
	applied, known, err := checkBackup(ctx, tmp)
	if err != nil {
		return info, fmt.Errorf("sqlite: restore: %s: %w", backupPath, err)
	}
	info.SchemaVersion, info.Known = applied, known

	if _, err := os.Lstat(dbPath); err == nil {
		if err := quiesce(ctx, dbPath); err != nil {
			return info, err
		}
		if err := os.Rename(dbPath, previous); err != nil {
			return info, fmt.Errorf("sqlite: restore: %w", err)
		}
		info.Previous = previous
	} else if !errors.Is(err, os.ErrNotExist) {
		return info, fmt.Errorf("sqlite: restore: %w", err)
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return info, fmt.Errorf("sqlite: restore: %w", err)
	}
	keep = true
	if d, err := os.Open(filepath.Dir(dbPath)); err == nil {
		d.Sync() // make both renames durable
		d.Close()
	}
	return info, nil
}

// copyNew copies src to dst, which must not exist, and syncs it.
func copyNew(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

// openOne opens path on one connection; it fails at once on a lock unless
// path carries its own busy_timeout.
func openOne(path string) (*sql.DB, error) {
	dsn := path
	if !strings.ContainsRune(path, '?') {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(0)")
		dsn += "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// checkBackup checks that path is an intact waflow SQLite database whose
// schema this binary can run, and leaves it in rollback-journal mode so
// that it is one self-contained file (serve turns WAL back on).
func checkBackup(ctx context.Context, path string) (applied, known int, err error) {
	db, err := openOne(path)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return 0, 0, fmt.Errorf("not a readable SQLite database: %w", err)
	}
	if res != "ok" {
		return 0, 0, fmt.Errorf("SQLite's quick_check finds it damaged: %s", res)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_migrations', 'inbox_events')`).Scan(&tables); err != nil {
		return 0, 0, err
	}
	if tables != 2 {
		return 0, 0, errors.New("not a waflow database (no schema_migrations or inbox_events table)")
	}
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&applied); err != nil {
		return 0, 0, err
	}
	ms, err := migrate.Load(migrations, "migration")
	if err != nil {
		return 0, 0, err
	}
	known = len(ms)
	if applied == 0 {
		return 0, 0, errors.New("no migration applied: not a waflow database")
	}
	if applied > known {
		return 0, 0, fmt.Errorf("schema version %d is newer than this binary's %d: restore with the waflow that took it", applied, known)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode); err != nil {
		return 0, 0, err
	}
	return applied, known, nil
}

// quiesce makes sure nothing has dbPath open and folds its WAL into the
// file, so the file alone is the database: SQLite refuses to leave WAL
// mode while another connection has the database open, which is the
// in-use test.
func quiesce(ctx context.Context, dbPath string) error {
	db, err := openOne(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode); err != nil {
		if isBusy(err) {
			return ErrInUse
		}
		return fmt.Errorf("sqlite: restore: %s: %w", dbPath, err)
	}
	// In rollback mode an exclusive transaction is refused while anyone
	// holds even a read lock.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		if isBusy(err) {
			return ErrInUse
		}
		return fmt.Errorf("sqlite: restore: %s: %w", dbPath, err)
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

func isBusy(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		c := coded.Code() & 0xff // the primary code of an extended one
		return c == 5 || c == 6  // SQLITE_BUSY, SQLITE_LOCKED
	}
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "SQLITE_LOCKED") || strings.Contains(s, "database is locked")
}
