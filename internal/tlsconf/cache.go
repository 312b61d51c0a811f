package tlsconf

import (
	"context"
	"errors"

	"golang.org/x/crypto/acme/autocert"

	"github.com/waflow/waflow"
)

// CertStore is a small key-value table shared by replicas: what
// StoreCache keeps ACME's account key, certificates and challenge tokens
// in. The PostgreSQL driver implements it (table tls_cache).
type CertStore interface {
	// GetTLSCache returns the value under key, or an error matching
	// waflow.ErrNotFound.
	GetTLSCache(ctx context.Context, key string) ([]byte, error)
	// PutTLSCache stores data under key, replacing what was there.
	PutTLSCache(ctx context.Context, key string, data []byte) error
	// DeleteTLSCache removes key; removing a missing key is no error.
	DeleteTLSCache(ctx context.Context, key string) error
}

// StoreCache is an autocert.Cache over a CertStore.
func StoreCache(s CertStore) autocert.Cache { return storeCache{s} }

type storeCache struct{ s CertStore }

func (c storeCache) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.s.GetTLSCache(ctx, key)
	if errors.Is(err, waflow.ErrNotFound) {
		// autocert compares with ==.
		return nil, autocert.ErrCacheMiss
	}
	return b, err
}

func (c storeCache) Put(ctx context.Context, key string, data []byte) error {
	return c.s.PutTLSCache(ctx, key, data)
}

func (c storeCache) Delete(ctx context.Context, key string) error {
	return c.s.DeleteTLSCache(ctx, key)
}

// DirCache is an autocert.Cache in folder dir (created with mode 0700 when
// needed): for a server on one machine.
func DirCache(dir string) autocert.Cache { return autocert.DirCache(dir) }
