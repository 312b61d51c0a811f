// Package keyfiles writes and reads the key and secret files of a waflow
// server, so that a Go program using waflow as a library, the waflow
// binary and its tools (simulate, bench) share one layout:
//
//   - a development set in DATA_DIR/dev, made on first use and reused after
//     ([Development]): private.pem (unencrypted PKCS#8, mode 0600),
//     public.pem (the key to upload to Meta), and the random secrets
//     app-secret, token-secret and verify-token (mode 0600);
//   - a production key pair made once ([WriteKeyPair]): private.pem
//     encrypted with a passphrase, public.pem, and the passphrase file when
//     one was generated.
//
// No file is ever overwritten: a key that exists is a key Meta may hold.
package keyfiles

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/waflow/waflow/keys"
)

// File names of the layout.
const (
	PrivateKeyFile  = "private.pem"
	PublicKeyFile   = "public.pem"
	PassphraseFile  = "passphrase"
	AppSecretFile   = "app-secret"
	TokenSecretFile = "token-secret"
	VerifyTokenFile = "verify-token"
)

// DevDir is the folder of the development set in the data folder dataDir.
func DevDir(dataDir string) string { return filepath.Join(dataDir, "dev") }

// Dev is the development key pair and secrets of a server.
type Dev struct {
	Dir           string // DATA_DIR/dev
	PrivateKeyPEM string // unencrypted
	AppSecret     string // signs webhooks and data-endpoint requests (X-Hub-Signature-256)
	TokenSecret   string // signs flow tokens
	VerifyToken   string // the webhook verify token typed into Meta's dashboard
	// Generated is set when the key pair was made by this call rather than
	// reused: the public key is new to Meta.
	Generated bool
}

// PublicKeyPath is the file of the public key to upload to Meta.
func (d *Dev) PublicKeyPath() string { return filepath.Join(d.Dir, PublicKeyFile) }

// VerifyTokenPath is the file of the webhook verify token.
func (d *Dev) VerifyTokenPath() string { return filepath.Join(d.Dir, VerifyTokenFile) }

// Development returns the development set of the data folder dataDir,
// making whatever is missing: the key pair (unencrypted on purpose: it is
// for a development server only, and a passphrase kept next to it would
// protect nothing) and each secret (32 random bytes, hex).
func Development(dataDir string) (*Dev, error) {
	dir := DevDir(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("development secrets: %w", err)
	}
	d := &Dev{Dir: dir}
	privPath := filepath.Join(dir, PrivateKeyFile)
	priv, err := os.ReadFile(privPath)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := keys.Generate()
		if err != nil {
			return nil, err
		}
		if priv, err = keys.MarshalPrivateKey(k, nil); err != nil {
			return nil, err
		}
		pub, err := keys.MarshalPublicKey(&k.PublicKey)
		if err != nil {
			return nil, err
		}
		if err := writeNew(d.PublicKeyPath(), pub, 0o644); err != nil {
			return nil, err
		}
		if err := writeNew(privPath, priv, 0o600); err != nil {
			return nil, err
		}
		d.Generated = true
	} else if err != nil {
		return nil, fmt.Errorf("development secrets: %w", err)
	}
	d.PrivateKeyPEM = string(priv)
	for _, s := range []struct {
		name string
		dst  *string
	}{{AppSecretFile, &d.AppSecret}, {TokenSecretFile, &d.TokenSecret}, {VerifyTokenFile, &d.VerifyToken}} {
		v, err := readOrCreateSecret(filepath.Join(dir, s.name))
		if err != nil {
			return nil, err
		}
		*s.dst = v
	}
	return d, nil
}

// ReadDevSecret returns the development secret name (AppSecretFile,
// TokenSecretFile, VerifyTokenFile) of the data folder dataDir, without
// making it: an error matching fs.ErrNotExist when there is none.
func ReadDevSecret(dataDir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(DevDir(dataDir), name))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadPublicKey reads a public key file (PEM, SPKI or PKCS#1).
func ReadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := keys.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return k, nil
}

// KeyPair says where WriteKeyPair put a key pair.
type KeyPair struct {
	PrivateKeyPath string // PKCS#8, encrypted, mode 0600
	PublicKeyPath  string
	// PassphrasePath is the file of the generated passphrase, or "" when
	// the caller gave one.
	PassphrasePath string
	Fingerprint    string // of the public key, as keys.Fingerprint
}

// WriteKeyPair generates an RSA key pair into dir (made if needed):
// private.pem encrypted with passphrase, public.pem, and, when passphrase
// is empty, a random passphrase in the file passphrase. It refuses, writing
// nothing, when any of those files exists.
func WriteKeyPair(dir, passphrase string) (KeyPair, error) {
	kp := KeyPair{PrivateKeyPath: filepath.Join(dir, PrivateKeyFile), PublicKeyPath: filepath.Join(dir, PublicKeyFile)}
	generated := passphrase == ""
	check := []string{kp.PrivateKeyPath, kp.PublicKeyPath}
	if generated {
		kp.PassphrasePath = filepath.Join(dir, PassphraseFile)
		check = append(check, kp.PassphrasePath)
	}
	for _, p := range check {
		if _, err := os.Stat(p); err == nil {
			return KeyPair{}, fmt.Errorf("%s already exists; a key is never overwritten (move it away first)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return KeyPair{}, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return KeyPair{}, err
	}
	if generated {
		var r [24]byte
		rand.Read(r[:])
		passphrase = base64.RawURLEncoding.EncodeToString(r[:])
	}
	k, err := keys.Generate()
	if err != nil {
		return KeyPair{}, err
	}
	priv, err := keys.MarshalPrivateKey(k, []byte(passphrase))
	if err != nil {
		return KeyPair{}, err
	}
	pub, err := keys.MarshalPublicKey(&k.PublicKey)
	if err != nil {
		return KeyPair{}, err
	}
	if generated {
		if err := writeNew(kp.PassphrasePath, []byte(passphrase+"\n"), 0o600); err != nil {
			return KeyPair{}, err
		}
	}
	if err := writeNew(kp.PrivateKeyPath, priv, 0o600); err != nil {
		return KeyPair{}, err
	}
	if err := writeNew(kp.PublicKeyPath, pub, 0o644); err != nil {
		return KeyPair{}, err
	}
	kp.Fingerprint = keys.Fingerprint(&k.PublicKey)
	return kp, nil
}

// readOrCreateSecret returns the secret in path, writing a random one first
// if the file does not exist. Surrounding white space (a newline an editor
// added) is not part of it, as for ReadDevSecret: serve and the tools must
// agree on the secret.
func readOrCreateSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var r [32]byte
	rand.Read(r[:])
	s := hex.EncodeToString(r[:])
	if err := writeNew(path, []byte(s), 0o600); err != nil {
		return "", err
	}
	return s, nil
}

// writeNew writes a file that must not exist yet, with perm.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
