// Package postgres is the waflow store for deployments that outgrow one
// SQLite file: [waflow.Store], and the catalog flows' tables
// ([catalogstore.Store]), on PostgreSQL, with github.com/jackc/pgx/v5
// (pgxpool).
//
// # Several replicas, one database
//
// Any number of stateless waflow processes may share one database. Nothing
// relies on an in-process lock: a flow token's compare-and-set is one
// conditional UPDATE; inbox and outbox claims select due rows with FOR
// UPDATE SKIP LOCKED and lease them (owner and expiry), so two replicas never
// process one event at once and a crashed replica's claims are retaken when
// their lease runs out; settling a claim checks the lease owner. Leases
// and due times are computed from the database's clock (now() on the
// server), never from a replica's: a replica whose clock runs ahead cannot
// take a lease that still holds elsewhere, nor one behind retry at once or
// hold back the events it ingests. A retry time a caller gives
// (RetryEvent, RetryOutbox) is read as a distance from the caller's clock
// ([Options.Now]) and stored as the same distance from the database's.
//
// # Durability and commits
//
// A commit returns once PostgreSQL has flushed it to its WAL (the default
// synchronous_commit=on), so a webhook answered 200 survives a crash of
// waflow, of PostgreSQL or of the machine. There is no group commit here:
// each AddEvents is one transaction on its own connection, and PostgreSQL
// already lets concurrent commits share a WAL flush.
//
// # Migrations
//
// The numbered files migration/NNN_name.sql embedded in the package are
// applied at [Open], each in its own transaction and recorded in
// schema_migrations, under a PostgreSQL advisory lock so that replicas
// starting together apply each file once. A later feature adds its tables by
// adding the next numbered file here and in package sqlite.
//
// # Schemas
//
// [Options.Schema] puts every table in a schema of its own (created if
// needed), so that several waflow installations, or parallel tests, share a
// database without seeing each other.
package postgres
