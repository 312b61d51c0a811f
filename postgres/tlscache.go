package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

// GetTLSCache returns the ACME cache entry under key (internal/tlsconf),
// or an error matching waflow.ErrNotFound.
func (db *DB) GetTLSCache(ctx context.Context, key string) ([]byte, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	var b []byte
	err := db.pool.QueryRow(ctx, "SELECT data FROM tls_cache WHERE key = $1", key).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, wrap(waflow.ErrNotFound, "GetTLSCache")
	}
	return b, wrap(err, "GetTLSCache")
}

// PutTLSCache stores an ACME cache entry, replacing the one under key.
func (db *DB) PutTLSCache(ctx context.Context, key string, data []byte) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO tls_cache (key, data, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`, key, data, db.now())
	return wrap(err, "PutTLSCache")
}

// DeleteTLSCache removes the ACME cache entry under key, if any.
func (db *DB) DeleteTLSCache(ctx context.Context, key string) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	_, err := db.pool.Exec(ctx, "DELETE FROM tls_cache WHERE key = $1", key)
	return wrap(err, "DeleteTLSCache")
}

// lockPoll is how often Lock tries again for a lock another session holds.
const lockPoll = 200 * time.Millisecond

// Lock takes the advisory lock named name, shared by every process using
// this database (and schema), waiting until it is free or ctx is done;
// unlock releases it. It holds one pooled connection meanwhile: an
// advisory lock belongs to a session, and is released by the server if
// the process dies. (internal/tlsconf takes one while asking the CA for a
// certificate, so that replicas do not each ask for one.)
func (db *DB) Lock(ctx context.Context, name string) (unlock func(), err error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, wrap(err, "Lock")
	}
	key := "waflow lock " + db.schema + " " + name
	for {
		var ok bool
		// try, rather than wait in the server: a cancelled wait would
		// leave the connection's state unclear.
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", key).Scan(&ok); err != nil {
			conn.Release()
			return nil, wrap(err, "Lock")
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			conn.Release()
			return nil, wrap(ctx.Err(), "Lock")
		case <-time.After(lockPoll):
		}
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock(hashtext($1))", key); err != nil {
			// Closing the session releases its locks.
			conn.Conn().Close(uctx)
		}
		conn.Release()
	}, nil
}
