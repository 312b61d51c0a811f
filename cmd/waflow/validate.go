package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/waflow/waflow/flowjson"
)

func validateCommand() *Command {
	return &Command{
		Name:    "validate",
		Args:    "FILE...",
		Summary: "check Flow JSON files as Meta's Flow Builder does, offline",
		Help: `
Checks each Flow JSON file (versions 2.1 to 7.3; "-" reads standard input) and
prints every problem as

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
					return usagef("validate", "no Flow JSON file given")
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
	unreadable := 0
	for _, name := range files {
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
	msg := fmt.Sprintf("%s, %s in %s", count(report.Errors, "error"), count(report.Warnings, "warning"), count(len(files), "file"))
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
