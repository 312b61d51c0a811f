package keyfiles_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waflow/waflow/keyfiles"
	"github.com/waflow/waflow/keys"
)

func TestDevelopmentMadeOnceThenReused(t *testing.T) {
	data := t.TempDir()
	first, err := keyfiles.Development(data)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated || first.Dir != filepath.Join(data, "dev") {
		t.Fatalf("first call: Generated=%v Dir=%s, want a new set in DATA_DIR/dev", first.Generated, first.Dir)
	}
	for _, s := range []string{first.AppSecret, first.TokenSecret, first.VerifyToken} {
		if len(s) != 64 {
			t.Errorf("secret of %d characters, want 32 random bytes in hex", len(s))
		}
	}
	if first.AppSecret == first.TokenSecret {
		t.Error("app and token secrets are the same")
	}
	for name, perm := range map[string]os.FileMode{"private.pem": 0o600, "public.pem": 0o644, "app-secret": 0o600, "token-secret": 0o600, "verify-token": 0o600} {
		fi, err := os.Stat(filepath.Join(first.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != perm {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), perm)
		}
	}
	k, err := keys.ParsePrivateKey([]byte(first.PrivateKeyPEM), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keyfiles.ReadPublicKey(first.PublicKeyPath())
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Fatalf("public.pem is not the private key's public half (err %v)", err)
	}

	again, err := keyfiles.Development(data)
	if err != nil {
		t.Fatal(err)
	}
	if again.Generated || again.PrivateKeyPEM != first.PrivateKeyPEM || again.AppSecret != first.AppSecret || again.VerifyToken != first.VerifyToken {
		t.Error("second call did not reuse the first set")
	}
	if got, err := keyfiles.ReadDevSecret(data, keyfiles.TokenSecretFile); err != nil || got != first.TokenSecret {
		t.Errorf("ReadDevSecret = %q, %v", got, err)
	}
}

// TestDevSecretEditedWithNewline: a secret file an editor saved with a
// trailing newline gives serve the same secret as the tools.
func TestDevSecretEditedWithNewline(t *testing.T) {
	data := t.TempDir()
	if _, err := keyfiles.Development(data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(keyfiles.DevDir(data), keyfiles.AppSecretFile)
	if err := os.WriteFile(path, []byte("edited-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dev, err := keyfiles.Development(data)
	if err != nil {
		t.Fatal(err)
	}
	tool, err := keyfiles.ReadDevSecret(data, keyfiles.AppSecretFile)
	if err != nil || dev.AppSecret != "edited-secret" || tool != dev.AppSecret {
		t.Errorf("serve reads %q, the tools %q (%v): want both edited-secret", dev.AppSecret, tool, err)
	}
}

func TestReadDevSecretMissing(t *testing.T) {
	if _, err := keyfiles.ReadDevSecret(t.TempDir(), keyfiles.AppSecretFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestWriteKeyPair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	kp, err := keyfiles.WriteKeyPair(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	pass, err := os.ReadFile(kp.PassphrasePath)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := os.ReadFile(kp.PrivateKeyPath)
	if _, err := keys.ParsePrivateKey(priv, nil); err == nil {
		t.Error("the private key opens without its passphrase")
	}
	k, err := keys.ParsePrivateKey(priv, []byte(strings.TrimSpace(string(pass))))
	if err != nil {
		t.Fatalf("the generated passphrase does not open the key: %v", err)
	}
	if kp.Fingerprint != keys.Fingerprint(&k.PublicKey) {
		t.Error("Fingerprint is not the key's")
	}

	before, _ := os.ReadFile(kp.PrivateKeyPath)
	if _, err := keyfiles.WriteKeyPair(dir, "given passphrase"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second WriteKeyPair = %v, want a refusal", err)
	}
	if after, _ := os.ReadFile(kp.PrivateKeyPath); string(after) != string(before) {
		t.Error("the refused call changed the key")
	}

	given, err := keyfiles.WriteKeyPair(filepath.Join(t.TempDir(), "k2"), "given passphrase")
	if err != nil || given.PassphrasePath != "" {
		t.Fatalf("with a passphrase: %+v, %v (want no passphrase file)", given, err)
	}
}
