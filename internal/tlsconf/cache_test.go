package tlsconf

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/crypto/acme/autocert"

	"github.com/waflow/waflow"
)

// mapCache is a CertStore in memory.
type mapCache map[string][]byte

func (m mapCache) GetTLSCache(_ context.Context, key string) ([]byte, error) {
	if b, ok := m[key]; ok {
		return b, nil
	}
	return nil, waflow.ErrNotFound
}

func (m mapCache) PutTLSCache(_ context.Context, key string, data []byte) error {
	m[key] = data
	return nil
}

func (m mapCache) DeleteTLSCache(_ context.Context, key string) error {
	delete(m, key)
	return nil
}

func (m mapCache) Get(ctx context.Context, key string) ([]byte, error) {
	return StoreCache(m).Get(ctx, key)
}
func (m mapCache) Put(ctx context.Context, key string, data []byte) error {
	return StoreCache(m).Put(ctx, key, data)
}
func (m mapCache) Delete(ctx context.Context, key string) error {
	return StoreCache(m).Delete(ctx, key)
}

// autocert tells a miss from a failure by comparing with ErrCacheMiss.
func TestStoreCache(t *testing.T) {
	ctx := context.Background()
	c := StoreCache(mapCache{})
	if _, err := c.Get(ctx, "k"); err != autocert.ErrCacheMiss {
		t.Fatalf("miss: %v, want autocert.ErrCacheMiss itself", err)
	}
	if err := c.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if b, err := c.Get(ctx, "k"); err != nil || string(b) != "v" {
		t.Fatalf("Get = %q, %v", b, err)
	}
	failing := StoreCache(failStore{})
	if _, err := failing.Get(ctx, "k"); err == nil || errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatalf("a store failure: %v, want it passed on, not a miss", err)
	}
}

type failStore struct{ mapCache }

func (failStore) GetTLSCache(context.Context, string) ([]byte, error) {
	return nil, errors.New("database unreachable")
}
