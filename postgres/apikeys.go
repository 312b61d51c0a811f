package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

var _ waflow.APIKeyStore = (*DB)(nil)

const apiKeyCols = `id, name, secret_hash, scopes, created_at, last_used_at, revoked_at`

func scanAPIKey(r pgx.Row) (waflow.APIKey, error) {
	var k waflow.APIKey
	var scopes string
	err := r.Scan(&k.ID, &k.Name, &k.SecretHash, &scopes, timeCol{&k.CreatedAt}, timeCol{&k.LastUsedAt}, timeCol{&k.RevokedAt})
	k.Scopes = strings.Split(scopes, ",")
	return k, err
}

// CreateAPIKey implements waflow.APIKeyStore.
func (db *DB) CreateAPIKey(ctx context.Context, k waflow.APIKey) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if err := k.Validate(); err != nil {
		return err
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.now()
	}
	// DO NOTHING without a target covers both the id and the name of a
	// key that is not revoked.
	tag, err := db.pool.Exec(ctx, `INSERT INTO api_keys (id, name, secret_hash, scopes, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		k.ID, k.Name, k.SecretHash, strings.Join(k.Scopes, ","), k.CreatedAt)
	if err != nil {
		return wrap(err, "CreateAPIKey")
	}
	if tag.RowsAffected() == 0 {
		return wrap(waflow.ErrConflict, "CreateAPIKey: a key with this id, or a valid key with this name, exists")
	}
	return nil
}

// APIKey implements waflow.APIKeyStore.
func (db *DB) APIKey(ctx context.Context, id string) (waflow.APIKey, error) {
	if db.closed.Load() {
		return waflow.APIKey{}, waflow.ErrClosed
	}
	k, err := scanAPIKey(db.pool.QueryRow(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.APIKey{}, wrap(waflow.ErrNotFound, "APIKey")
	}
	return k, wrap(err, "APIKey")
}

// APIKeys implements waflow.APIKeyStore.
func (db *DB) APIKeys(ctx context.Context) ([]waflow.APIKey, error) {
	if db.closed.Load() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.pool.Query(ctx, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY created_at, id")
	if err != nil {
		return nil, wrap(err, "APIKeys")
	}
	defer rows.Close()
	out := []waflow.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, wrap(err, "APIKeys")
		}
		out = append(out, k)
	}
	return out, wrap(rows.Err(), "APIKeys")
}

// RevokeAPIKey implements waflow.APIKeyStore.
func (db *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) (waflow.APIKey, error) {
	if db.closed.Load() {
		return waflow.APIKey{}, waflow.ErrClosed
	}
	if at.IsZero() {
		at = db.now()
	}
	if _, err := db.pool.Exec(ctx, "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", at, id); err != nil {
		return waflow.APIKey{}, wrap(err, "RevokeAPIKey")
	}
	return db.APIKey(ctx, id)
}

// TouchAPIKey implements waflow.APIKeyStore.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	tag, err := db.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = greatest(last_used_at, $1::timestamptz) WHERE id = $2`, at, id)
	if err != nil {
		return wrap(err, "TouchAPIKey")
	}
	if tag.RowsAffected() == 0 {
		return wrap(waflow.ErrNotFound, "TouchAPIKey")
	}
	return nil
}
