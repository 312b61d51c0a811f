package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/storage"
)

func bookingCommand() *Command {
	return &Command{
		Name:    "booking",
		Args:    "cancel REF",
		Summary: "cancel an appointment booking, so that its reminder is not sent",
		Help: `
waflow booking cancel BK-7F3K2Q marks the booking cancelled in the server's
database. Its reminder (docs/reminders.md) is then not sent, by any replica,
and the weekly digest leaves it out. A reminder already sent stays sent, and
the seat stays held. Cancelling a booking twice keeps the first cancellation
time.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			s := newSettings(fs, env)
			var dataDir, databaseURL string
			s.String(&dataDir, "data-dir", "WAFLOW_DATA_DIR", "./waflow-data", "data folder of the server, where its SQLite database is")
			s.Secret(&databaseURL, "database-url", "WAFLOW_DATABASE_URL", "the server's database (default DATA_DIR/waflow.db)")
			return func(ctx context.Context, args []string) error {
				if len(args) != 2 || args[0] != "cancel" || args[1] == "" {
					return usagef("booking", "want: waflow booking cancel REF")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				store, dbURL, err := openServerStore(ctx, dataDir, databaseURL)
				if err != nil {
					return err
				}
				defer store.Close()
				b, err := store.CancelBooking(ctx, args[1], time.Now())
				if errors.Is(err, waflow.ErrNotFound) {
					return fmt.Errorf("no booking %s in %s", args[1], storage.Describe(dbURL))
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s cancelled at %s (appointment %s UTC); no reminder will be sent for it\n",
					b.Ref, b.CancelledAt.Format(time.RFC3339), b.Start.Format("2006-01-02 15:04"))
				return nil
			}
		},
	}
}
