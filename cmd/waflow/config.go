package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// settings gives each configuration value a flag and a WAFLOW_* environment
// variable, and secrets a *_FILE variant of both. A flag set on the command
// line wins over the environment, which wins over the default.
//
// Declare settings before the flag set is parsed and call resolve after.
type settings struct {
	fs     *flag.FlagSet
	env    *Env
	values []*setting
	// shared marks the settings declared from now on as shared by several
	// commands: "waflow CMD -h" leaves them out and points to
	// "waflow help settings" instead, so a command's help shows its own
	// flags rather than every Graph and server setting.
	shared bool
}

// sharedFlag is the flag.Value of a shared setting; newFlagSet's usage
// recognises shared settings by this type.
type sharedFlag struct{ p *string }

func (f *sharedFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *sharedFlag) Set(v string) error { *f.p = v; return nil }

// stringVar declares a string flag, marked shared when s.shared is set.
func (s *settings) stringVar(p *string, name, usage string) {
	if s.shared {
		s.fs.Var(&sharedFlag{p}, name, usage)
		return
	}
	s.fs.StringVar(p, name, "", usage)
}

type setting struct {
	flagName string
	envName  string
	dst      *string
	secret   bool
	flagVal  string // -name
	fileVal  string // -name-file (secrets only)
}

func newSettings(fs *flag.FlagSet, env *Env) *settings {
	return &settings{fs: fs, env: env}
}

// String declares a plain setting: flag -flagName, variable envName.
func (s *settings) String(dst *string, flagName, envName, def, usage string) {
	st := &setting{flagName: flagName, envName: envName, dst: dst}
	*dst = def
	s.stringVar(&st.flagVal, flagName, fmt.Sprintf("%s (env %s; default %q)", usage, envName, def))
	if def == "" {
		s.fs.Lookup(flagName).Usage = fmt.Sprintf("%s (env %s)", usage, envName)
	}
	s.values = append(s.values, st)
}

// Secret declares a secret: flags -flagName and -flagName-file, variables
// envName and envName_FILE. A secret read from a file loses one trailing
// newline, so files written by editors and by "echo" work.
func (s *settings) Secret(dst *string, flagName, envName, usage string) {
	st := &setting{flagName: flagName, envName: envName, dst: dst, secret: true}
	s.stringVar(&st.flagVal, flagName, fmt.Sprintf("%s (env %s); prefer -%s-file, command lines are visible to other users", usage, envName, flagName))
	s.stringVar(&st.fileVal, flagName+"-file", fmt.Sprintf("file holding the %s (env %s_FILE)", flagName, envName))
	s.values = append(s.values, st)
}

// FlowsDir declares the flows folder setting, -flows-dir and
// WAFLOW_FLOWS_DIR, into env.flowsDir: every command that finds flows by
// name (describeFlows) or serves them declares it.
func (s *settings) FlowsDir() {
	s.String(&s.env.flowsDir, "flows-dir", "WAFLOW_FLOWS_DIR", "", "a folder of the business's own flows: NAME.json (Flow JSON) and NAME.waflow.json (its manifest) each; see docs/flows-folder.md")
}

// resolve fills every declared destination once the flags are parsed.
func (s *settings) resolve() error {
	set := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	for _, st := range s.values {
		if err := st.resolve(set, s.env.Getenv); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (st *setting) resolve(set map[string]bool, getenv func(string) string) error {
	switch {
	case set[st.flagName] && set[st.flagName+"-file"]:
		return fmt.Errorf("-%s and -%s-file are both set; use one", st.flagName, st.flagName)
	case set[st.flagName]:
		*st.dst = st.flagVal
		return nil
	case st.secret && set[st.flagName+"-file"]:
		return st.readFile(st.fileVal, "-"+st.flagName+"-file")
	}
	v := getenv(st.envName)
	if !st.secret {
		if v != "" {
			*st.dst = v
		}
		return nil
	}
	f := getenv(st.envName + "_FILE")
	switch {
	case v != "" && f != "":
		return fmt.Errorf("%s and %s_FILE are both set; use one", st.envName, st.envName)
	case v != "":
		*st.dst = v
	case f != "":
		return st.readFile(f, st.envName+"_FILE")
	}
	return nil
}

func (st *setting) readFile(path, from string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	*st.dst = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	return nil
}

// splitList splits a comma-separated setting, dropping empty items and the
// spaces around each one.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
