// Package vectors gives tests the real WhatsApp vectors kept in the
// repository's testdata/meta-vectors (see the README there for where they
// come from).
//
// The vectors are WhatsApp's own requests, responses and webhooks for a
// throwaway key: a test that passes on them talks to WhatsApp. They ship
// with the module, so every clone runs the tests that read them; a missing
// file fails the test, it never skips.
package vectors

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names an environment variable that, when set, overrides where the
// vectors are looked for.
const EnvDir = "WAFLOW_META_VECTORS"

// Dir returns the vectors folder: $WAFLOW_META_VECTORS when set, else
// testdata/meta-vectors under the module root. It fails tb when the folder
// cannot be found.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	root, err := moduleRoot()
	if err != nil {
		tb.Fatalf("real WhatsApp vectors: cannot find the module root: %v", err)
	}
	d := filepath.Join(root, "testdata", "meta-vectors")
	if _, err := os.Stat(filepath.Join(d, "request.json")); err != nil {
		tb.Fatalf("real WhatsApp vectors not found at %s: %v", d, err)
	}
	return d
}

// Read returns the contents of the vector file name; a missing file fails tb.
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(tb), name))
	if err != nil {
		tb.Fatalf("reading vector: %v", err)
	}
	return b
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
