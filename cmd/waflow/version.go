package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; when
// empty, the module version or VCS revision from the build info is used.
var version string

func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}

func versionCommand() *Command {
	return &Command{
		Name:    "version",
		Summary: "print the version, the Go version and the RSA backend",
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("version", "takes no arguments")
				}
				fmt.Fprintf(env.Stdout, "waflow %s %s %s/%s rsa=%s\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH, rsaBackend())
				return nil
			}
		},
	}
}
