package storetest

import (
	"os"
	"testing"
)

// EnvPostgresURL names the environment variable that enables the
// PostgreSQL tests: the URL of a database they may create schemas in.
const EnvPostgresURL = "WAFLOW_TEST_POSTGRES_URL"

// PostgresURL returns the URL of the PostgreSQL database for tests, or skips
// tb with a message saying how to enable them.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvPostgresURL)
	if u == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s to a database URL to run them, e.g. "+
			"%s='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' (.ci/run sets it)", EnvPostgresURL, EnvPostgresURL)
	}
	return u
}
