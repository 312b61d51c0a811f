//go:build ignore

// Command riverbench compares River with waflow's store-based queue
// pattern (one row per job, claim with lease, settle per job) on SQLite and
// PostgreSQL. Not part of the waflow module: docs/queues.md says how to run
// it in a module of its own.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite"
)

type Args struct {
	N int `json:"n"`
}

func (Args) Kind() string { return "bench" }

type W struct {
	river.WorkerDefaults[Args]
	done *atomic.Int64
	all  chan struct{}
	n    int64
}

func (w *W) Work(ctx context.Context, j *river.Job[Args]) error {
	if w.done.Add(1) == w.n {
		close(w.all)
	}
	return nil
}

var n = flag.Int("n", 5000, "jobs")
var workers = flag.Int("workers", 4, "workers")
var only = flag.String("only", "", "run only this one")

const sqliteOpts = "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)"

func main() {
	flag.Parse()
	pgURL := os.Getenv("PG")
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "erb")
	defer os.RemoveAll(dir)
	run := func(s string) bool { return *only == "" || *only == s }

	if run("river-sqlite") {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "river.db")+sqliteOpts)
		must(err)
		db.SetMaxOpenConns(1)
		drv := riversqlite.New(db)
		m, err := rivermigrate.New(drv, nil)
		must(err)
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		must(err)
		runRiver[*sql.Tx](ctx, "river sqlite", drv)
	}
	if run("river-postgres") {
		pool, err := pgxpool.New(ctx, pgURL)
		must(err)
		_, err = pool.Exec(ctx, "DROP SCHEMA IF EXISTS eventsriverbench CASCADE; CREATE SCHEMA eventsriverbench")
		must(err)
		pool.Close()
		pool, err = pgxpool.New(ctx, pgURL+"&search_path=eventsriverbench")
		must(err)
		drv := riverpgxv5.New(pool)
		m, err := rivermigrate.New(drv, nil)
		must(err)
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		must(err)
		runRiver[pgx.Tx](ctx, "river postgres", drv)
	}
	if run("store-sqlite") {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ours.db")+sqliteOpts)
		must(err)
		db.SetMaxOpenConns(1)
		runOurs(ctx, "store sqlite", db, `CREATE TABLE q (id INTEGER PRIMARY KEY, payload BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
			attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, lease_owner TEXT NOT NULL DEFAULT '', lease_until INTEGER);
			CREATE INDEX q_due ON q (state, next_attempt_at)`,
			"INSERT INTO q (payload, next_attempt_at) VALUES (?, ?)",
			`UPDATE q SET state = 'sending', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
			 WHERE id IN (SELECT id FROM q WHERE state = 'pending' AND next_attempt_at <= ?3
			   UNION ALL SELECT id FROM q WHERE state = 'sending' AND lease_until <= ?3 ORDER BY id LIMIT ?4) RETURNING id`,
			"UPDATE q SET state = 'delivered', lease_owner = '', lease_until = NULL WHERE id = ? AND state = 'sending' AND lease_owner = ?")
	}
	if run("store-postgres") {
		db, err := sql.Open("pgx", pgURL)
		must(err)
		_, err = db.Exec("DROP SCHEMA IF EXISTS eventsoursbench CASCADE; CREATE SCHEMA eventsoursbench")
		must(err)
		db.Close()
		db, err = sql.Open("pgx", pgURL+"&search_path=eventsoursbench")
		must(err)
		db.SetMaxOpenConns(8)
		runOurs(ctx, "store postgres", db, `CREATE TABLE q (id bigserial PRIMARY KEY, payload bytea NOT NULL, state text NOT NULL DEFAULT 'pending',
			attempts int NOT NULL DEFAULT 0, next_attempt_at bigint NOT NULL, lease_owner text NOT NULL DEFAULT '', lease_until bigint);
			CREATE INDEX q_due ON q (state, next_attempt_at)`,
			"INSERT INTO q (payload, next_attempt_at) VALUES ($1, $2)",
			`UPDATE q SET state = 'sending', lease_owner = $1, lease_until = $2, attempts = attempts + 1
			 WHERE id IN (SELECT id FROM q WHERE (state = 'pending' AND next_attempt_at <= $3) OR (state = 'sending' AND lease_until <= $3)
			   ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id`,
			"UPDATE q SET state = 'delivered', lease_owner = '', lease_until = NULL WHERE id = $1 AND state = 'sending' AND lease_owner = $2")
	}
}

func runRiver[TTx any](ctx context.Context, name string, drv riverdriver.Driver[TTx]) {
	var done atomic.Int64
	w := &W{done: &done, all: make(chan struct{}), n: int64(*n)}
	reg := river.NewWorkers()
	river.AddWorker(reg, w)
	c, err := river.NewClient[TTx](drv, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: *workers}},
		Workers:           reg,
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
	})
	must(err)
	start := time.Now()
	for i := 0; i < *n; i++ {
		_, err := c.Insert(ctx, Args{N: i}, nil)
		must(err)
	}
	enq := time.Since(start)
	start = time.Now()
	must(c.Start(ctx))
	<-w.all
	work := time.Since(start)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c.Stop(sctx)
	report(name, enq, work)
}

func runOurs(ctx context.Context, name string, db *sql.DB, schema, insert, claim, settle string) {
	_, err := db.ExecContext(ctx, schema)
	must(err)
	start := time.Now()
	for i := 0; i < *n; i++ {
		_, err := db.ExecContext(ctx, insert, []byte(`{"n":1}`), time.Now().UnixMicro())
		must(err)
	}
	enq := time.Since(start)
	start = time.Now()
	var done atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		owner := fmt.Sprint("w", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done.Load() < int64(*n) {
				now := time.Now().UnixMicro()
				rows, err := db.QueryContext(ctx, claim, owner, now+int64(time.Minute/time.Microsecond), now, 10)
				must(err)
				var ids []int64
				for rows.Next() {
					var id int64
					must(rows.Scan(&id))
					ids = append(ids, id)
				}
				must(rows.Err())
				rows.Close()
				if len(ids) == 0 {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				for _, id := range ids {
					res, err := db.ExecContext(ctx, settle, id, owner)
					must(err)
					if k, _ := res.RowsAffected(); k != 1 {
						log.Fatalf("lease lost %d", id)
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	report(name, enq, time.Since(start))
}

func report(name string, enq, work time.Duration) {
	fmt.Printf("%-15s n=%d workers=%d enqueue %7.0f jobs/s  work %7.0f jobs/s\n", name, *n, *workers,
		float64(*n)/enq.Seconds(), float64(*n)/work.Seconds())
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
