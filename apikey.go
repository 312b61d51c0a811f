package waflow

import (
	"context"
	"time"
)

// APIKey is a key of the HTTP API (package api): who may call it and what
// for. The key's text is shown once, when it is made; the store keeps only
// the SHA-256 hash of its secret part, so a copy of the database opens
// nothing.
type APIKey struct {
	// ID is the public part of the key's text, which finds the key; it is
	// not secret (waflow apikeys list shows it).
	ID string
	// Name is the operator's name for the key, unique among the keys that
	// are not revoked.
	Name string
	// SecretHash is the SHA-256 of the key's secret part.
	SecretHash []byte
	// Scopes are what the key may do ("read", "send"), in a fixed order.
	Scopes    []string
	CreatedAt time.Time
	// LastUsedAt is when the key was last seen, to about a minute (the API
	// records it at most once a minute per key); zero if never.
	LastUsedAt time.Time
	// RevokedAt is when the key was revoked; zero while it is valid.
	RevokedAt time.Time
}

// Revoked reports whether k was revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Validate checks what CreateAPIKey needs: an ID, a Name, a SecretHash of 32
// bytes and at least one scope.
func (k APIKey) Validate() error {
	if k.ID == "" || k.Name == "" {
		return Invalidf("an API key needs an ID and a Name")
	}
	if len(k.SecretHash) != 32 {
		return Invalidf("an API key's SecretHash is a SHA-256 hash: 32 bytes, not %d", len(k.SecretHash))
	}
	if len(k.Scopes) == 0 {
		return Invalidf("an API key needs at least one scope")
	}
	for _, s := range k.Scopes {
		if s == "" {
			return Invalidf("an API key's scope is empty")
		}
	}
	return nil
}

// APIKeyStore keeps the keys of the HTTP API. It is not part of Store: a
// program that serves no API needs none. Both drivers implement it.
type APIKeyStore interface {
	// CreateAPIKey stores k; a zero CreatedAt is set to the store's clock,
	// LastUsedAt and RevokedAt are ignored. It returns ErrInvalid when k
	// does not validate, and ErrConflict when a key with k.ID exists, or a
	// key named k.Name that is not revoked.
	CreateAPIKey(ctx context.Context, k APIKey) error

	// APIKey returns the key with id, revoked or not, or ErrNotFound.
	APIKey(ctx context.Context, id string) (APIKey, error)

	// APIKeys returns every key, revoked ones too, oldest first.
	APIKeys(ctx context.Context) ([]APIKey, error)

	// RevokeAPIKey sets the RevokedAt of key id to at, unless it is revoked
	// already (then it changes nothing), and returns the key. It returns
	// ErrNotFound for an unknown key.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) (APIKey, error)

	// TouchAPIKey records that key id was used at at: LastUsedAt becomes
	// at unless it is later already. It returns ErrNotFound for an unknown
	// key.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}
