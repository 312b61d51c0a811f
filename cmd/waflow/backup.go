package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/sqlite"
)

// pgBackupHelp is what backup and restore say for a PostgreSQL database:
// pg_dump is the tool, and docs/deploy.md, Backups, says more.
const pgBackupHelp = `Back it up with pg_dump, in the custom format, while waflow keeps running:
  pg_dump -Fc -d "$WAFLOW_DATABASE_URL" -f waflow.dump
and restore it, with every waflow replica stopped, into a new empty database:
  createdb -T template0 waflow_restored
  pg_restore --no-owner --exit-on-error -d postgres://.../waflow_restored waflow.dump
See docs/deploy.md, Backups.`

// pgAdvice says which pg_dump backs up the database at dbURL: one of the
// server's major version or newer, compared with the pg_dump on PATH.
func pgAdvice(ctx context.Context, dbURL string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var b strings.Builder
	b.WriteString("the database is PostgreSQL")
	server, err := postgres.ServerVersion(ctx, dbURL)
	serverMajor := majorOf(server)
	if err != nil {
		fmt.Fprintf(&b, " (its version cannot be read: %s)", strings.Join(strings.Fields(err.Error()), " "))
		b.WriteString(": use a pg_dump of the server's major version or newer (psql -Atc 'SHOW server_version')")
	} else {
		fmt.Fprintf(&b, " %s: use pg_dump %d or newer", server, serverMajor)
	}
	b.WriteString(".\n")
	if path, err := exec.LookPath("pg_dump"); err != nil {
		b.WriteString("No pg_dump on PATH: install the PostgreSQL client tools (postgresql-client-NN on Debian).\n")
	} else if out, err := exec.CommandContext(ctx, path, "--version").Output(); err == nil {
		local := strings.TrimSpace(string(out))
		switch m := majorOf(strings.TrimPrefix(local, "pg_dump (PostgreSQL) ")); {
		case serverMajor > 0 && m > 0 && m < serverMajor:
			fmt.Fprintf(&b, "The pg_dump on PATH is older (%s): it refuses a newer server; install postgresql-client-%d.\n", local, serverMajor)
		default:
			fmt.Fprintf(&b, "On PATH: %s.\n", local)
		}
	}
	b.WriteString(pgBackupHelp)
	return b.String()
}

// majorOf returns the leading number of a version string, 0 if none.
func majorOf(v string) int {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func backupCommand() *Command {
	return &Command{
		Name:    "backup",
		Args:    "FILE",
		Summary: "copy the SQLite database to FILE while the server runs",
		Help: `
Writes a consistent copy of the SQLite database (WAFLOW_DATABASE_URL, or
waflow.db in the data folder) to FILE, which must not exist, with SQLite's
VACUUM INTO: the copy is one read transaction's snapshot, taken while
"waflow serve" keeps answering (it never waits for the copy), and holds every
webhook acknowledged before the backup started. FILE is synced to disk
before the command returns. Put it back with "waflow restore FILE".

For PostgreSQL it says which pg_dump to run.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			declareCLI(&cfg, s)
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("backup", "want one FILE to write the copy to")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				dbPath, err := sqlitePath(ctx, &cfg)
				if err != nil {
					return err
				}
				if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("no database at %s to back up: set -data-dir or -database-url to the server's", dbPath)
				}
				start := time.Now()
				if err := sqlite.BackupFile(ctx, dbPath, args[0]); err != nil {
					return err
				}
				fi, err := os.Stat(args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "backed up %s to %s (%d bytes, %s)\n", dbPath, args[0], fi.Size(), time.Since(start).Round(time.Millisecond))
				return nil
			}
		},
	}
}

func restoreCommand() *Command {
	return &Command{
		Name:    "restore",
		Args:    "FILE",
		Summary: "put a backup back in place of the SQLite database, with the server stopped",
		Help: `
Replaces the SQLite database (WAFLOW_DATABASE_URL, or waflow.db in the data
folder) with the backup FILE made by "waflow backup". Stop "waflow serve"
first: the restore refuses while any process has the database open. The
backup is checked (an intact SQLite file, a waflow schema no newer than this
binary's) before anything is touched, and the replaced database is kept as
DATABASE.before-restore. Start the server afterwards; it applies the
migrations the backup lacks.

For PostgreSQL it says how to use pg_restore.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			declareCLI(&cfg, s)
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return usagef("restore", "want the backup FILE to restore")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				dbPath, err := sqlitePath(ctx, &cfg)
				if err != nil {
					return err
				}
				info, err := sqlite.Restore(ctx, args[0], dbPath)
				if errors.Is(err, sqlite.ErrInUse) {
					return &exitError{code: 1, msg: fmt.Sprintf("%s is open in another process: stop waflow serve (and any other waflow command using it), then restore", dbPath)}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "restored %s into %s (schema version %d; this binary knows %d)\n", args[0], dbPath, info.SchemaVersion, info.Known)
				if info.Previous != "" {
					fmt.Fprintf(env.Stdout, "the replaced database is kept as %s\n", info.Previous)
				}
				fmt.Fprintln(env.Stdout, "start waflow serve to use it")
				return nil
			}
		},
	}
}

// sqlitePath is the configured SQLite database file, or an exitError
// saying how to back up PostgreSQL.
func sqlitePath(ctx context.Context, cfg *appConfig) (string, error) {
	dbURL, err := cfg.databaseURL()
	if err != nil {
		return "", err
	}
	if storage.IsPostgres(dbURL) {
		return "", &exitError{code: 1, msg: pgAdvice(ctx, dbURL)}
	}
	return dbURL, nil
}
