package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/registry"
)

// Budget Setup (P3): BUDGET (categories, currency, period, total limit) →
// LIMITS (a limit for each chosen category; the screen has budgetSlots
// fields whose labels and visibility come from the endpoint) → ALERTS
// (alert threshold, opt-in) and the budget saved when ALERTS is submitted.
// Limits must be positive and may not add up to more than the total; a
// violation comes back on the screen that holds the field.

func init() { builders["budget_setup"] = newBudget }

type budget struct {
	*env
	cfg BudgetSettings
	max int64
}

func newBudget(e *env) (*registry.Flow, error) {
	src, spec, err := loadSpec("budget_setup")
	if err != nil {
		return nil, err
	}
	b := &budget{env: e, cfg: e.settings.BudgetSetup}
	b.max, _ = parseAmount(b.cfg.MaxTotal)
	f := endpoint.NewFlowFromJSON("budget_setup", spec)
	f.Use(checkValues(spec, map[string]screenData{
		"BUDGET": func(context.Context, *endpoint.Request, map[string]any) (map[string]any, error) {
			return b.budgetData(""), nil
		},
		"LIMITS": b.limitsCheckData,
		"ALERTS": func(context.Context, *endpoint.Request, map[string]any) (map[string]any, error) {
			return b.alertsData(""), nil
		},
	}, map[string][]string{
		"LIMITS": {"BUDGET"},
		"ALERTS": {"BUDGET", "LIMITS"},
	}, e.log))
	f.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("BUDGET", b.budgetData("")), nil
	})
	f.HandleDataExchange("BUDGET", b.submitBudget)
	f.HandleDataExchange("LIMITS", b.submitLimits)
	f.HandleDataExchange("ALERTS", b.save)
	return &registry.Flow{
		Name:     "budget_setup",
		Title:    "Budget Setup",
		Summary:  "categories, currency, period, total and per-category limits, alerts; limits checked against the total",
		Source:   src,
		Spec:     spec,
		Endpoint: f,
		Complete: func(context.Context, registry.Completion) error { return nil }, // saved by the endpoint
		CheckCompletion: func(values map[string]any) error {
			if id, _ := values["budget_id"].(string); !strings.HasPrefix(id, "BU-") {
				return errors.New("budget_id is not a budget reference")
			}
			return nil
		},
	}, nil
}

func (b *budget) budgetData(totalError string) map[string]any {
	return map[string]any{
		"category_options":  dataSource(b.cfg.Categories),
		"currency_options":  dataSource(b.cfg.Currencies),
		"period_options":    dataSource(b.cfg.Periods),
		"total_limit_error": totalError,
	}
}

// budgetInput is what the screens submit, cumulatively. The amounts are
// number fields, kept as submitted (text or json.Number) for readAmount.
type budgetInput struct {
	Categories     []string `json:"categories"`
	Currency       string   `json:"currency"`
	Period         string   `json:"period"`
	TotalLimit     any      `json:"total_limit"`
	Limits         [budgetSlots]any
	AlertThreshold string `json:"alert_threshold"`
	Alerts         bool   `json:"alerts"`
}

func decodeBudget(r *endpoint.Request) (budgetInput, error) {
	var in budgetInput
	if err := decodeData(r, &in); err != nil {
		return in, err
	}
	values, err := flowjson.DecodeValues(r.Data)
	if err != nil {
		return in, err
	}
	for i := range in.Limits {
		in.Limits[i] = values["limit_"+strconv.Itoa(i+1)]
	}
	return in, nil
}

