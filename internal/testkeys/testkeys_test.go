package testkeys_test

import (
	"testing"

	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/keyfiles"
	"github.com/waflow/waflow/keys"
)

func TestKeysDistinctAndUsable(t *testing.T) {
	seen := map[string]bool{}
	for i := range testkeys.Count {
		k := testkeys.Key(i)
		if k.N.BitLen() != keys.MinBits {
			t.Fatalf("key %d has %d bits, want %d", i, k.N.BitLen(), keys.MinBits)
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		if seen[k.N.String()] {
			t.Fatalf("key %d repeats an earlier one", i)
		}
		seen[k.N.String()] = true
		if testkeys.Key(i) != k {
			t.Fatalf("Key(%d) is not the same key on a second call", i)
		}
	}
}

// keyfiles.Development reads the seeded pair instead of generating one, and
// a second seeding is refused.
func TestDevelopment(t *testing.T) {
	dir := t.TempDir()
	k, err := testkeys.Development(dir)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := keyfiles.Development(dir)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Generated {
		t.Fatal("keyfiles.Development generated a key beside the seeded one")
	}
	got, err := keys.ParsePrivateKey([]byte(dev.PrivateKeyPEM), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(k) {
		t.Fatal("keyfiles.Development read another key than the seeded one")
	}
	if dev.AppSecret == "" || dev.VerifyToken == "" || dev.TokenSecret == "" {
		t.Fatal("the development secrets were not made")
	}
	if _, err := testkeys.Development(dir); err == nil {
		t.Fatal("a second Development overwrote the key pair")
	}
}
