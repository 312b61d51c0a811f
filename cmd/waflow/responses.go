package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/responses"
)

func responsesCommand() *Command {
	return &Command{
		Name:    "responses",
		Args:    "FLOW | -unattributed",
		Summary: "list or export one flow's responses as CSV, JSON Lines or JSON",
		Help: `
Writes every response (completion) of FLOW that the server's database keeps,
oldest first, to standard output or to -o FILE: the ones waflow handled, and
those it rejected or whose handler failed, with their status. -since and
-until (RFC 3339, or a date: midnight UTC) select the time the webhook
arrived: since <= received_at < until. The responses are read and written
one at a time, so any number of them fits in constant memory.

FLOW is a catalog flow, a flow's Flow JSON file (NAME.json: a folder flow), or
any other flow name. -unattributed exports instead the completions waflow
could not tie to a flow (a flow message sent by another system).

-format csv (the default) writes one row per response and these columns:
received_at, message_id, wa_id (the user's phone number), user_id (their
business-scoped user id, when Meta sent it), status (recorded, handled,
failed or rejected); then the fields of the flow's completion payload, in the
order its Flow JSON writes them (for a flow that completes through its data
endpoint, and for an unknown flow, the keys the responses hold, first seen
first); then extra, the response's other keys as a JSON object. A cell that a
spreadsheet would take as a formula (starting with = + - @, a tab or a
carriage return) gets a leading apostrophe.

-format jsonl writes one JSON object per line, -format json one JSON array:
message_id, flow, token_id, wa_id, user_id, context_id, status, result,
received_at, completed_at, handled_at and response. The flow token itself is
never written.

The responses hold what users typed: a file written with -o is readable by its
owner only.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			s := newSettings(fs, env)
			var dataDir, databaseURL string
			s.String(&dataDir, "data-dir", "WAFLOW_DATA_DIR", "./waflow-data", "data folder of the server, where its SQLite database is")
			s.Secret(&databaseURL, "database-url", "WAFLOW_DATABASE_URL", "the server's database (default DATA_DIR/waflow.db)")
			s.FlowsDir()
			since := fs.String("since", "", "only responses received at or after this time (RFC 3339, or YYYY-MM-DD)")
			until := fs.String("until", "", "only responses received before this time (RFC 3339, or YYYY-MM-DD)")
			format := fs.String("format", "csv", "csv, jsonl or json")
			out := fs.String("o", "", "write to this file instead of standard output")
			unattributed := fs.Bool("unattributed", false, "export the completions waflow could not tie to a flow")
			return func(ctx context.Context, args []string) error {
				var r waflow.CompletionRange
				switch {
				case *unattributed && len(args) == 0:
				case !*unattributed && len(args) == 1:
					r.Flow = args[0]
				default:
					return usagef("responses", "want one flow, or -unattributed: waflow responses FLOW")
				}
				f, err := responses.ParseFormat(*format)
				if err != nil {
					return usagef("responses", "-format %s: want csv, jsonl or json", *format)
				}
				for _, b := range []struct {
					flag, val string
					dst       *time.Time
				}{{"since", *since, &r.Since}, {"until", *until, &r.Until}} {
					if b.val == "" {
						continue
					}
					if *b.dst, err = responses.ParseTime(b.val); err != nil {
						return usagef("responses", "-%s %s: want RFC 3339 (2026-12-03T10:00:00Z) or a date (2026-12-03)", b.flag, b.val)
					}
				}
				if err := r.Validate(); err != nil {
					return usagef("responses", "-until must be after -since")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				var spec *flowjson.Flow
				if r.Flow != "" {
					if r.Flow, spec, err = responsesFlow(env, r.Flow); err != nil {
						return err
					}
				}
				store, _, err := openServerStore(ctx, dataDir, databaseURL)
				if err != nil {
					return err
				}
				defer store.Close()
				return exportResponses(ctx, env, store, r, f, spec, *out)
			}
		},
	}
}

// responsesFlow resolves the FLOW argument: a registered flow (its Flow
// JSON), a Flow JSON file, or another name (no Flow JSON).
func responsesFlow(env *Env, arg string) (name string, spec *flowjson.Flow, err error) {
	if strings.HasSuffix(arg, ".json") || strings.ContainsRune(arg, '/') || strings.ContainsRune(arg, os.PathSeparator) {
		b, err := os.ReadFile(arg)
		if err != nil {
			return "", nil, err
		}
		spec, err := flowjson.Parse(b)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", arg, err)
		}
		return strings.TrimSuffix(filepath.Base(arg), ".json"), spec, nil
	}
	flows, err := describeFlows(env)
	if err != nil {
		return "", nil, err
	}
	if f := flows.Flow(arg); f != nil {
		return arg, f.Spec, nil
	}
	return arg, nil, nil
}

// exportResponses writes r's completions in format f to out (a file, written
// whole or not at all) or to standard output.
func exportResponses(ctx context.Context, env *Env, store waflow.CompletionStore, r waflow.CompletionRange, f responses.Format, spec *flowjson.Flow, out string) (err error) {
	var fields []string
	if spec != nil {
		fields = responses.Fields(spec)
	}
	if f == responses.CSV && len(fields) == 0 {
		// No payload declared: the columns are the keys the responses
		// hold, which takes a first pass over them.
		if fields, err = responses.DiscoverFields(store.EachCompletion(ctx, r)); err != nil {
			return err
		}
	}
	var w io.Writer = env.Stdout
	if out != "" {
		tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
		if err != nil {
			return err
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		if err := tmp.Chmod(0o600); err != nil {
			return err
		}
		w = tmp
		defer func() {
			if err == nil {
				err = tmp.Close()
			}
			if err == nil {
				err = os.Rename(tmp.Name(), out)
			}
		}()
	}
	n, err := responses.Export(w, f, fields, store.EachCompletion(ctx, r))
	if err != nil {
		return err
	}
	what := "flow " + r.Flow
	if r.Flow == "" {
		what = "no flow (unattributed)"
	}
	dest := "standard output"
	if out != "" {
		dest = out
	}
	fmt.Fprintf(env.Stderr, "%d response(s) of %s written to %s\n", n, what, dest)
	return nil
}

// openServerStore opens the database of a server for a command that reads
// or changes it (responses, events, booking): databaseURL, else
// DATA_DIR/waflow.db, which must exist (a command never creates an empty
// database by mistake). It returns the URL it opened, for messages.
func openServerStore(ctx context.Context, dataDir, databaseURL string) (storage.Store, string, error) {
	dbURL := databaseURL
	if dbURL == "" {
		dbURL = filepath.Join(dataDir, "waflow.db")
		if _, err := os.Stat(dbURL); err != nil {
			return nil, dbURL, fmt.Errorf("no database at %s: set -data-dir or -database-url to the server's", dbURL)
		}
	}
	store, err := storage.Open(ctx, dbURL, storage.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, dbURL, fmt.Errorf("opening %s: %w", storage.Describe(dbURL), err)
	}
	return store, dbURL, nil
}
