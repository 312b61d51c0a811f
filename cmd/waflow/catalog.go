package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/waflow/waflow/catalog"
)

func catalogCommand() *Command {
	return &Command{
		Name:    "catalog",
		Args:    "[export DIR | settings]",
		Summary: "list the ready-made flows, export their Flow JSON, print the default settings",
		Help: `
With no argument, lists the catalog's flows: name, type (endpoint or static),
screens, fields and the data-endpoint path each one is served at by serve.

  waflow catalog export DIR   writes DIR/{name}.json, the Flow JSON to upload to Meta
  waflow catalog settings     prints the default settings file, every key documented
                              in the README; copy it, change it, and point
                              WAFLOW_CATALOG_SETTINGS (or -catalog-settings) at it`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var settingsPath string
			s := newSettings(fs, env)
			s.String(&settingsPath, "catalog-settings", "WAFLOW_CATALOG_SETTINGS", "", "the catalog settings file (JSON; keys it has replace the defaults)")
			return func(ctx context.Context, args []string) error {
				if err := s.resolve(); err != nil {
					return err
				}
				switch {
				case len(args) == 0:
					return listCatalog(env, settingsPath)
				case args[0] == "export" && len(args) == 2:
					return exportCatalog(env, args[1])
				case args[0] == "export":
					return usagef("catalog", "export takes one folder: waflow catalog export DIR")
				case args[0] == "settings" && len(args) == 1:
					_, err := env.Stdout.Write(catalog.DefaultSettingsJSON())
					return err
				}
				return usagef("catalog", "unknown argument %q (want export DIR or settings)", args[0])
			}
		},
	}
}

// loadCatalogSettings reads the settings file, or the defaults when path is
// empty.
func loadCatalogSettings(path string) (*catalog.Settings, error) {
	if path == "" {
		return catalog.DefaultSettings()
	}
	return catalog.LoadSettings(path)
}

func listCatalog(env *Env, settingsPath string) error {
	settings, err := loadCatalogSettings(settingsPath)
	if err != nil {
		return err
	}
	c, err := catalog.Describe(settings)
	if err != nil {
		return err
	}
	// An 80-column terminal holds the table only with counts: the screens
	// and fields follow it, wrapped, one block per flow.
	nameWidth := len("FLOW")
	for _, f := range c.Flows() {
		nameWidth = max(nameWidth, len(f.Name))
	}
	fmt.Fprintf(env.Stdout, "%-*s  %-8s  %7s  %6s  %s\n", nameWidth, "FLOW", "TYPE", "SCREENS", "FIELDS", "ENDPOINT (POST)")
	for _, f := range c.Flows() {
		kind, path := "static", "-"
		if f.UsesEndpoint() {
			kind, path = "endpoint", "/flows/"+f.Name
		}
		fmt.Fprintf(env.Stdout, "%-*s  %-8s  %7d  %6d  %s\n", nameWidth, f.Name, kind, len(f.Spec.Screens), len(f.Fields()), path)
	}
	for _, f := range c.Flows() {
		var fields []string
		for _, fd := range f.Fields() {
			fields = append(fields, fd.Name)
		}
		fmt.Fprintf(env.Stdout, "\n%s\n", f.Name)
		fmt.Fprint(env.Stdout, wrapWords("  screens  ", f.ScreenIDs(), catalogWidth))
		fmt.Fprint(env.Stdout, wrapWords("  fields   ", fields, catalogWidth))
	}
	return nil
}

// catalogWidth is the terminal width the catalog listing fits.
const catalogWidth = 80

// wrapWords writes prefix and words, wrapped at width columns, the
// continuation lines indented as far as prefix.
func wrapWords(prefix string, words []string, width int) string {
	var b strings.Builder
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	n := 0
	for _, wd := range words {
		if n > 0 && len(line)+1+len(wd) > width {
			b.WriteString(line + "\n")
			line, n = indent, 0
		}
		if n > 0 {
			line += " "
		}
		line += wd
		n++
	}
	b.WriteString(line + "\n")
	return b.String()
}

func exportCatalog(env *Env, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range catalog.Names {
		src, err := catalog.Source(name)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, path)
	}
	return nil
}
