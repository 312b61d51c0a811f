package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/waflow/waflow"
)

var _ waflow.APIKeyStore = (*DB)(nil)

const apiKeyCols = `id, name, secret_hash, scopes, created_at, last_used_at, revoked_at`

func scanAPIKey(r rowScanner) (waflow.APIKey, error) {
	var k waflow.APIKey
	var scopes string
	err := r.Scan(&k.ID, &k.Name, &k.SecretHash, &scopes, timeCol{&k.CreatedAt}, timeCol{&k.LastUsedAt}, timeCol{&k.RevokedAt})
	k.Scopes = strings.Split(scopes, ",")
	return k, err
}

// CreateAPIKey implements waflow.APIKeyStore.
func (db *DB) CreateAPIKey(ctx context.Context, k waflow.APIKey) error {
	if db.isClosed() {
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
	res, err := db.exec(ctx, `INSERT INTO api_keys (id, name, secret_hash, scopes, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.ID, k.Name, k.SecretHash, strings.Join(k.Scopes, ","), micros(k.CreatedAt))
	if err != nil {
		return wrap(err, "CreateAPIKey")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return wrap(waflow.ErrConflict, "CreateAPIKey: a key with this id, or a valid key with this name, exists")
	}
	return nil
}

// APIKey implements waflow.APIKeyStore.
func (db *DB) APIKey(ctx context.Context, id string) (waflow.APIKey, error) {
	if db.isClosed() {
		return waflow.APIKey{}, waflow.ErrClosed
	}
	k, err := scanAPIKey(db.r.QueryRowContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.APIKey{}, wrap(waflow.ErrNotFound, "APIKey")
	}
	return k, wrap(err, "APIKey")
}

// APIKeys implements waflow.APIKeyStore.
func (db *DB) APIKeys(ctx context.Context) ([]waflow.APIKey, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY created_at, id")
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
	if db.isClosed() {
		return waflow.APIKey{}, waflow.ErrClosed
	}
	if at.IsZero() {
		at = db.now()
	}
	if _, err := db.exec(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", micros(at), id); err != nil {
		return waflow.APIKey{}, wrap(err, "RevokeAPIKey")
	}
	return db.APIKey(ctx, id)
}

// TouchAPIKey implements waflow.APIKeyStore.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if _, err := db.exec(ctx, `UPDATE api_keys SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, micros(at), id, micros(at)); err != nil {
		return wrap(err, "TouchAPIKey")
	}
	_, err := db.APIKey(ctx, id)
	return err
}
