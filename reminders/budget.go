package reminders

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/graph"
)

// TotalLine is the Line.Category of a budget's total.
const TotalLine = "total"

// Period returns the budget period ("weekly": Monday to Sunday, "monthly"
// and anything else: the calendar month) holding t in loc, as [from, to).
func Period(period string, t time.Time, loc *time.Location) (from, to time.Time) {
	l := t.In(loc)
	if period == "weekly" {
		back := (int(l.Weekday()) + 6) % 7 // days since Monday
		from = time.Date(l.Year(), l.Month(), l.Day()-back, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 0, 7)
	}
	from = time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 1, 0)
}

// Line is what one limit of a budget stands at in a period.
type Line struct {
	Category   string // a category id, or TotalLine
	SpentCents int64
	LimitCents int64
}

// Percent is the share of the limit spent, rounded down.
func (l Line) Percent() int64 {
	if l.LimitCents <= 0 {
		return 0
	}
	return l.SpentCents * 100 / l.LimitCents
}

// Status is a budget's standing in one period.
type Status struct {
	Budget   catalogstore.Budget
	From, To time.Time // the period, [From, To)
	Total    Line
	Lines    []Line // one per category with a limit, by category id
}

// Line returns the line of category, and whether the budget limits it.
func (s Status) Line(category string) (Line, bool) {
	i := slices.IndexFunc(s.Lines, func(l Line) bool { return l.Category == category })
	if i < 0 {
		return Line{}, false
	}
	return s.Lines[i], true
}

