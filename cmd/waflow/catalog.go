package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

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
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FLOW\tTYPE\tSCREENS\tFIELDS\tENDPOINT")
	for _, f := range c.Flows() {
		kind, path := "static", "-"
		if f.UsesEndpoint() {
			kind, path = "endpoint", "POST /flows/"+f.Name
		}
		var fields []string
		for _, fd := range f.Fields() {
			fields = append(fields, fd.Name)
		}
		fmt.Fprintf(w, "%s\t%s\t%d (%s)\t%d (%s)\t%s\n", f.Name, kind, len(f.Spec.Screens), strings.Join(f.ScreenIDs(), " "), len(fields), strings.Join(fields, " "), path)
	}
	return w.Flush()
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
