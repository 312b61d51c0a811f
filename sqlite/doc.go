// Package sqlite is the default waflow store: [waflow.Store], and the
// catalog flows' tables ([catalogstore.Store]), on an embedded SQLite
// database file, with the pure-Go driver modernc.org/sqlite (no cgo).
//
// # One writer
//
// SQLite lets many connections read at once but only one write at a time; a
// second writer waits on the file lock (busy_timeout) and, in a deferred
// transaction that started as a read, can fail with SQLITE_BUSY. So a [DB]
// writes through exactly one connection (SetMaxOpenConns(1)), whose
// transactions start with BEGIN IMMEDIATE, and reads through a separate
// read-only pool. With WAL, readers never block the writer nor the writer the
// readers. An in-memory database (":memory:") lives and dies with its
// connection, so it uses the one writer connection for reads too.
//
// Several processes may open the same file (say "waflow serve" and "waflow
// migrate"); every compare-and-set runs in one write transaction, so it is
// correct across processes too, only slower.
// Leases and due times are read on the process clock ([Options.Now]): every
// process opening one file runs on one machine, so they share that clock (a
// PostgreSQL store reads the database's instead, its replicas' clocks being
// different machines').
//
// # Group commit
//
// A webhook is answered 200 only once its events are committed, and a commit
// waits for an fsync. Every write of every method therefore joins a shared
// transaction run by one committer goroutine (commit.go): the writes
// waiting at that moment run one after the other, each between a SAVEPOINT
// and its release, and one commit makes them all durable. A write returns
// only after that commit, whether it kept its changes or gave up, so a nil
// error means durable and what a write saw is committed when it returns.
// A write that fails undoes only itself, unless SQLite ends the whole
// transaction (a full disk, an I/O error): then every write of the batch
// is told it failed, and none is stored. Under load one fsync is shared by
// dozens of webhooks, and the inbox worker's writes (claims, settled
// events, completions) share them too instead of queueing behind
// ingestion for an fsync each.
//
// # Durability
//
// The journal is WAL (write-ahead log). The default synchronous setting is
// FULL: every commit fsyncs the WAL before it returns, so a committed event
// survives a process crash (kill -9) and a power cut or kernel panic alike.
// With NORMAL, which [Options] allows, a commit is written to the WAL but
// fsynced only at checkpoints: it survives a process crash, because the
// bytes are in the operating system's cache, but the last transactions
// before a power cut can be lost. A webhook answered 200 is never sent again
// by WhatsApp, so a lost commit is a lost completion; FULL is what a
// business expects, and group commit pays for it.
//
// # Migrations
//
// The schema is created and upgraded at [Open] by the numbered files
// migration/NNN_name.sql embedded in the package, each applied in its own
// transaction and recorded in the schema_migrations table (the file names
// and their order are checked by internal/migrate). A later feature adds its
// tables by adding the next numbered file here and in package postgres, and
// a conformance test to package storetest (or, for one set of flows' own
// tables, to its own suite, as catalogtest is for the catalog's).
package sqlite
