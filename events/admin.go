package events

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/waflow/waflow"
)

// ListStore is what List needs of the store.
type ListStore interface {
	Deliveries(ctx context.Context, f waflow.DeliveryFilter) ([]waflow.Delivery, error)
}

// ParseState parses a delivery state for "waflow events list -state":
// pending (which includes sending), delivered, dead, or "" for all.
func ParseState(s string) (waflow.DeliveryState, error) {
	switch st := waflow.DeliveryState(s); st {
	case "", waflow.DeliveryPending, waflow.DeliverySending, waflow.DeliveryDelivered, waflow.DeliveryDead:
		return st, nil
	}
	return "", fmt.Errorf("state %q: want pending, sending, delivered or dead", s)
}

// List writes the deliveries in state (all when empty; pending also lists
// sending ones) as a table, oldest first: id, state, type, target,
// attempts, the event id, when created, the last error. Payloads are not
// written.
func List(ctx context.Context, store ListStore, state waflow.DeliveryState, w io.Writer) (int, error) {
	states := []waflow.DeliveryState{state}
	if state == waflow.DeliveryPending {
		states = append(states, waflow.DeliverySending)
	}
	var all []waflow.Delivery
	for _, st := range states {
		for after := int64(0); ; {
			page, err := store.Deliveries(ctx, waflow.DeliveryFilter{State: st, AfterID: after, Limit: 500})
			if err != nil {
				return 0, err
			}
			all = append(all, page...)
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	sortByID(all)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tTYPE\tTARGET\tATTEMPTS\tWEBHOOK-ID\tCREATED\tLAST ERROR")
	for _, d := range all {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.State, d.Type, d.Target, d.Attempts, d.MsgID,
			d.CreatedAt.UTC().Format(time.RFC3339), oneLine(d.LastError))
	}
	return len(all), tw.Flush()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func sortByID(ds []waflow.Delivery) {
	slices.SortFunc(ds, func(a, b waflow.Delivery) int { return cmp.Compare(a.ID, b.ID) })
}
