package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowsdir"
)

func validateCommand() *Command {
	return &Command{
		Name:    "validate",
		Args:    "FILE|DIR...",
		Summary: "check Flow JSON files and flows folders as Meta's Flow Builder does, offline",
		Help: `
Checks each Flow JSON file (versions 2.1 to 7.3; "-" reads standard input) and
each flows folder (DIR: every NAME.json and its manifest NAME.waflow.json, as
"waflow serve -flows-dir DIR" checks them at start: see docs/flows-folder.md;
backend secrets are not read) and prints every problem as

    FILE:LINE:COL: CODE: message

with Meta's error code where Meta has one. Warnings (such as a version that can
no longer publish new flows, or a rule waflow is not sure Meta applies: Meta
checks again at upload) are printed as "FILE:LINE:COL: warning: CODE: ..." and
do not fail the command.

Exit status: 0 when no file has an error, 1 when one has (or, with -strict, a
warning), 2 for a usage mistake.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			asJSON := fs.Bool("json", false, "print a JSON report instead of text")
			strict := fs.Bool("strict", false, "fail on warnings too")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return usagef("validate", "no Flow JSON file given (nor flows folder)")
				}
				return runValidate(env, args, *asJSON, *strict)
			}
		},
	}
}

// validateReport is the -json output.
type validateReport struct {
	Files    []validateFile `json:"files"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
}

type validateFile struct {
	flowjson.FileReport
	// ReadError is set when the file could not be read.
	ReadError string `json:"read_error,omitempty"`
}

func runValidate(env *Env, files []string, asJSON, strict bool) error {
	report := validateReport{Files: []validateFile{}}
	unreadable, checked := 0, 0
	for _, name := range files {
		if st, err := os.Stat(name); name != "-" && err == nil && st.IsDir() {
			n, err := validateDir(env, name, &report, asJSON)
			if err != nil {
				unreadable++
				report.Files = append(report.Files, validateFile{FileReport: flowjson.FileReport{File: name, Problems: flowjson.Problems{}}, ReadError: err.Error()})
				if !asJSON {
					fmt.Fprintf(env.Stderr, "waflow validate: %v\n", err)
				}
			}
			checked += n
			continue
		}
		checked++
		src, err := readFlowFile(env, name)
		if err != nil {
			unreadable++
			report.Files = append(report.Files, validateFile{FileReport: flowjson.FileReport{File: name, Problems: flowjson.Problems{}}, ReadError: err.Error()})
			if !asJSON {
				fmt.Fprintf(env.Stderr, "waflow validate: %v\n", err)
			}
			continue
		}
		_, ps := flowjson.ValidateSource(src)
		report.Files = append(report.Files, validateFile{FileReport: ps.Report(name)})
		report.Errors += ps.Errors()
		report.Warnings += ps.Warnings()
		if !asJSON {
			if err := ps.WriteText(env.Stdout, name); err != nil {
				return err
			}
		}
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	}
	failed := report.Errors > 0 || unreadable > 0 || strict && report.Warnings > 0
	if asJSON {
		if failed {
			return &exitError{code: 1}
		}
		return nil
	}
	msg := fmt.Sprintf("%s, %s in %s", count(report.Errors, "error"), count(report.Warnings, "warning"), count(checked, "file"))
	if !failed {
		// The same summary on success, so that a clean run says what it checked.
		fmt.Fprintf(env.Stderr, "waflow validate: %s\n", msg)
		return nil
	}
	if unreadable > 0 {
		msg += fmt.Sprintf(" (%s unreadable)", count(unreadable, "file"))
	}
	return &exitError{code: 1, msg: msg}
}

// validateDir checks the flows folder dir as serve loads it, against the
// catalog's flow names, adds its files' problems to report (printing them
// unless asJSON) and returns how many files it checked. An error means the
// folder could not be read.
func validateDir(env *Env, dir string, report *validateReport, asJSON bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	known, err := catalog.Describe(nil)
	if err != nil {
		return 0, err
	}
	ps, err := flowsdir.Load(known, dir, flowsdir.Options{})
	if _, ok := errors.AsType[*flowsdir.Error](err); err != nil && !ok {
		return 0, err
	}
	if !asJSON {
		if err := ps.WriteText(env.Stdout); err != nil {
			return 0, err
		}
	}
	// One report a file of the folder, in its order, then any other file
	// a problem names.
	byFile := map[string]flowjson.Problems{}
	for _, p := range ps {
		byFile[p.File] = append(byFile[p.File], p.Problem)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".json") {
			names = append(names, filepath.Join(dir, n))
		}
	}
	for _, p := range ps {
		if !slices.Contains(names, p.File) {
			names = append(names, p.File)
		}
	}
	for _, n := range names {
		report.Files = append(report.Files, validateFile{FileReport: byFile[n].Report(n)})
	}
	report.Errors += ps.Errors()
	report.Warnings += ps.Warnings()
	return len(names), nil
}

func readFlowFile(env *Env, name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(env.Stdin)
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return b, nil
	}
	return os.ReadFile(name)
}

func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
