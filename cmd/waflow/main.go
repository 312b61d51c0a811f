// Command waflow runs a WhatsApp Flows backend: the encrypted data endpoint,
// the webhook receiver, a catalog of ready flows, a browser preview and a
// simulator, on an embedded SQLite database by default or on PostgreSQL.
//
// Run "waflow help" for the list of subcommands, and "waflow CMD -h" for the
// flags of one of them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Env is what a subcommand may touch of the process: its standard streams and
// its environment. Commands never call os.Getenv or os.Exit themselves, so
// tests can run them in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable; os.Getenv in production.
	Getenv func(string) string

	// flowsDir is the flows folder of the command's settings
	// (settings.FlowsDir), "" for none: describeFlows and serve add its
	// flows to the catalog's.
	flowsDir string
}

// Command is one subcommand of waflow.
type Command struct {
	Name    string // as typed after "waflow", e.g. "serve"
	Args    string // what follows the flags in the usage line, e.g. "FILE..."
	Summary string // one line for "waflow help"
	Help    string // paragraphs printed by "waflow CMD -h" above the flags
	// Setup registers the command's flags on fs and returns the function
	// that runs it once the flags are parsed. args are the positional
	// arguments left after the flags.
	Setup func(fs *flag.FlagSet, env *Env) func(ctx context.Context, args []string) error
}

// commands lists the subcommands in the order "waflow help" shows them.
func commands() []*Command {
	return []*Command{
		serveCommand(),
		keygenCommand(),
		validateCommand(),
		catalogCommand(),
		simulateCommand(),
		previewCommand(),
		flowsCommand(),
		sendCommand(),
		templatesCommand(),
		responsesCommand(),
		apikeysCommand(),
		bookingCommand(),
		consoleCommand(),
		eventsCommand(),
		keysCommand(),
		doctorCommand(),
		backupCommand(),
		restoreCommand(),
		versionCommand(),
		benchCommand(),
		healthcheckCommand(),
	}
}

// usageError is returned for a mistake in the command line; main prints it
// with a hint and exits with status 2.
type usageError struct {
	cmd string
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// Main runs waflow with args (without the program name) and returns the exit
// status: 0 on success, 1 when the command failed, 2 for a usage error.
func Main(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 {
		printHelp(env.Stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-version", "--version":
		name = "version"
		args = append([]string{"version"}, args[1:]...)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[1] == "settings" {
			printSettingsHelp(env)
			return 0
		}
		if len(args) > 1 {
			if c := findCommand(args[1]); c != nil {
				fs := newFlagSet(c, env)
				c.Setup(fs, env)
				fs.SetOutput(env.Stdout)
				fs.Usage()
				return 0
			}
		}
		printHelp(env.Stdout)
		return 0
	}
	c := findCommand(name)
	if c == nil {
		fmt.Fprintf(env.Stderr, "waflow: unknown command %q\nTry: waflow help\n", name)
		return 2
	}
	fs := newFlagSet(c, env)
	run := c.Setup(fs, env)
	positional, err := parseInterleaved(c.Name, fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(env.Stderr, "Try: waflow %s -h\n", c.Name)
		return 2
	}
	err = run(ctx, positional)
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.Stderr, "waflow %s: %s\nTry: waflow %s -h\n", c.Name, ue.msg, c.Name)
		return 2
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(env.Stderr, "waflow %s: %s\n", c.Name, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(env.Stderr, "waflow %s: %v\n", c.Name, err)
	return 1
}

// exitError ends a command with a chosen status, for commands such as
// validate whose failure is a finding rather than an error.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d: %s", e.code, e.msg) }

func findCommand(name string) *Command {
	for _, c := range commands() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func newFlagSet(c *Command, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet("waflow "+c.Name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: waflow %s [flags]", c.Name)
		if c.Args != "" {
			fmt.Fprintf(w, " %s", c.Args)
		}
		fmt.Fprintf(w, "\n\n%s\n", c.Summary)
		if c.Help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Help))
		}
		// Shared settings (declareCLI) are listed once, by "waflow help
		// settings", not in every command's help.
		own := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		own.SetOutput(w)
		shared := false
		fs.VisitAll(func(f *flag.Flag) {
			if _, ok := f.Value.(*sharedFlag); ok {
				shared = true
				return
			}
			own.Var(f.Value, f.Name, f.Usage)
		})
		hasFlags := false
		own.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(w, "\nFlags:\n")
			own.PrintDefaults()
		}
		if shared {
			fmt.Fprintf(w, "\nThe Graph API, database and key settings (access token, WABA and phone number ids,\npublic URL, data folder...) are shared by several commands: waflow help settings\n")
		}
	}
	return fs
}

// printSettingsHelp prints the settings the Graph commands share with
// serve: their flags and WAFLOW_* variables.
func printSettingsHelp(env *Env) {
	fs := flag.NewFlagSet("waflow", flag.ContinueOnError)
	fs.SetOutput(env.Stdout)
	var cfg appConfig
	cfg.declare(newSettings(fs, env))
	fmt.Fprintf(env.Stdout, "Settings shared by serve, flows, send and keys. Each is a flag and an\nenvironment variable; secrets also have a -NAME-file flag and a *_FILE variable.\nA flag on the command line wins over the environment.\n\n")
	fs.PrintDefaults()
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "waflow: a WhatsApp Flows backend.\n\nUsage: waflow COMMAND [flags] [args]\n\nCommands:\n")
	cs := commands()
	width := 0
	for _, c := range cs {
		width = max(width, len(c.Name))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun \"waflow COMMAND -h\" for the flags of a command, \"waflow help settings\" for the\nsettings the commands share (WAFLOW_* variables), \"waflow --version\" for the version.\n")
}

// parseInterleaved parses args with fs, letting flags follow positional
// arguments ("waflow simulate FLOW -url URL", "waflow send FLOW -to WA_ID"),
// and returns the positional ones. After "--" everything is positional.
func parseInterleaved(cmd string, fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef(cmd, "%v", err)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
