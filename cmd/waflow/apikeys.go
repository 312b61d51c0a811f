package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/api"
	"github.com/waflow/waflow/internal/app"
	"github.com/waflow/waflow/internal/storage"
)

func apikeysCommand() *Command {
	return &Command{
		Name:    "apikeys",
		Args:    "create -name NAME -scope SCOPES | list | revoke NAME|ID",
		Summary: "make, list and revoke the keys of the HTTP API (/api/v1)",
		Help: `
The HTTP API that serve answers at /api/v1/ (see docs/api.md) takes only
requests that carry a key: Authorization: Bearer wfk_<id>_<secret>.

  waflow apikeys create -name NAME -scope read[,send]
        makes a key and prints it, once, on standard output: only a hash of
        its secret is kept, so it cannot be shown again. Scopes: read (list
        flows, read responses) and send (send flow messages). NAME is unique
        among the keys that are not revoked.
  waflow apikeys list
        lists the keys: id, name, scopes, when made, when last used (to
        about a minute), revoked or not. Never the keys themselves.
  waflow apikeys revoke NAME|ID
        revokes a key at once, on every replica: its next request is 401.

The keys live in the server's database (-data-dir or -database-url, as
serve).`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			s := newSettings(fs, env)
			var dataDir, databaseURL string
			s.String(&dataDir, "data-dir", "WAFLOW_DATA_DIR", "./waflow-data", "data folder of the server, where its SQLite database is")
			s.Secret(&databaseURL, "database-url", "WAFLOW_DATABASE_URL", "the server's database (default DATA_DIR/waflow.db)")
			name := fs.String("name", "", "create: the key's name, such as crm or reporting")
			scope := fs.String("scope", "", "create: read, send or admin, or several (read,send)")
			return func(ctx context.Context, args []string) error {
				rest, err := parseInterleaved("apikeys", fs, args)
				if errors.Is(err, flag.ErrHelp) {
					return nil
				} else if err != nil {
					return err
				}
				if len(rest) == 0 {
					return usagef("apikeys", "want create, list or revoke")
				}
				var scopes []api.Scope
				switch {
				case rest[0] == "create" && len(rest) == 1:
					if *name == "" || *scope == "" {
						return usagef("apikeys", "create needs -name and -scope: waflow apikeys create -name crm -scope read,send")
					}
					if scopes, err = api.ParseScopes(*scope); err != nil {
						return usagef("apikeys", "-scope %s: want read, send or admin, or several (read,send)", *scope)
					}
				case rest[0] == "list" && len(rest) == 1:
				case rest[0] == "revoke" && len(rest) == 2:
				case rest[0] == "revoke":
					return usagef("apikeys", "revoke takes one key, by name or id: waflow apikeys revoke crm")
				default:
					return usagef("apikeys", "want create, list or revoke")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				dbURL := databaseURL
				if dbURL == "" {
					dbURL = filepath.Join(dataDir, "waflow.db")
					if _, err := os.Stat(dbURL); err != nil && rest[0] != "create" {
						return fmt.Errorf("no database at %s: set -data-dir or -database-url to the server's", dbURL)
					}
					// A key may be made before the server's first start.
					if err := os.MkdirAll(dataDir, 0o700); err != nil {
						return err
					}
				}
				store, err := storage.Open(ctx, dbURL, storage.Options{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					return fmt.Errorf("opening %s: %w", storage.Describe(dbURL), err)
				}
				defer store.Close()
				switch rest[0] {
				case "create":
					text, k, err := api.CreateKey(ctx, store, *name, scopes)
					if err != nil {
						return err
					}
					fmt.Fprintln(env.Stdout, text)
					fmt.Fprintf(env.Stderr, "API key %s (id %s, scopes %s) made. It is shown once: store it now.\n", k.Name, k.ID, strings.Join(k.Scopes, ","))
					return nil
				case "list":
					keys, err := store.APIKeys(ctx)
					if err != nil {
						return err
					}
					return writeAPIKeys(env, keys)
				default:
					k, err := api.RevokeKey(ctx, store, rest[1], time.Now())
					if err != nil {
						return err
					}
					fmt.Fprintf(env.Stderr, "API key %s (id %s) revoked at %s.\n", k.Name, k.ID, k.RevokedAt.UTC().Format(time.RFC3339))
					return nil
				}
			}
		},
	}
}

func writeAPIKeys(env *Env, keys []waflow.APIKey) error {
	if len(keys) == 0 {
		fmt.Fprintln(env.Stderr, "no API keys: make one with waflow apikeys create -name NAME -scope read")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tLAST USED\tSTATE")
	at := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		state := "valid"
		if k.Revoked() {
			state = "revoked " + at(k.RevokedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), at(k.CreatedAt), at(k.LastUsedAt), state)
	}
	return tw.Flush()
}

// apiSettings are serve's settings of the HTTP API.
type apiSettings struct {
	on, rate, burst string
}

func (c *apiSettings) declare(s *settings) {
	s.String(&c.on, "api", "WAFLOW_API", "true", "serve the HTTP API at /api/v1/ (true or false); it answers only API keys (waflow apikeys create)")
	s.String(&c.rate, "api-rate", "WAFLOW_API_RATE", strconv.Itoa(api.DefaultRate), "requests a second each API key may make, over time, per replica")
	s.String(&c.burst, "api-burst", "WAFLOW_API_BURST", strconv.Itoa(api.DefaultBurst), "requests each API key may make at once, per replica")
}

func (c *apiSettings) appConfig() (app.APIConfig, error) {
	on, err := strconv.ParseBool(c.on)
	if err != nil {
		return app.APIConfig{}, fmt.Errorf("WAFLOW_API %q: want true or false", c.on)
	}
	rate, err := strconv.ParseFloat(c.rate, 64)
	if err != nil || !(rate > 0 && rate <= 1e6) {
		return app.APIConfig{}, fmt.Errorf("WAFLOW_API_RATE %q: want a number of requests a second, such as 10", c.rate)
	}
	burst, err := strconv.Atoi(c.burst)
	if err != nil || burst < 1 || burst > 1e6 {
		return app.APIConfig{}, fmt.Errorf("WAFLOW_API_BURST %q: want a whole number of requests, such as 20", c.burst)
	}
	return app.APIConfig{Off: !on, Rate: rate, Burst: burst}, nil
}
