package main

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/waflow/waflow/keyfiles"
)

// The commands that act as WhatsApp against a server (bench, simulate)
// need its public key and secrets: the configured ones, or by default the
// development ones "waflow serve" wrote into DATA_DIR/dev.

// secretOrDev returns configured, or else the development server's file
// DATA_DIR/dev/name, saying which flag to set when that is missing too.
func secretOrDev(configured, dataDir, name, flagName string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	s, err := keyfiles.ReadDevSecret(dataDir, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no %s: set %s, or -data-dir to the data folder of a development server (%w: %s)", name, flagName, fs.ErrNotExist, filepath.Join(keyfiles.DevDir(dataDir), name))
	}
	return s, err
}

// signingSecret is the secret that signs, of a comma-separated list whose
// first element is the current one (the others are being rotated out).
func signingSecret(list string) string {
	first, _, _ := strings.Cut(list, ",")
	return strings.TrimSpace(first)
}

// endpointPublicKey reads the endpoint's public key from path, or else the
// development server's DATA_DIR/dev/public.pem.
func endpointPublicKey(path, dataDir string) (*rsa.PublicKey, error) {
	if path == "" {
		path = filepath.Join(keyfiles.DevDir(dataDir), keyfiles.PublicKeyFile)
	}
	k, err := keyfiles.ReadPublicKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("public key: %w (set -public-key to the endpoint's public.pem)", err)
	}
	return k, err
}
