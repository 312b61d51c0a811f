package flowjson

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// realworldDir holds Flow JSON that others published (Meta's repositories,
// open-source libraries and their docs), each kept as published; SOURCES.md
// names where each file comes from and under which licence.
var realworldDir = filepath.Join("testdata", "realworld")

// realworldStatus is a file's line in realworld/expectations.tsv.
type realworldStatus struct {
	status string // "valid", "meta-accepts" or "invalid"
	note   string
}

// readRealworldExpectations reads expectations.tsv: one line per flow,
// FILE<TAB>STATUS<TAB>NOTE, where STATUS is
//
//   - valid: Meta accepts it and the validator reports no error;
//   - meta-accepts: Meta accepts it, so it must have no error, but a rule
//     stricter than Meta's (issue 16) still rejects it; NOTE says which;
//   - invalid: it has a real mistake by Meta's rules; FILE's .golden lists
//     the errors (code and location) and NOTE says what the mistake is.
func readRealworldExpectations(t *testing.T) map[string]realworldStatus {
	t.Helper()
	f, err := os.Open(filepath.Join(realworldDir, "expectations.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exp := map[string]realworldStatus{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, "\t", 3)
		if len(fields) < 2 {
			t.Fatalf("expectations.tsv:%d: want FILE<TAB>STATUS<TAB>NOTE, got %q", n, line)
		}
		st := realworldStatus{status: fields[1]}
		if len(fields) == 3 {
			st.note = fields[2]
		}
		switch st.status {
		case "valid":
		case "meta-accepts", "invalid":
			if st.note == "" {
				t.Errorf("expectations.tsv:%d: %s needs a note saying why", n, st.status)
			}
		default:
			t.Errorf("expectations.tsv:%d: unknown status %q", n, st.status)
		}
		if _, dup := exp[fields[0]]; dup {
			t.Errorf("expectations.tsv:%d: %s listed twice", n, fields[0])
		}
		exp[fields[0]] = st
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return exp
}

// formatRealworldGolden renders the errors of a real-world flow as its golden
// file holds them: code and location only (file:line:col: CODE, then the
// JSON pointer), so a reworded message does not change the golden file.
func formatRealworldGolden(name string, ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		if p.Severity != SeverityError {
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s\n\t%s\n", name, p.Line, p.Column, p.Code, p.Pointer)
	}
	return b.String()
}

// TestRealworldCorpus validates every published flow of testdata/realworld:
// the ones Meta accepts must have no error (warnings are allowed: they never
// block a deploy), and the ones with a real mistake must report exactly the
// errors of their .golden file (go test ./flowjson -run Realworld -update
// rewrites those).
func TestRealworldCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(realworldDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if len(files) < 50 {
		t.Fatalf("testdata/realworld has %d flows, want at least 50", len(files))
	}
	exp := readRealworldExpectations(t)
	sources, err := os.ReadFile(filepath.Join(realworldDir, "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		base := filepath.Base(file)
		t.Run(strings.TrimSuffix(base, ".json"), func(t *testing.T) {
			st, ok := exp[base]
			if !ok {
				t.Fatalf("%s is not listed in expectations.tsv", base)
			}
			if !bytes.Contains(sources, []byte("`"+base+"`")) {
				t.Errorf("%s has no source in SOURCES.md", base)
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, ps := ValidateSource(src)
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if st.status != "invalid" {
				if ps.HasErrors() {
					t.Errorf("Meta accepts this flow, but the validator reports:\n%s", formatGolden(base, ps))
				}
				if _, err := os.Stat(golden); err == nil {
					t.Errorf("%s is expected valid but has a golden file %s", base, golden)
				}
				return
			}
			if !ps.HasErrors() {
				t.Errorf("no error reported, but expectations.tsv says: %s", st.note)
			}
			got := formatRealworldGolden(base, ps)
			checkGolden(t, golden, got, " -run Realworld")
		})
	}
	for name := range exp {
		if _, err := os.Stat(filepath.Join(realworldDir, name)); err != nil {
			t.Errorf("expectations.tsv lists %s, which has no file", name)
		}
	}
}
