package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/console"
	"github.com/waflow/waflow/console/consolestore"
	"github.com/waflow/waflow/internal/app"
)

func consoleCommand() *Command {
	return &Command{
		Name:    "console",
		Args:    "users add -name NAME [-reset]",
		Summary: "manage the accounts of the browser console (/console/)",
		Help: `
"waflow console users add -name NAME" adds an account to the browser console
that "waflow serve" shows at /console/ (docs/console.md). The password is
read from standard input: the first line (pipe it in), or typed at the
prompt. It needs at least 12 characters and is stored as an argon2id hash.
With -reset an existing account's password is replaced and its sessions end.
A production server shows the console only once an account exists.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			declareCLI(&cfg, s)
			name := fs.String("name", "", "the account's name")
			reset := fs.Bool("reset", false, "replace the password of an existing account")
			return func(ctx context.Context, args []string) error {
				// Flags may follow "users add".
				if len(args) >= 2 && args[0] == "users" && args[1] == "add" {
					if err := fs.Parse(args[2:]); err != nil {
						return usagef("console", "%v", err)
					}
					args = append(args[:2:2], fs.Args()...)
				}
				if len(args) != 2 || args[0] != "users" || args[1] != "add" {
					return usagef("console", "want: waflow console users add -name NAME")
				}
				if *name == "" {
					return usagef("console", "-name is required: the account's name")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				password, err := readPassword(env)
				if err != nil {
					return err
				}
				hash, err := console.HashPassword(password)
				if err != nil {
					return err
				}
				store, err := cfg.openStore(ctx, slog.New(slog.DiscardHandler))
				if err != nil {
					return err
				}
				defer store.Close()
				if *reset {
					err = store.SetPassword(ctx, *name, hash)
					if errors.Is(err, waflow.ErrNotFound) {
						return fmt.Errorf("no console account is named %q: add it without -reset", *name)
					}
				} else {
					err = store.AddUser(ctx, consolestore.User{Name: *name, PasswordHash: hash})
					if errors.Is(err, waflow.ErrConflict) {
						return fmt.Errorf("the console account %q exists: use -reset to replace its password", *name)
					}
				}
				if err != nil {
					return err
				}
				verb := "added"
				if *reset {
					verb = "password replaced for"
				}
				fmt.Fprintf(env.Stdout, "console account %s %q; sign in at /console/\n", verb, *name)
				return nil
			}
		},
	}
}

// readPassword reads the first line of standard input, prompting on the
// terminal when stdin is one.
func readPassword(env *Env) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(env.Stderr, "Password (at least 12 characters; it is shown as you type, pipe it in to avoid that): ")
		}
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}

// consoleConfig is the console of "waflow serve": on in development mode;
// in production unless turned off, and shown only once an account exists.
func consoleConfig(setting string, dev bool) (*app.ConsoleConfig, error) {
	switch setting {
	case "auto", "":
		return &app.ConsoleConfig{RequireAccount: !dev}, nil
	case "true":
		return &app.ConsoleConfig{RequireAccount: !dev}, nil
	case "false":
		return nil, nil
	}
	return nil, fmt.Errorf("console %q: want true, false or auto", setting)
}
