package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waflow/waflow/internal/testkeys"
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
		Setup: func(env *testscript.Env) error {
			// Under -race each waflow the scripts run is this test binary,
			// which sleeps a second before exiting (the detector's
			// atexit_sleep_ms) unless told otherwise: 136 runs, over a
			// minute of the package's time. 50 ms still lets a goroutine
			// racing at exit be caught; a race is reported (exit code 66)
			// as before.
			if os.Getenv("GORACE") == "" {
				env.Setenv("GORACE", "atexit_sleep_ms=50")
			} else {
				env.Setenv("GORACE", os.Getenv("GORACE"))
			}
			return nil
		},
	})
}

// scriptCmds are the script commands beyond testscript's own.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// devkeys DIR: puts a committed test key pair (internal/testkeys) where
	// waflow serve with -data-dir DIR keeps its development key pair, so
	// that its first start reads it instead of generating one (30 to 250 ms
	// of CPU each time). The secrets are still made on first use.
	"devkeys": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: devkeys DIR")
		}
		if _, err := testkeys.Development(ts.MkAbs(args[0])); err != nil {
			ts.Fatalf("devkeys: %v", err)
		}
	},
	// eventually TIMEOUT REGEXP PROGRAM ARGS...: runs the program again,
	// every 100 ms, until it succeeds with a standard output matching
	// REGEXP, for what a server does in the background (the webhook
	// worker); fails after TIMEOUT.
	"eventually": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 3 {
			ts.Fatalf("usage: eventually TIMEOUT REGEXP PROGRAM ARGS...")
		}
		within, err := time.ParseDuration(args[0])
		ts.Check(err)
		re, err := regexp.Compile(args[1])
		ts.Check(err)
		for deadline := time.Now().Add(within); ; time.Sleep(100 * time.Millisecond) {
			err := ts.Exec(args[2], args[3:]...)
			if err == nil && re.MatchString(ts.ReadFile("stdout")) {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("%s: no output matching %q within %s (last error: %v)", strings.Join(args[2:], " "), args[1], within, err)
			}
		}
	},
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
