package term_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/simulator/term"
)

const surveyFlow = `{
  "version": "7.3",
  "screens": [
    {"id": "RATE", "title": "Your visit", "terminal": true, "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "RadioButtonsGroup", "name": "rating", "label": "How was it?", "required": true, "data-source": [
        {"id": "good", "title": "Good"}, {"id": "bad", "title": "Bad"}]},
      {"type": "OptIn", "name": "news", "label": "Send me news"},
      {"type": "Footer", "label": "Send", "on-click-action": {"name": "complete",
        "payload": {"rating": "${form.rating}", "news": "${form.news}"}}}
    ]}}
  ]
}`

// Without a scenario, Run asks for each input: an answer the phone would
// refuse is asked again at once, and the answers end as readable lines.
func ExampleRun() {
	spec, problems := flowjson.ValidateSource([]byte(surveyFlow))
	if problems.HasErrors() {
		fmt.Println(problems.Err())
		return
	}
	c, err := simulator.NewClient(simulator.Config{Flow: spec, Name: "survey", FlowToken: "token-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	answers := strings.NewReader("great\ngood\nyes\n")
	failures, err := term.Run(context.Background(), c, term.Options{In: answers, Out: os.Stdout})
	fmt.Println("failures:", failures, "error:", err)
	// Output:
	// simulating survey (Flow JSON 7.3, no data endpoint: navigate and complete run locally)
	// -> open sent {}
	//    now on RATE
	//    verdict: ok
	//
	// == RATE | Your visit (terminal)
	//    RadioButtonsGroup rating "How was it?" (required) [good=Good | bad=Bad]
	//    OptIn news "Send me news" = false
	//    Footer "Send" -> complete
	// RadioButtonsGroup rating ($first picks):    refused: Choose a listed option; the options are: good (Good), bad (Bad)
	// RadioButtonsGroup rating ($first picks): OptIn news (yes/no; now false): -> complete on RATE sent {"news":true,"rating":"good"}
	//    completed (complete): response_json {"flow_token":"(hidden)","news":true,"rating":"good"}
	//    verdict: ok
	//
	// answers:
	//   flow_token  (hidden)
	//   news        yes
	//   rating      good (Good)
	//
	// the flow completed (complete); 2 steps, 0 requests
	// PASS
	// failures: [] error: <nil>
}
