// Package archtest holds no code: its test checks that the packages keep
// the rules of docs/architecture.md (who may import whom, who may read the
// environment), so that a change that breaks one fails `go test ./...`. The
// rules are the table in archtest_test.go; a new rule is a new row.
package archtest
