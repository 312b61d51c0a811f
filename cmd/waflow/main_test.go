package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/waflow/waflow/keys"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run "waflow" as a command in scripts, in this
// test binary.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"waflow": func() {
			// As main does: an interrupt ("kill -INT" in a script) stops
			// serve gracefully.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := Main(ctx, os.Args[1:], &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs cmd/waflow/testdata/script/*.txtar: the commands as a
// user types them.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: scriptCmds,
	})
}

// scriptCmds are the script commands beyond testscript's own.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// perm MODE FILE: the file's permission bits are MODE (octal).
	"perm": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: perm MODE FILE")
		}
		want, err := strconv.ParseUint(args[0], 8, 32)
		ts.Check(err)
		fi, err := os.Stat(ts.MkAbs(args[1]))
		ts.Check(err)
		if got := uint64(fi.Mode().Perm()); (got == want) == neg {
			ts.Fatalf("%s has mode %#o, want %s%#o", args[1], got, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	},
	// openkey KEYFILE PASSFILE: the private key opens with the passphrase.
	"openkey": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: openkey KEYFILE PASSFILE")
		}
		pass := strings.TrimSpace(ts.ReadFile(args[1]))
		_, err := keys.ParsePrivateKey([]byte(ts.ReadFile(args[0])), []byte(pass))
		if (err == nil) == neg {
			ts.Fatalf("openkey %s: %v", args[0], fmt.Sprint(err))
		}
	},
}
