// Package vectors gives tests the real WhatsApp vectors kept outside the
// repository, in ../shared/fixtures/meta-vectors relative to the module root.
//
// The vectors are WhatsApp's own requests, responses and webhooks for a
// throwaway key: a test that passes on them talks to WhatsApp. They are not
// copied into the repository; where the folder is absent (a user's clone),
// tests that need them skip with a message that says where to put them.
package vectors

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names an environment variable that, when set, overrides where the
// vectors are looked for.
const EnvDir = "WAFLOW_META_VECTORS"

// Dir returns the vectors folder, or skips tb with a clear message when it
// cannot be found.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	root, err := moduleRoot()
	if err != nil {
		tb.Skipf("real WhatsApp vectors: cannot find the module root: %v", err)
	}
	d := filepath.Join(root, "..", "shared", "fixtures", "meta-vectors")
	if _, err := os.Stat(filepath.Join(d, "request.json")); err != nil {
		tb.Skipf("real WhatsApp vectors not found at %s (set %s to their folder to run this test)", d, EnvDir)
	}
	return d
}

// Read returns the contents of the vector file name, or skips tb when the
// vectors folder is absent. A missing file inside a present folder fails tb.
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