// chosen returns the chosen categories in the settings' order: the order of
// the limit fields.
func (b *budget) chosen(ids []string) []Option {
	var out []Option
	for _, o := range b.cfg.Categories {
		for _, id := range ids {
			if id == o.ID {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// totalError checks the total limit, or a category's limit (typed text or
// a JSON number, read by readAmount); the message fits a TextInput's
// error-message (30 characters).
func (b *budget) totalError(v any) (int64, string) {
	cents, err := readAmount(v)
	switch {
	case errors.Is(err, errAmountDecimals):
		return 0, "At most 2 decimals"
	case errors.Is(err, errAmountTooLarge):
		return 0, "At most " + formatAmountShort(b.max)
	case err != nil || cents <= 0: // also -0: zero has no sign
		return 0, "Enter a positive amount"
	case cents > b.max:
		return 0, "At most " + formatAmountShort(b.max)
	}
	return cents, ""
}

func (b *budget) limitsData(in budgetInput, errs map[string]string) map[string]any {
	cats := b.chosen(in.Categories)
	d := map[string]any{}
	for i := range budgetSlots {
		n := strconv.Itoa(i + 1)
		label, visible := "", false
		if i < len(cats) {
			label, visible = cats[i].Title, true
		}
		d["limit_"+n+"_label"] = label
		d["limit_"+n+"_visible"] = visible
		d["limit_"+n+"_error"] = errs["limit_"+n]
	}
	total, _ := readAmount(in.TotalLimit)
	d["total_text"] = fmt.Sprintf("Total: %s %s %s", in.Currency, formatAmount(total), strings.ToLower(optionTitle(b.cfg.Periods, in.Period)))
	return d
}

// limitsCheckData is what LIMITS values are checked against: the fields of
// the categories the request says were chosen.
func (b *budget) limitsCheckData(_ context.Context, r *endpoint.Request, _ map[string]any) (map[string]any, error) {
	in, err := decodeBudget(r)
	if err != nil {
		return map[string]any{}, nil
	}
	return b.limitsData(in, nil), nil
}

func (b *budget) alertsData(summary string) map[string]any {
	opts := make([]Option, len(b.cfg.Thresholds))
	for i, t := range b.cfg.Thresholds {
		opts[i] = Option{ID: strconv.Itoa(t), Title: fmt.Sprintf("At %d%% of a limit", t)}
	}
	return map[string]any{"threshold_options": dataSource(opts), "summary": summary}
}

func (b *budget) submitBudget(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	in, err := decodeBudget(r)
	if err != nil {
		return nil, err
	}
	if _, msg := b.totalError(in.TotalLimit); msg != "" {
		return endpoint.ErrorOn("BUDGET", b.budgetData(msg), "Total limit: "+msg), nil
	}
	return endpoint.Next("LIMITS", b.limitsData(in, nil)), nil
}

// checkLimits applies the rules to the limits: a positive amount for each
// chosen category, nothing in the hidden fields, and a sum within the
// total. It returns the cents by category and the errors by field.
func (b *budget) checkLimits(in budgetInput, total int64) (map[string]int64, map[string]string, string) {
	cats := b.chosen(in.Categories)
	limits := map[string]int64{}
	errs := map[string]string{}
	var sum int64
	for i := range budgetSlots {
		field := "limit_" + strconv.Itoa(i+1)
		v := in.Limits[i]
		empty := v == nil || v == "" // as the value checker sees an empty field
		if i >= len(cats) {
			if !empty {
				errs[field] = "Not a chosen category"
			}
			continue
		}
		cents, msg := b.totalError(v)
		if empty {
			msg = "Enter a limit"
		}
		if msg != "" {
			errs[field] = msg
			continue
		}
		if cents > total {
			errs[field] = "More than the total"
			continue
		}
		limits[cats[i].ID] = cents
		sum += cents
	}
	if len(errs) > 0 {
		return nil, errs, "Please check the limits"
	}
	if sum > total {
		over := formatAmount(sum - total)
		for i := range cats {
			errs["limit_"+strconv.Itoa(i+1)] = "Limits exceed the total"
		}
		return nil, errs, fmt.Sprintf("The limits add up to %s %s, %s over the total of %s.", in.Currency, formatAmount(sum), over, formatAmount(total))
	}
	return limits, nil, ""
}

func (b *budget) submitLimits(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	in, err := decodeBudget(r)
	if err != nil {
		return nil, err
	}
	total, msg := b.totalError(in.TotalLimit)
	if msg != "" {
		return endpoint.ErrorOn("LIMITS", b.limitsData(in, nil), "The total limit is not valid; go back to change it."), nil
	}
	if _, errs, summary := b.checkLimits(in, total); errs != nil {
		return endpoint.ErrorOn("LIMITS", b.limitsData(in, errs), summary), nil
	}
	return endpoint.Next("ALERTS", b.alertsData(b.summary(in, total))), nil
}

func (b *budget) summary(in budgetInput, total int64) string {
	n := len(b.chosen(in.Categories))
	unit := "categories"
	if n == 1 {
		unit = "category"
	}
	return fmt.Sprintf("%s %s %s in %d %s.", in.Currency, formatAmount(total), strings.ToLower(optionTitle(b.cfg.Periods, in.Period)), n, unit)
}

func (b *budget) save(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
	in, err := decodeBudget(r)
	if err != nil {
		return nil, err
	}
	total, msg := b.totalError(in.TotalLimit)
	limits, errs, _ := b.checkLimits(in, total)
	if msg != "" || errs != nil {
		// The earlier screens checked these; only a forged request gets here.
		return endpoint.ErrorOn("ALERTS", b.alertsData(b.summary(in, total)), "The budget is not valid any more. Please start again."), nil
	}
	threshold, _ := strconv.Atoi(in.AlertThreshold) // an offered id, checked by checkValues
	bu, err := withRef("BU", func(id string) (catalogstore.Budget, error) {
		bu, _, err := b.store.SaveBudget(ctx, catalogstore.Budget{
			ID: id, TokenID: r.Token.ID, WAID: r.Token.WAID, Currency: in.Currency, Period: in.Period,
			TotalCents: total, Limits: limits, AlertThreshold: threshold, Alerts: in.Alerts, CreatedAt: b.now(),
		})
		return bu, err
	}, isRefTaken)
	if err != nil {
		return nil, err
	}
	return endpoint.Success(map[string]any{"budget_id": bu.ID}), nil
}
