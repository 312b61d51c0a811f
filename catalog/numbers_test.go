package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/flowjson"
)

// Number fields: what the checker in front of the handlers accepts, the
// handlers read the same way (flowjson.ReadNumber). Every number field of
// every catalog flow gets each variant through the real endpoint (signed,
// encrypted request → value check → handler → store), and the answer is
// either the value stored in cents or a field error naming the field:
// never a 500.

type numberVariant struct {
	name  string
	value any   // sent as is: a string, or a json.Number written literally
	cents int64 // what is stored when accepted
	// The field's error-message on its own screen; "" when accepted.
	expenseMsg, budgetMsg string
}

var numberVariants = []numberVariant{
	// What the phone sends: text (protocol.md §2.3).
	{name: "text", value: "12.50", cents: 1250},
	{name: "text with a trailing zero", value: "12.500", cents: 1250},
	// A JSON number is the same amount.
	{name: "JSON number", value: json.Number("12"), cents: 1200},
	{name: "JSON fraction", value: json.Number("12.5"), cents: 1250},
	{name: "JSON exponent", value: json.Number("1.25e1"), cents: 1250},
	// Zero has no sign: -0 is 0, refused as not positive.
	{name: "JSON -0", value: json.Number("-0"), expenseMsg: "Must be more than 0", budgetMsg: "Enter a positive amount"},
	{name: "text -0", value: "-0", expenseMsg: "Must be more than 0", budgetMsg: "Enter a positive amount"},
	{name: "text -5", value: "-5", expenseMsg: "Must be more than 0", budgetMsg: "Enter a positive amount"},
	// No float64 holds these; they are one field's error.
	{name: "JSON 1e-400", value: json.Number("1e-400"), expenseMsg: "Too many digits", budgetMsg: "Too many digits"},
	{name: "JSON 1e400", value: json.Number("1e400"), expenseMsg: "Too many digits", budgetMsg: "Too many digits"},
	{name: "JSON longer than the field", value: json.Number("1e20"), expenseMsg: "Use at most 12 characters", budgetMsg: "Use at most 12 characters"},
	{name: "text 1e400", value: "1e400", expenseMsg: "Enter a number", budgetMsg: "Enter a number"},
	// The phone does not pad; padded text is refused, not trimmed.
	{name: "padded text", value: "  12 ", expenseMsg: "Enter a number", budgetMsg: "Enter a number"},
	{name: "decimal comma", value: "12,50", expenseMsg: "Enter a number", budgetMsg: "Enter a number"},
	{name: "three decimals", value: "12.345", expenseMsg: "At most 2 decimals", budgetMsg: "At most 2 decimals"},
}

// numberFields are the number fields the tests below cover, as
// "flow/SCREEN/field".
var numberFields = []string{
	"budget_setup/BUDGET/total_limit",
	"budget_setup/LIMITS/limit_1", "budget_setup/LIMITS/limit_2", "budget_setup/LIMITS/limit_3",
	"budget_setup/LIMITS/limit_4", "budget_setup/LIMITS/limit_5", "budget_setup/LIMITS/limit_6",
	"expense_entry/EXPENSE/amount",
}

// A number field added to a catalog flow fails here until it is covered.
func TestCatalogNumberFieldsAreCovered(t *testing.T) {
	c, err := Describe(nil)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range c.Flows() {
		for _, s := range f.Spec.Screens {
			for _, comp := range s.Components() {
				if it, _ := comp.InputType.AsString(); comp.Type == "TextInput" && it == "number" {
					found = append(found, f.Name+"/"+s.ID+"/"+comp.Name)
				}
			}
		}
	}
	slices.Sort(found)
	if diff := cmp.Diff(numberFields, found); diff != "" {
		t.Errorf("number fields of the catalog (-covered +found):\n%s", diff)
	}
}

