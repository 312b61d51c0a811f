package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/events"
)

func eventsCommand() *Command {
	return &Command{
		Name:    "events",
		Args:    "list [-state pending|delivered|dead] | redeliver ID",
		Summary: "list the events and relayed webhooks waflow delivers, or deliver one again",
		Help: `
waflow events list writes the deliveries the server's database keeps, oldest
first: one per event and subscription, and one per relayed webhook, with its
state (pending, sending, delivered, dead), type, target (a subscription id,
or "relay"), attempts, webhook-id and last error. -state selects one state
(pending includes those being sent). Payloads are never written.

waflow events redeliver ID makes delivery ID (a delivered or dead one)
pending again, due at once, with the same webhook-id and a fresh retry
schedule; a running server sends it within its poll interval. See
docs/events.md.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			s := newSettings(fs, env)
			var dataDir, databaseURL string
			s.String(&dataDir, "data-dir", "WAFLOW_DATA_DIR", "./waflow-data", "data folder of the server, where its SQLite database is")
			s.Secret(&databaseURL, "database-url", "WAFLOW_DATABASE_URL", "the server's database (default DATA_DIR/waflow.db)")
			state := fs.String("state", "", "list: only deliveries in this state: pending, delivered or dead")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 || (args[0] != "list" && args[0] != "redeliver") {
					return usagef("events", "want list or redeliver ID")
				}
				// Flags may follow the subcommand: waflow events list -state dead.
				if err := fs.Parse(args[1:]); err != nil {
					return usagef("events", "%v", err)
				}
				rest := fs.Args()
				st, err := events.ParseState(*state)
				if err != nil {
					return usagef("events", "-state: %v", err)
				}
				var id int64
				switch args[0] {
				case "list":
					if len(rest) != 0 {
						return usagef("events", "list takes no arguments")
					}
				case "redeliver":
					if len(rest) != 1 {
						return usagef("events", "want one delivery id: waflow events redeliver ID")
					}
					if id, err = strconv.ParseInt(rest[0], 10, 64); err != nil || id <= 0 {
						return usagef("events", "delivery id %q: want the number waflow events list shows", rest[0])
					}
				}
				if err := s.resolve(); err != nil {
					return err
				}
				store, _, err := openServerStore(ctx, dataDir, databaseURL)
				if err != nil {
					return err
				}
				defer store.Close()
				if args[0] == "list" {
					_, err := events.List(ctx, store, st, env.Stdout)
					return err
				}
				switch err := store.Redeliver(ctx, id); {
				case errors.Is(err, waflow.ErrNotFound):
					return fmt.Errorf("no delivery %d: see waflow events list", id)
				case errors.Is(err, waflow.ErrConflict):
					return fmt.Errorf("delivery %d is still pending: it is being delivered", id)
				case err != nil:
					return err
				}
				fmt.Fprintf(env.Stdout, "delivery %d is pending again\n", id)
				return nil
			}
		},
	}
}
