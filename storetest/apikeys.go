package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// APIKeyOpener opens a new, empty waflow.APIKeyStore whose clock is now.
type APIKeyOpener func(t *testing.T, now func() time.Time) waflow.APIKeyStore

// RunAPIKeys runs the conformance suite of waflow.APIKeyStore.
func RunAPIKeys(t *testing.T, open APIKeyOpener) {
	t.Helper()
	RunCases(t, open, []Case[waflow.APIKeyStore]{
		{"APIKey/RoundTrip", testAPIKeyRoundTrip},
		{"APIKey/Conflicts", testAPIKeyConflicts},
		{"APIKey/Revoke", testAPIKeyRevoke},
		{"APIKey/Touch", testAPIKeyTouch},
	})
}

func apiKey(id, name string, scopes ...string) waflow.APIKey {
	return waflow.APIKey{ID: id, Name: name, SecretHash: bytes.Repeat([]byte(id + "k")[:1], 32), Scopes: scopes}
}

func testAPIKeyRoundTrip(t *testing.T, s waflow.APIKeyStore, clock *Clock) {
	a := apiKey("a1", "reporting", "read")
	WantErr(t, "CreateAPIKey(a1)", s.CreateAPIKey(ctx, a), nil)
	clock.Advance(time.Second)
	b := apiKey("b2", "crm", "read", "send")
	b.CreatedAt = Epoch.Add(time.Hour)
	WantErr(t, "CreateAPIKey(b2)", s.CreateAPIKey(ctx, b), nil)

	got, err := s.APIKey(ctx, "a1")
	WantErr(t, "APIKey(a1)", err, nil)
	wantA := a
	wantA.CreatedAt = Epoch
	Diff(t, "key a1", wantA, got)
	all, err := s.APIKeys(ctx)
	WantErr(t, "APIKeys", err, nil)
	Diff(t, "every key, oldest first", []waflow.APIKey{wantA, b}, all)

	_, err = s.APIKey(ctx, "nope")
	WantErr(t, "APIKey(unknown)", err, waflow.ErrNotFound)
	for _, bad := range []waflow.APIKey{
		apiKey("", "x", "read"),
		apiKey("c", "", "read"),
		apiKey("d", "x"),
		apiKey("e", "x", ""),
		{ID: "f", Name: "x", SecretHash: []byte("short"), Scopes: []string{"read"}},
	} {
		WantErr(t, "CreateAPIKey(invalid)", s.CreateAPIKey(ctx, bad), waflow.ErrInvalid)
	}
	all, _ = s.APIKeys(ctx)
	if len(all) != 2 {
		t.Fatalf("invalid keys were stored: %d keys", len(all))
	}
}

func testAPIKeyConflicts(t *testing.T, s waflow.APIKeyStore, clock *Clock) {
	WantErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, apiKey("a1", "crm", "read")), nil)
	WantErr(t, "same id", s.CreateAPIKey(ctx, apiKey("a1", "other", "read")), waflow.ErrConflict)
	WantErr(t, "same name", s.CreateAPIKey(ctx, apiKey("b2", "crm", "send")), waflow.ErrConflict)
	// A revoked key's name is free again; its id is not.
	_, err := s.RevokeAPIKey(ctx, "a1", clock.Now())
	WantErr(t, "RevokeAPIKey", err, nil)
	WantErr(t, "name of a revoked key", s.CreateAPIKey(ctx, apiKey("b2", "crm", "send")), nil)
	WantErr(t, "id of a revoked key", s.CreateAPIKey(ctx, apiKey("a1", "third", "read")), waflow.ErrConflict)
}

func testAPIKeyRevoke(t *testing.T, s waflow.APIKeyStore, clock *Clock) {
	WantErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, apiKey("a1", "crm", "read")), nil)
	clock.Advance(time.Minute)
	k, err := s.RevokeAPIKey(ctx, "a1", clock.Now())
	WantErr(t, "RevokeAPIKey", err, nil)
	if !k.Revoked() || !k.RevokedAt.Equal(clock.Now()) {
		t.Fatalf("revoked key: RevokedAt = %v, want %v", k.RevokedAt, clock.Now())
	}
	// Revoking again keeps the first time.
	clock.Advance(time.Minute)
	k2, err := s.RevokeAPIKey(ctx, "a1", clock.Now())
	WantErr(t, "RevokeAPIKey again", err, nil)
	Diff(t, "revoked twice", k, k2)
	stored, _ := s.APIKey(ctx, "a1")
	Diff(t, "revoked key read back", k, stored)
	_, err = s.RevokeAPIKey(ctx, "nope", clock.Now())
	WantErr(t, "RevokeAPIKey(unknown)", err, waflow.ErrNotFound)
}

func testAPIKeyTouch(t *testing.T, s waflow.APIKeyStore, clock *Clock) {
	WantErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, apiKey("a1", "crm", "read")), nil)
	k, _ := s.APIKey(ctx, "a1")
	if !k.LastUsedAt.IsZero() {
		t.Fatalf("a new key's LastUsedAt = %v, want zero", k.LastUsedAt)
	}
	t1 := Epoch.Add(2 * time.Minute)
	WantErr(t, "TouchAPIKey", s.TouchAPIKey(ctx, "a1", t1), nil)
	// An earlier time (another replica's late write) does not go back.
	WantErr(t, "TouchAPIKey(earlier)", s.TouchAPIKey(ctx, "a1", Epoch.Add(time.Minute)), nil)
	k, _ = s.APIKey(ctx, "a1")
	if !k.LastUsedAt.Equal(t1) {
		t.Fatalf("LastUsedAt = %v, want %v", k.LastUsedAt, t1)
	}
	WantErr(t, "TouchAPIKey(unknown)", s.TouchAPIKey(ctx, "nope", t1), waflow.ErrNotFound)
}