func TestExpenseAmountNumbers(t *testing.T) {
	f := newFlowHarness(t, "expense_entry", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	for i, v := range numberVariants {
		t.Run(v.name, func(t *testing.T) {
			f.t = t
			waID := fmt.Sprint("4900", i)
			tok := f.token("expense_entry", waID)
			code, out := f.send(map[string]any{"action": "data_exchange", "screen": "EXPENSE", "flow_token": tok,
				"data": map[string]any{"amount": v.value, "category": "food", "description": "Lunch"}})
			if code != 200 {
				t.Fatalf("status %d: %v", code, out)
			}
			d, _ := out["data"].(map[string]any)
			stored, err := f.store.ExpensesByUser(context.Background(), waID)
			if err != nil {
				t.Fatal(err)
			}
			if v.expenseMsg == "" {
				if out["screen"] != "SAVED" || d["amount_text"] != "EUR "+formatAmount(v.cents) {
					t.Fatalf("answer %v, want SAVED with EUR %s", out, formatAmount(v.cents))
				}
				if len(stored) != 1 || stored[0].AmountCents != v.cents {
					t.Fatalf("stored %+v, want one expense of %d cents", stored, v.cents)
				}
				return
			}
			if out["screen"] != "EXPENSE" || d["amount_error"] != v.expenseMsg || d["category_error"] != "" && d["category_error"] != nil {
				t.Fatalf("answer %v, want EXPENSE with amount_error %q", out, v.expenseMsg)
			}
			if msg, _ := d["error_message"].(string); !strings.Contains(strings.ToLower(msg), "amount") {
				t.Errorf("error_message %q does not name the amount", msg)
			}
			if len(stored) != 0 {
				t.Fatalf("stored %+v", stored)
			}
		})
	}
	f.t = t
}

// A number no float64 holds in another field is that field's error: the
// other values are still read (it used to make every field "Required").
func TestExpenseHugeNumberInAnotherField(t *testing.T) {
	f := newFlowHarness(t, "expense_entry", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	tok := f.token("expense_entry", "1")
	screen, d := f.exchange(tok, "EXPENSE", map[string]any{"amount": "12.50", "category": "food", "description": json.Number("1e400")})
	if screen != "EXPENSE" || d["description_error"] != "Must be text" || d["amount_error"] != "" || d["category_error"] != "" {
		t.Fatalf("answer %s %v, want EXPENSE with only description_error", screen, d)
	}
}

func TestBudgetNumbers(t *testing.T) {
	settings, err := DefaultSettings()
	if err != nil {
		t.Fatal(err)
	}
	// Six categories: every limit field is shown.
	settings.BudgetSetup.Categories = []Option{{ID: "housing", Title: "Housing"}, {ID: "food", Title: "Food"},
		{ID: "transport", Title: "Transport"}, {ID: "leisure", Title: "Leisure"}, {ID: "health", Title: "Health"}, {ID: "savings", Title: "Savings"}}
	cats := []any{"housing", "food", "transport", "leisure", "health", "savings"}
	f := newFlowHarnessWith(t, "budget_setup", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), settings)
	n := 0
	for _, field := range numberFields {
		flow, rest, _ := strings.Cut(field, "/")
		screen, name, _ := strings.Cut(rest, "/")
		if flow != "budget_setup" {
			continue
		}
		for _, v := range numberVariants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				f.t = t
				n++
				waID := fmt.Sprint("3100", n)
				tok := f.token("budget_setup", waID)
				// The other amounts are valid: a total of 1000.00 and
				// limits of 1.00 (their sum stays within any total here).
				data := map[string]any{"categories": cats, "currency": "EUR", "period": "monthly", "total_limit": "1000"}
				for i := 1; i <= budgetSlots; i++ {
					data[fmt.Sprint("limit_", i)] = "1"
				}
				data[name] = v.value
				total, limits := int64(100000), map[string]int64{}
				for _, c := range cats {
					limits[c.(string)] = 100
				}
				if name == "total_limit" {
					total = v.cents
				} else {
					limits[cats[name[len(name)-1]-'1'].(string)] = v.cents
				}
				// Each screen sends the fields so far (the payloads of
				// budget_setup.json); a later screen re-sends the field.
				sends := []struct {
					screen string
					keys   []string
					next   string
				}{
					{"BUDGET", []string{"categories", "currency", "period", "total_limit"}, "LIMITS"},
					{"LIMITS", []string{"categories", "currency", "period", "total_limit", "limit_1", "limit_2", "limit_3", "limit_4", "limit_5", "limit_6"}, "ALERTS"},
					{"ALERTS", []string{"categories", "currency", "period", "total_limit", "limit_1", "limit_2", "limit_3", "limit_4", "limit_5", "limit_6", "alert_threshold", "alerts"}, "SUCCESS"},
				}
				data["alert_threshold"], data["alerts"] = "50", true
				reached := false // the field's own screen was sent
				for _, s := range sends {
					req := map[string]any{}
					for _, k := range s.keys {
						req[k] = data[k]
					}
					code, out := f.send(map[string]any{"action": "data_exchange", "screen": s.screen, "flow_token": tok, "data": req})
					if code != 200 {
						t.Fatalf("%s: status %d: %v", s.screen, code, out)
					}
					d, _ := out["data"].(map[string]any)
					reached = reached || s.screen == screen
					if v.budgetMsg == "" || !reached {
						if out["screen"] != s.next {
							t.Fatalf("%s answered %v, want %s", s.screen, out, s.next)
						}
						if s.next == "LIMITS" && !strings.Contains(d["total_text"].(string), formatAmount(total)) {
							t.Errorf("total_text %q, want the total %s", d["total_text"], formatAmount(total))
						}
						continue
					}
					// Refused on its own screen with the field's message, and
					// again on every later screen that re-sends it.
					if out["screen"] != s.screen {
						t.Fatalf("%s answered %v, want %s again", s.screen, out, s.screen)
					}
					if msg, _ := d["error_message"].(string); msg == "" {
						t.Errorf("%s: no error_message in %v", s.screen, d)
					}
					if s.screen == screen && d[name+"_error"] != v.budgetMsg {
						t.Errorf("%s: %s_error = %v, want %q (answer %v)", s.screen, name, d[name+"_error"], v.budgetMsg, d)
					}
				}
				stored, err := f.store.BudgetsByUser(context.Background(), waID)
				if err != nil {
					t.Fatal(err)
				}
				if v.budgetMsg != "" {
					if len(stored) != 0 {
						t.Fatalf("stored %+v", stored)
					}
					return
				}
				if len(stored) != 1 || stored[0].TotalCents != total || !cmp.Equal(stored[0].Limits, limits) {
					t.Fatalf("stored %+v, want a total of %d and limits %v", stored, total, limits)
				}
			})
		}
	}
	f.t = t
}

