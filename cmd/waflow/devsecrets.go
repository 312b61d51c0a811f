package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/waflow/waflow/keys"
)

// devSecrets are the key and secrets of a development server, generated
// into DATA_DIR/dev on first run and reused after.
type devSecrets struct {
	dir             string
	privateKey      string
	publicKeyPath   string
	verifyTokenPath string
	appSecret       string
	tokenSecret     string
	verifyToken     string
	// generated is set when the key pair was made by this run rather than
	// reused from an earlier one: the public key is new to Meta.
	generated bool
}

func loadDevSecrets(dataDir string) (*devSecrets, error) {
	dir := filepath.Join(dataDir, "dev")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("development secrets: %w", err)
	}
	d := &devSecrets{dir: dir, publicKeyPath: filepath.Join(dir, "public.pem"), verifyTokenPath: filepath.Join(dir, "verify-token")}
	privPath := filepath.Join(dir, "private.pem")
	priv, err := os.ReadFile(privPath)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := keys.Generate()
		if err != nil {
			return nil, err
		}
		// Unencrypted on purpose: this key is for a development server only,
		// and a passphrase kept next to it would protect nothing.
		if priv, err = keys.MarshalPrivateKey(k, nil); err != nil {
			return nil, err
		}
		pub, err := keys.MarshalPublicKey(&k.PublicKey)
		if err != nil {
			return nil, err
		}
		if err := writeNew(d.publicKeyPath, pub, 0o644); err != nil {
			return nil, err
		}
		if err := writeNew(privPath, priv, 0o600); err != nil {
			return nil, err
		}
		d.generated = true
	} else if err != nil {
		return nil, fmt.Errorf("development secrets: %w", err)
	}
	d.privateKey = string(priv)
	for _, s := range []struct {
		name string
		dst  *string
	}{{"app-secret", &d.appSecret}, {"token-secret", &d.tokenSecret}, {"verify-token", &d.verifyToken}} {
		v, err := readOrCreateSecret(filepath.Join(dir, s.name))
		if err != nil {
			return nil, err
		}
		*s.dst = v
	}
	return d, nil
}

// readOrCreateSecret returns the secret in path, writing a random one first
// if the file does not exist.
func readOrCreateSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b), nil
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
