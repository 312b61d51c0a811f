package simulator_test

import (
	"context"
	"fmt"
	"os"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/simulator"
)

const signupFlow = `{
  "version": "7.3",
  "screens": [
    {"id": "NAME", "title": "Sign up", "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "TextInput", "name": "first_name", "label": "First name", "required": true},
      {"type": "OptIn", "name": "news", "label": "Send me news"},
      {"type": "If", "condition": "${form.news}", "then": [
        {"type": "TextInput", "name": "email", "label": "Email", "input-type": "email", "required": true}
      ]},
      {"type": "Footer", "label": "Next", "on-click-action": {"name": "navigate",
        "next": {"type": "screen", "name": "DONE"},
        "payload": {"greeting": "` + "`'Hello ' ${form.first_name}`" + `", "email": "${form.email}"}}}
    ]}},
    {"id": "DONE", "title": "Thanks", "terminal": true,
     "data": {"greeting": {"type": "string", "__example__": "Hello Ada"}, "email": {"type": "string", "__example__": "a@b.c"}},
     "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "TextHeading", "text": "${data.greeting}"},
      {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {"email": "${data.email}"}}}
    ]}}
  ]
}`

// A flow without a data endpoint runs entirely on the simulated phone: the
// phone's checks, the If, the navigate payload and the completion.
func ExampleSession() {
	spec, problems := flowjson.ValidateSource([]byte(signupFlow))
	if problems.HasErrors() {
		fmt.Println(problems.Err())
		return
	}
	c, err := simulator.NewClient(simulator.Config{Flow: spec, FlowToken: "token-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	s := simulator.NewSession(c)
	s.Start(ctx)
	s.Fill(map[string]any{"first_name": "Ada", "news": true})
	st, _ := s.Submit(ctx)
	for _, b := range st.Blocked {
		fmt.Println("blocked:", b.Component, b.Message)
	}
	s.Set("email", "ada@example.com")
	s.Submit(ctx)
	s.View().WriteText(os.Stdout)
	st, _ = s.Submit(ctx)
	fmt.Println("response_json:", st.Completion.ResponseJSON)
	// Output:
	// blocked: email Required
	// == DONE | Thanks (terminal)
	//    TextHeading "Hello Ada"
	//    Footer "Done" -> complete
	// response_json: map[email:ada@example.com flow_token:token-1]
}

// A scenario is JSON: values per screen, actions, expectations.
func ExamplePlay() {
	spec, _ := flowjson.ValidateSource([]byte(signupFlow))
	c, _ := simulator.NewClient(simulator.Config{Flow: spec, FlowToken: "token-1"})
	sc, err := simulator.ParseScenario([]byte(`{"steps": [
		{"screen": "NAME", "fill": {"first_name": "Ada", "news": true, "email": "ada@example.com"}, "expect": {"screen": "DONE", "data": {"greeting": "Hello Ada"}}},
		{"screen": "DONE", "expect": {"complete": {"flow_token": "token-1"}}}
	]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := simulator.Play(context.Background(), simulator.NewSession(c), sc, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("passed:", rep.OK(), "steps:", len(rep.Steps), "completed via:", rep.Completion.Via)
	// Output:
	// passed: true steps: 3 completed via: complete
}