// Completions (response_json, decoded by the webhook with json.Number) go
// through the same checks: a number where a reference belongs is an error
// naming the key, never a panic or an accepted completion.
func TestCompletionNumbers(t *testing.T) {
	c, err := Describe(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ flow, key, good string }{
		{"expense_entry", "expense_id", "EX-7F3K2Q"},
		{"budget_setup", "budget_id", "BU-7F3K2Q"},
	} {
		if err := c.ValidateCompletion(context.Background(), tt.flow, map[string]any{tt.key: tt.good}); err != nil {
			t.Errorf("%s: the valid completion was refused: %v", tt.flow, err)
		}
		for _, v := range numberVariants {
			if _, isNum := v.value.(json.Number); !isNum {
				continue
			}
			// As webhook.ParseResponse decodes response_json.
			dec := json.NewDecoder(strings.NewReader(`{"` + tt.key + `":` + string(v.value.(json.Number)) + `}`))
			dec.UseNumber()
			var values map[string]any
			if err := dec.Decode(&values); err != nil {
				t.Fatal(err)
			}
			err = c.ValidateCompletion(context.Background(), tt.flow, values)
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("%s with %s = %s: %v, want an error naming %s", tt.flow, tt.key, v.value, err, tt.key)
			}
		}
	}
}

// FuzzAmountAgreement: whatever JSON a request carries as the amount, if
// the value checker accepts it, the handler reads it as a number (it may
// still refuse it by the business rules: sign, decimals, maximum).
func FuzzAmountAgreement(f *testing.F) {
	for _, s := range []string{`"12.50"`, `12`, `-0`, `"-0"`, `1e400`, `1e-400`, `"  12 "`, `"12,5"`, `1.25e1`, `true`, `"1e3"`, `0.1e-79`} {
		f.Add(s)
	}
	_, spec, err := loadSpec("expense_entry")
	if err != nil {
		f.Fatal(err)
	}
	settings, err := DefaultSettings()
	if err != nil {
		f.Fatal(err)
	}
	x := &expense{cfg: settings.ExpenseEntry}
	f.Fuzz(func(t *testing.T, amount string) {
		values, err := flowjson.DecodeValues([]byte(`{"amount":` + amount + `,"category":"food","description":""}`))
		if err != nil {
			return
		}
		chk := spec.CheckRequest(flowjson.Submission{Screen: "EXPENSE", Values: values, ScreenData: x.form("", "", "", nil)})
		if !chk.OK() {
			return
		}
		if _, err := readAmount(values["amount"]); errors.Is(err, errAmountSyntax) {
			t.Fatalf("the checker accepted amount %s, the handler cannot read it", amount)
		}
	})
}
