package reminders

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/graph"
)

// clip cuts s to at most n characters, ending it with "…" when cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// digestLines is how many bookings or sessions a digest lists; it says how
// many more there are.
const digestLines = 10

// digestAt returns the latest digest time at or before now in loc.
func (s *Scheduler) digestAt(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	back := (int(l.Weekday()) - int(s.cfg.DigestDay) + 7) % 7
	d := time.Date(l.Year(), l.Month(), l.Day()-back, s.digestClock/60, s.digestClock%60, 0, 0, loc)
	if d.After(now) {
		d = d.AddDate(0, 0, -7)
	}
	return d
}

func (t *tick) digests(ctx context.Context, res *Result) error {
	cfg := t.s.cfg
	subs, err := cfg.Store.DigestSubscribers(ctx)
	if err != nil {
		return fmt.Errorf("reminders: reading digest subscribers: %w", err)
	}
	var errs []error
	for _, p := range subs {
		loc := location(&p, cfg.Location)
		at := t.s.digestAt(t.now, loc)
		if t.now.Sub(at) > cfg.DigestGrace {
			continue
		}
		key := "digest:" + p.WAID + ":" + at.Format(time.DateOnly)
		if _, err := cfg.Store.OutboxMessageByKey(ctx, key); err == nil {
			res.Already++
			continue
		}
		d, err := t.s.Digest(ctx, p.WAID, at, loc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, t.send(ctx, res, due{
			key: key, to: p.WAID, text: d.Text, template: cfg.DigestTemplate,
			params: []string{fmt.Sprint(len(d.Bookings)), fmt.Sprint(len(d.Sessions)), d.SpentText},
		}))
	}
	return errors.Join(errs...)
}

// DigestContent is one user's weekly digest.
type DigestContent struct {
	Bookings  []catalogstore.Booking // the coming week's, not cancelled
	Sessions  []catalogstore.Session // the coming week's
	SpentText string                 // last week's spending, such as "EUR 42.50"
	Text      string                 // the message
}

// Digest returns waID's digest for the week starting at at, in loc: the
// bookings and sessions of [at, at+7 days), and the expenses of the week
// before against their budget.
func (s *Scheduler) Digest(ctx context.Context, waID string, at time.Time, loc *time.Location) (DigestContent, error) {
	st := s.cfg.Store
	end := at.AddDate(0, 0, 7)
	var d DigestContent
	bookings, err := st.BookingsStarting(ctx, at, end)
	if err != nil {
		return d, err
	}
	for _, b := range bookings {
		if b.WAID == waID {
			d.Bookings = append(d.Bookings, b)
		}
	}
	sessions, err := st.SessionsStarting(ctx, at, end)
	if err != nil {
		return d, err
	}
	for _, o := range sessions {
		if o.WAID == waID {
			d.Sessions = append(d.Sessions, o)
		}
	}
	expenses, err := st.ExpensesByUser(ctx, waID)
	if err != nil {
		return d, err
	}
	budgets, err := st.BudgetsByUser(ctx, waID)
	if err != nil {
		return d, err
	}

	var w strings.Builder
	fmt.Fprintf(&w, "Your week from %s to %s\n", at.In(loc).Format("Mon 2 Jan"), end.AddDate(0, 0, -1).In(loc).Format("Mon 2 Jan 2006"))
	fmt.Fprintf(&w, "\nAppointments (%d):\n", len(d.Bookings))
	for i, b := range d.Bookings {
		if i == digestLines {
			fmt.Fprintf(&w, "…and %d more\n", len(d.Bookings)-i)
			break
		}
		fmt.Fprintf(&w, "• %s, ref %s\n", b.Start.In(loc).Format("Mon 2 Jan 15:04"), b.Ref)
	}
	if len(d.Bookings) == 0 {
		w.WriteString("• none\n")
	}
	fmt.Fprintf(&w, "\nSessions (%d):\n", len(d.Sessions))
	for i, o := range d.Sessions {
		if i == digestLines {
			fmt.Fprintf(&w, "…and %d more\n", len(d.Sessions)-i)
			break
		}
		fmt.Fprintf(&w, "• %s–%s %s\n", o.Start.In(loc).Format("Mon 2 Jan 15:04"), o.End.In(loc).Format("15:04"), o.Title)
	}
	if len(d.Sessions) == 0 {
		w.WriteString("• none\n")
	}

	// Last week: [at-7 days, at), by currency and category.
	from := at.AddDate(0, 0, -7)
	spent := map[string]map[string]int64{} // currency -> category -> cents
	for _, e := range expenses {
		if e.CreatedAt.Before(from) || !e.CreatedAt.Before(at) {
			continue
		}
		if spent[e.Currency] == nil {
			spent[e.Currency] = map[string]int64{}
		}
		spent[e.Currency][e.Category] += e.AmountCents
	}
	fmt.Fprintf(&w, "\nSpent from %s to %s:\n", from.In(loc).Format("Mon 2 Jan"), at.AddDate(0, 0, -1).In(loc).Format("Mon 2 Jan"))
	var totals []string
	for _, cur := range sortedKeys(spent) {
		var total int64
		for _, c := range sortedKeys(spent[cur]) {
			total += spent[cur][c]
			fmt.Fprintf(&w, "• %s: %s\n", title(s.cfg.Titles, c), Money(cur, spent[cur][c]))
		}
		totals = append(totals, Money(cur, total))
	}
	if len(totals) == 0 {
		w.WriteString("• nothing\n")
		d.SpentText = "nothing"
	} else {
		d.SpentText = strings.Join(totals, " + ")
		fmt.Fprintf(&w, "Total: %s\n", d.SpentText)
	}
	if len(budgets) > 0 {
		// Where the budget stands in its period at the digest time: the
		// expenses before it, whenever the digest is made.
		var before []catalogstore.Expense
		for _, e := range expenses {
			if e.CreatedAt.Before(at) {
				before = append(before, e)
			}
		}
		// The period is the one last week ended in.
		st := Measure(budgets[len(budgets)-1], before, at.Add(-time.Microsecond), loc)
		cur := st.Budget.Currency
		fmt.Fprintf(&w, "\nBudget, %s (%s):\n", st.Budget.Period, periodText(st.From, st.To))
		for _, l := range append(st.Lines, st.Total) {
			name := "Total"
			if l.Category != TotalLine {
				name = title(s.cfg.Titles, l.Category)
			}
			fmt.Fprintf(&w, "• %s: %s of %s (%d%%)\n", name, Money(cur, l.SpentCents), Money(cur, l.LimitCents), l.Percent())
		}
	}
	d.Text = clip(strings.TrimRight(w.String(), "\n"), graph.MaxTextBodyLen)
	return d, nil
}
