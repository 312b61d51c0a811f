package catalog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/reminders"
)

// Expense Entry (P1): EXPENSE (amount, category, description) → SAVED. The
// endpoint checks the amount (positive, at most two decimals, at most the
// configured maximum), saves the expense once per session, and answers the
// confirmation screen with the saved entry.

func init() { builders["expense_entry"] = newExpense }

type expense struct {
	*env
	cfg ExpenseSettings
	max int64
}

func newExpense(e *env) (*registry.Flow, error) {
	src, spec, err := loadSpec("expense_entry")
	if err != nil {
		return nil, err
	}
	x := &expense{env: e, cfg: e.settings.ExpenseEntry}
	x.max, _ = parseAmount(x.cfg.MaxAmount) // checked by Settings.Validate
	f := endpoint.NewFlowFromJSON("expense_entry", spec)
	f.Use(checkValues(spec, map[string]screenData{
		"EXPENSE": func(context.Context, *endpoint.Request, map[string]any) (map[string]any, error) {
			return x.form("", "", "", nil), nil
		},
	}, nil, e.log))
	f.HandleInit(func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("EXPENSE", x.form("", "", "", nil)), nil
	})
	f.HandleDataExchange("EXPENSE", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return x.save(ctx, r)
	})
	return &registry.Flow{
		Name:     "expense_entry",
		Title:    "Expense Entry",
		Summary:  "log an expense: the endpoint checks the amount, saves it and shows the saved entry",
		Source:   src,
		Spec:     spec,
		Endpoint: f,
		Complete: x.complete,
		CheckCompletion: func(values map[string]any) error {
			if id, _ := values["expense_id"].(string); !strings.HasPrefix(id, "EX-") {
				return errors.New("expense_id is not an expense reference")
			}
			return nil
		},
	}, nil
}

// form is the EXPENSE screen's data, with what the user typed kept and the
// field errors bound to the fields' error-message.
func (x *expense) form(amount, category, description string, errs map[string]string) map[string]any {
	return map[string]any{
		"categories":        dataSource(x.cfg.Categories),
		"amount_label":      "Amount (" + x.cfg.Currency + ")",
		"amount_help":       "Up to 2 decimals, at most " + formatAmountShort(x.max),
		"amount":            amount,
		"category":          category,
		"description":       description,
		"amount_error":      errs["amount"],
		"category_error":    errs["category"],
		"description_error": errs["description"],
	}
}

// formatAmountShort renders cents without ".00" for whole amounts.
func formatAmountShort(cents int64) string {
	return strings.TrimSuffix(formatAmount(cents), ".00")
}

// amountError says what is wrong with a submitted amount (typed text or a
// JSON number, read by readAmount), in at most 30 characters (TextInput's
// error-message limit), or "" when it is acceptable.
func (x *expense) amountError(v any) (int64, string) {
	cents, err := readAmount(v)
	switch {
	case errors.Is(err, errAmountDecimals):
		return 0, "At most 2 decimals"
	case errors.Is(err, errAmountNegative):
		return 0, "Must be more than 0"
	case errors.Is(err, errAmountTooLarge):
		return 0, "At most " + formatAmountShort(x.max)
	case err != nil:
		return 0, "Enter an amount like 12.50"
	case cents <= 0:
		return 0, "Must be more than 0" // also -0: zero has no sign
	case cents > x.max:
		return 0, "At most " + formatAmountShort(x.max)
	}
	return cents, ""
}

func (x *expense) save(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	var in struct {
		Amount      any    `json:"amount"` // text or a JSON number: see readAmount
		Category    string `json:"category"`
		Description string `json:"description"`
	}
	if err := decodeData(r, &in); err != nil {
		return nil, err
	}
	cents, msg := x.amountError(in.Amount)
	if msg != "" {
		return endpoint.ErrorOn("EXPENSE", x.form(typedText(in.Amount), in.Category, in.Description, map[string]string{"amount": msg}), "Amount: "+msg), nil
	}
	ex, err := withRef("EX", func(id string) (catalogstore.Expense, error) {
		ex, _, err := x.store.SaveExpense(ctx, catalogstore.Expense{
			ID: id, TokenID: r.Token.ID, WAID: r.Token.WAID, AmountCents: cents, Currency: x.cfg.Currency,
			Category: in.Category, Description: strings.TrimSpace(in.Description), CreatedAt: x.now(),
		})
		return ex, err
	}, isRefTaken)
	if err != nil {
		return nil, err
	}
	// A replayed submission gets the expense its session saved.
	desc := ex.Description
	if desc == "" {
		desc = "No description"
	}
	budgetText, err := x.remaining(ctx, ex)
	if err != nil {
		return nil, err
	}
	return endpoint.Next("SAVED", map[string]any{
		"expense_id":     ex.ID,
		"amount_text":    ex.Currency + " " + formatAmount(ex.AmountCents),
		"category_title": optionTitle(x.cfg.Categories, ex.Category),
		"description":    desc,
		"budget_text":    budgetText,
		"has_budget":     budgetText != "",
	}), nil
}

// userLocation is the time zone of waID's Calendar Preferences, else the
// business's: budget periods start at midnight there.
func (e *env) userLocation(ctx context.Context, waID string) *time.Location {
	if p, err := e.store.Preferences(ctx, waID); err == nil {
		if loc, err := time.LoadLocation(p.TimeZone); err == nil {
			return loc
		}
	}
	return e.settings.Location()
}

// titles are the category titles of Expense Entry and Budget Setup, by id.
func (e *env) titles() map[string]string {
	t := map[string]string{}
	for _, list := range [][]Option{e.settings.BudgetSetup.Categories, e.settings.ExpenseEntry.Categories} {
		for _, o := range list {
			t[o.ID] = o.Title
		}
	}
	return t
}

// remaining is what is left of the user's budget for ex's category in the
// period of ex (package reminders), or "" when their budget does not limit
// that category or they have none.
func (x *expense) remaining(ctx context.Context, ex catalogstore.Expense) (string, error) {
	if ex.WAID == "" {
		return "", nil
	}
	s, ok, err := reminders.BudgetStatus(ctx, x.store, ex.WAID, ex.CreatedAt, x.userLocation(ctx, ex.WAID))
	if err != nil || !ok {
		return "", err
	}
	return reminders.Remaining(s, ex.Category, x.titles()), nil
}

// complete acts on the completion webhook: the expense was saved by the
// endpoint; the completion names it.
func (x *expense) complete(ctx context.Context, c registry.Completion) error {
	id, _ := c.Values["expense_id"].(string)
	list, err := x.store.ExpensesByUser(ctx, c.WAID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(e catalogstore.Expense) bool { return e.ID == id })
	if i < 0 {
		return waflow.Rejectf("expense_entry completion: expense_id names no expense of this user")
	}
	if x.deps.BudgetAlertsOff || c.WAID == "" {
		return nil // off, or no user to alert (nor whose budget to read)
	}
	// The completion is the user's message: their customer-service window
	// is open, so the alerts go as text. A retried completion enqueues
	// nothing more (each alert's key is taken).
	n, err := reminders.SendBudgetAlerts(ctx, x.store, c.WAID, c.MessageID, list[i].CreatedAt, x.userLocation(ctx, c.WAID), x.titles())
	if n > 0 && x.onEnqueue != nil {
		x.onEnqueue()
	}
	return err
}
