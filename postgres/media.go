package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/waflow/waflow"
)

var _ waflow.MediaStore = (*DB)(nil)

// PutMedia implements waflow.MediaStore.
func (db *DB) PutMedia(ctx context.Context, f waflow.MediaFile) error {
	if db.closed.Load() {
		return waflow.ErrClosed
	}
	if err := f.Validate(); err != nil {
		return err
	}
	if f.CreatedAt.IsZero() {
		f.CreatedAt = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO media_files (key, data, size, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO NOTHING`, f.Key, f.Data, len(f.Data), f.CreatedAt)
	return wrap(err, "PutMedia")
}

// GetMedia implements waflow.MediaStore.
func (db *DB) GetMedia(ctx context.Context, key string) (waflow.MediaFile, error) {
	if db.closed.Load() {
		return waflow.MediaFile{}, waflow.ErrClosed
	}
	if err := waflow.ValidateMediaKey(key); err != nil {
		return waflow.MediaFile{}, err
	}
	f := waflow.MediaFile{Key: key}
	err := db.pool.QueryRow(ctx, "SELECT data, created_at FROM media_files WHERE key = $1", key).Scan(&f.Data, &f.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return waflow.MediaFile{}, wrap(waflow.ErrNotFound, "GetMedia")
	}
	if f.Data == nil && err == nil {
		f.Data = []byte{}
	}
	return f, wrap(err, "GetMedia")
}