// Measure returns where budget b stands in the period holding at: the
// expenses in its currency whose CreatedAt falls in the period, by category
// and in total.
func Measure(b catalogstore.Budget, expenses []catalogstore.Expense, at time.Time, loc *time.Location) Status {
	from, to := Period(b.Period, at, loc)
	s := Status{Budget: b, From: from, To: to, Total: Line{Category: TotalLine, LimitCents: b.TotalCents}}
	spent := map[string]int64{}
	for _, e := range expenses {
		if e.Currency != b.Currency || e.CreatedAt.Before(from) || !e.CreatedAt.Before(to) {
			continue
		}
		spent[e.Category] += e.AmountCents
		s.Total.SpentCents += e.AmountCents
	}
	for _, c := range sortedKeys(b.Limits) {
		if b.Limits[c] > 0 {
			s.Lines = append(s.Lines, Line{Category: c, SpentCents: spent[c], LimitCents: b.Limits[c]})
		}
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Alert is one budget alert to send.
type Alert struct {
	Key       string // the outbox idempotency key: one per line, period and threshold
	Line      Line
	Threshold int // percent
	Text      string
}

// Alerts returns the alerts s owes: for each line that reached a threshold
// (the budget's alert threshold, and 100), one alert for the highest one
// reached. Its key names the budget, the line, the period and the
// threshold, so an alert is sent once per threshold crossing and period:
// expenses only add up, so a later expense in the period finds the key
// taken until the next threshold is reached, and the next period starts
// again from nothing. Titles maps category ids to what the user sees.
func Alerts(s Status, titles map[string]string) []Alert {
	if !s.Budget.Alerts {
		return nil
	}
	thresholds := []int{100}
	if t := s.Budget.AlertThreshold; t > 0 && t < 100 {
		thresholds = []int{t, 100}
	}
	var out []Alert
	for _, l := range append([]Line{s.Total}, s.Lines...) {
		reached := 0
		for _, t := range thresholds {
			if l.LimitCents > 0 && l.SpentCents*100 >= int64(t)*l.LimitCents {
				reached = t
			}
		}
		if reached == 0 {
			continue
		}
		out = append(out, Alert{
			Key:       fmt.Sprintf("budget:%s:%s:%s:%d", s.Budget.ID, l.Category, s.From.Format(time.DateOnly), reached),
			Line:      l,
			Threshold: reached,
			Text:      alertText(s, l, reached, titles),
		})
	}
	return out
}

func alertText(s Status, l Line, threshold int, titles map[string]string) string {
	what := "Your " + s.Budget.Period + " budget"
	if l.Category != TotalLine {
		what = "Your " + s.Budget.Period + " budget for " + title(titles, l.Category)
	}
	cur := s.Budget.Currency
	period := periodText(s.From, s.To)
	left := l.LimitCents - l.SpentCents
	if threshold >= 100 {
		return fmt.Sprintf("Budget alert: %s has reached its limit (%s). Spent %s of %s; %s over.",
			what, period, Money(cur, l.SpentCents), Money(cur, l.LimitCents), Money(cur, -left))
	}
	return fmt.Sprintf("Budget alert: %s has reached %d%% (%s). Spent %s of %s; %s left.",
		what, threshold, period, Money(cur, l.SpentCents), Money(cur, l.LimitCents), Money(cur, left))
}

// Remaining is the confirmation line of an expense in category: what is
// left of its limit this period, or "" when the budget does not limit it.
func Remaining(s Status, category string, titles map[string]string) string {
	l, ok := s.Line(category)
	if !ok {
		return ""
	}
	cur := s.Budget.Currency
	left := l.LimitCents - l.SpentCents
	if left < 0 {
		return fmt.Sprintf("%s budget: %s over the %s limit of %s (%s).", title(titles, category),
			Money(cur, -left), s.Budget.Period, Money(cur, l.LimitCents), periodText(s.From, s.To))
	}
	return fmt.Sprintf("%s budget: %s left of %s (%s).", title(titles, category),
		Money(cur, left), Money(cur, l.LimitCents), periodText(s.From, s.To))
}

// Money renders cents of currency as "EUR 12.50" (a minus sign for less
// than nothing).
func Money(currency string, cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s %s%d.%02d", currency, sign, cents/100, cents%100)
}

// periodText renders [from, to) as "1 Dec – 31 Dec 2026".
func periodText(from, to time.Time) string {
	last := to.AddDate(0, 0, -1)
	return from.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
}

func title(titles map[string]string, id string) string {
	if t := titles[id]; t != "" {
		return t
	}
	return id
}

// BudgetReader is what BudgetStatus reads.
type BudgetReader interface {
	BudgetsByUser(ctx context.Context, waID string) ([]catalogstore.Budget, error)
	ExpensesByUser(ctx context.Context, waID string) ([]catalogstore.Expense, error)
}

// BudgetStatus returns where waID's budget (the newest they set up) stands
// in the period holding at, and false when they have none.
func BudgetStatus(ctx context.Context, st BudgetReader, waID string, at time.Time, loc *time.Location) (Status, bool, error) {
	budgets, err := st.BudgetsByUser(ctx, waID)
	if err != nil || len(budgets) == 0 {
		return Status{}, false, err
	}
	expenses, err := st.ExpensesByUser(ctx, waID)
	if err != nil {
		return Status{}, false, err
	}
	return Measure(budgets[len(budgets)-1], expenses, at, loc), true, nil
}

// AlertStore is what SendBudgetAlerts reads and writes.
type AlertStore interface {
	BudgetReader
	Enqueue(ctx context.Context, m waflow.OutboxMessage) (waflow.OutboxMessage, bool, error)
}

// SendBudgetAlerts enqueues the budget alerts waID's expenses owe at now
// (Alerts), each once, as text messages quoting replyTo when it is not
// empty: it runs on an expense's completion, a message from the user, so
// their customer-service window is open. It returns how many it enqueued.
func SendBudgetAlerts(ctx context.Context, st AlertStore, waID, replyTo string, now time.Time, loc *time.Location, titles map[string]string) (int, error) {
	s, ok, err := BudgetStatus(ctx, st, waID, now, loc)
	if err != nil || !ok {
		return 0, err
	}
	n := 0
	for _, a := range Alerts(s, titles) {
		body, err := graph.EncodeMessage(&graph.TextMessage{To: waID, Body: a.Text, ReplyTo: replyTo})
		if err != nil {
			return n, err
		}
		_, created, err := st.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: a.Key, To: waID, Payload: body, CreatedAt: now})
		if err != nil {
			return n, fmt.Errorf("reminders: enqueueing a budget alert: %w", err)
		}
		if created {
			n++
		}
	}
	return n, nil
}
