package flowjson_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/waflow/waflow/flowjson"
)

const expenseFlow = `{
  "version": "7.3",
  "data_api_version": "4.0",
  "routing_model": {"EXPENSE": []},
  "screens": [{
    "id": "EXPENSE",
    "title": "Log expense",
    "terminal": true,
    "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "TextInput", "name": "amount", "label": "Amount", "input-type": "number", "required": true},
      {"type": "Dropdown", "name": "category", "label": "Category", "required": true,
       "data-source": [{"id": "food", "title": "Food"}, {"id": "travel", "title": "Travel"}]},
      {"type": "Footer", "label": "Save", "on-click-action": {
        "name": "data_exchange",
        "payload": {"total": "${form.amount}", "category": "${form.category}"}}}
    ]}
  }]
}`

// Validate a Flow JSON document and print its problems the way
// "waflow validate" does.
func ExampleValidateSource() {
	src := []byte(`{
  "version": "7.3",
  "screens": [{
    "id": "WELCOME",
    "terminal": true,
    "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "TextHeading", "text": "Hello ${data.name}"},
      {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete"}}
    ]}
  }]
}`)
	_, problems := flowjson.ValidateSource(src)
	problems.WriteText(os.Stdout, "welcome.json")
	// Output:
	// welcome.json:7:39: INVALID_PROPERTY_VALUE: "Hello ${data.name}" mixes text with a dynamic reference; a property is either static or a single reference: wrap the whole value in backticks as a nested expression, e.g. "`'Hello ' ${data.name}`" (Flow JSON 6.0+)
}

// Check the values of a data_exchange request against the screen that
// sent them. The request's keys are the Footer's payload keys: "total" is
// bound to the TextInput "amount".
func ExampleFlow_CheckRequest() {
	flow, err := flowjson.Parse([]byte(expenseFlow))
	if err != nil {
		panic(err)
	}
	check := flow.CheckRequest(flowjson.Submission{
		Screen: "EXPENSE",
		Values: map[string]any{"total": "twelve", "category": "jewels"},
	})
	fmt.Println(check.OK())
	for _, e := range check.Errors {
		fmt.Printf("%s (component %s): %s\n", e.Key, e.Component, e.Message)
	}
	// The answer that shows the same screen again with the errors.
	answer, _ := json.Marshal(map[string]any{
		"screen": "EXPENSE",
		"data":   map[string]any{"error_message": check.Summary()},
	})
	fmt.Println(string(answer))
	// Output:
	// false
	// total (component amount): Enter a number
	// category (component category): Choose a listed option
	// {"data":{"error_message":"Please check 2 fields: amount, category"},"screen":"EXPENSE"}
}

// Navigate a flow: screens, inputs, routes.
func ExampleFlow_Routes() {
	flow, err := flowjson.Parse([]byte(expenseFlow))
	if err != nil {
		panic(err)
	}
	fmt.Println(flow.EntryScreens(), flow.Routes())
	s := flow.Screen("EXPENSE")
	fmt.Println(s.IsTerminal(), s.Component("amount").Type)
	for _, a := range s.Actions() {
		fmt.Println(a.Component.Type, a.Event, a.Action.Name, a.Action.PayloadKeys())
	}
	// Output:
	// [EXPENSE] map[EXPENSE:[]]
	// true TextInput
	// Footer on-click-action data_exchange [total category]
}

// Evaluating a nested expression as the WhatsApp client would, with the
// current form and data values.
func ExampleParseExpr() {
	e, err := flowjson.ParseExpr("'Total: ' ${form.quantity} * ${data.price}", true)
	if err != nil {
		fmt.Println(err)
		return
	}
	values := map[string]any{"form.quantity": "3", "data.price": 2.5} // a number input holds text
	fmt.Println(e.Eval(func(r flowjson.Ref) any {
		if r.Kind == flowjson.RefForm {
			return values["form."+r.Name()]
		}
		return values["data."+r.Name()]
	}))
	_, err = flowjson.ParseExpr("${form.a} ${form.b}", false) // an If condition cannot concatenate
	fmt.Println(err)
	// Output:
	// Total: 7.5
	// expression "${form.a} ${form.b}": missing operator before '${form.b}'
}
