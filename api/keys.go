package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waflow/waflow"
)

// Scope is what a key may do.
type Scope string

// The scopes. A key has one or more.
const (
	// ScopeRead lists flows and reads responses.
	ScopeRead Scope = "read"
	// ScopeSend sends flow messages.
	ScopeSend Scope = "send"
	// ScopeAdmin manages the event subscriptions: a subscription sends
	// every answer to its URL, so it takes a scope of its own.
	ScopeAdmin Scope = "admin"
)

// Scopes are the known scopes, in the order keys store them.
var Scopes = []Scope{ScopeRead, ScopeSend, ScopeAdmin}

// ParseScopes parses a comma-separated list of scopes ("read,send"), each
// once; the result is in the order of Scopes.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, p := range strings.Split(s, ",") {
		sc := Scope(strings.TrimSpace(p))
		if !slices.Contains(Scopes, sc) {
			return nil, fmt.Errorf("api: unknown scope %q: want read, send or admin, or several (read,send)", p)
		}
		if slices.Contains(out, sc) {
			return nil, fmt.Errorf("api: scope %q given twice", sc)
		}
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b Scope) int { return slices.Index(Scopes, a) - slices.Index(Scopes, b) })
	return out, nil
}

// KeyPrefix starts every key's text: wfk_<id>_<secret>. It lets secret
// scanners recognise a leaked key.
const KeyPrefix = "wfk_"

const (
	idBytes     = 8  // the id: 16 hex digits, public
	secretBytes = 32 // the secret: 256 random bits
)

var errKeyFormat = errors.New("api: not a waflow API key (want wfk_<id>_<secret>)")

// ParseKey splits a key's text into its id and its secret. It checks the
// shape only; Config.Keys says whether the key exists.
func ParseKey(text string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(text, KeyPrefix)
	if !ok {
		return "", "", errKeyFormat
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 2*idBytes || len(secret) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return "", "", errKeyFormat
	}
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		return "", "", errKeyFormat
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", "", errKeyFormat
	}
	return id, secret, nil
}

// hashSecret is the hash a key's secret is stored as. SHA-256, not a slow
// password hash: the secret is 256 random bits, so there is no dictionary
// to try and a fast hash is as safe as a slow one, while every request
// pays for it.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// secretMatches compares a presented secret with the stored hash in
// constant time.
func secretMatches(k waflow.APIKey, secret string) bool {
	return subtle.ConstantTimeCompare(hashSecret(secret), k.SecretHash) == 1
}

// NewKey makes a key named name with scopes: its text, to show once, and
// the record to store (waflow.APIKeyStore.CreateAPIKey), which holds only
// the hash of the secret.
func NewKey(name string, scopes []Scope) (text string, k waflow.APIKey, err error) {
	if strings.TrimSpace(name) == "" {
		return "", k, errors.New("api: a key needs a name")
	}
	if len(scopes) == 0 {
		return "", k, errors.New("api: a key needs a scope: read, send or both")
	}
	var b [idBytes + secretBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	id := hex.EncodeToString(b[:idBytes])
	secret := base64.RawURLEncoding.EncodeToString(b[idBytes:])
	k = waflow.APIKey{ID: id, Name: name, SecretHash: hashSecret(secret)}
	for _, s := range Scopes { // in their fixed order, each once
		if slices.Contains(scopes, s) {
			k.Scopes = append(k.Scopes, string(s))
		}
	}
	if len(k.Scopes) != len(slices.Compact(slices.Sorted(slices.Values(scopes)))) {
		return "", waflow.APIKey{}, fmt.Errorf("api: unknown scope in %v: want read, send or both", scopes)
	}
	return KeyPrefix + id + "_" + secret, k, nil
}

// CreateKey makes a key (NewKey), stores it and returns its text, which is
// shown once: it is not kept.
func CreateKey(ctx context.Context, store waflow.APIKeyStore, name string, scopes []Scope) (string, waflow.APIKey, error) {
	text, k, err := NewKey(name, scopes)
	if err != nil {
		return "", k, err
	}
	if err := store.CreateAPIKey(ctx, k); err != nil {
		if errors.Is(err, waflow.ErrConflict) {
			return "", k, fmt.Errorf("api: a key named %q exists: revoke it first, or choose another name", name)
		}
		return "", k, err
	}
	return text, k, nil
}

// RevokeKey revokes the key whose id or name is nameOrID (an id first; a
// name names the key of that name that is not revoked) and returns it.
func RevokeKey(ctx context.Context, store waflow.APIKeyStore, nameOrID string, at time.Time) (waflow.APIKey, error) {
	if _, err := store.APIKey(ctx, nameOrID); err == nil {
		return store.RevokeAPIKey(ctx, nameOrID, at)
	} else if !errors.Is(err, waflow.ErrNotFound) {
		return waflow.APIKey{}, err
	}
	keys, err := store.APIKeys(ctx)
	if err != nil {
		return waflow.APIKey{}, err
	}
	for _, k := range keys {
		if k.Name == nameOrID && !k.Revoked() {
			return store.RevokeAPIKey(ctx, k.ID, at)
		}
	}
	return waflow.APIKey{}, fmt.Errorf("api: no key with the id or name %q that is not revoked: %w", nameOrID, waflow.ErrNotFound)
}

func hasScope(k waflow.APIKey, s Scope) bool { return slices.Contains(k.Scopes, string(s)) }
