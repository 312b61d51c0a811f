package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/waflow/waflow/flowjson"
)

// Scenario is a whole run of a flow, written as JSON: how the flow opens
// and, step by step, what the user enters and does, with what each step
// must bring. Example:
//
//	{"steps": [
//	  {"screen": "DETAILS", "fill": {"name": "Ada", "reason": "Check up"}, "expect": {"screen": "DATE"}},
//	  {"fill": {"date": "$first"}, "expect": {"screen": "TIME"}},
//	  {"do": "back", "expect": {"screen": "DATE"}},
//	  {"fill": {"date": "$last"}},
//	  {"fill": {"time": "$first"}, "expect": {"screen": "SUCCESS", "complete": {"time": "09:00"}}}
//	]}
type Scenario struct {
	// Start, when set, opens the flow with flow_action navigate on a
	// screen with data; by default a flow with a data endpoint opens with
	// INIT and other flows on their first entry screen.
	Start *ScenarioStart `json:"start,omitempty"`
	// Steps are played in order.
	Steps []ScenarioStep `json:"steps"`
}

// ScenarioStart is how a flow opens with flow_action navigate.
type ScenarioStart struct {
	Screen string         `json:"screen"`
	Data   map[string]any `json:"data,omitempty"`
}

// ScenarioStep is one thing the user (or WhatsApp) does.
type ScenarioStep struct {
	// Screen, when set, is the screen the step must start on.
	Screen string `json:"screen,omitempty"`
	// Fill sets inputs of the screen first. A value is JSON as the input
	// holds it, or one of: "$first" / "$last" (the first or last enabled
	// option, free date or range, see [Session.Pick]), or a whole
	// "${data.x}" reference into the screen's data.
	Fill map[string]any `json:"fill,omitempty"`
	// Do is what happens after filling: "submit" (press the Footer, the
	// default), "back", "ping", "error" (an error notification, with
	// Error), "select:NAME" (run the on-select-action of input NAME after
	// filling it), "fire:N" (run the screen's action N) or "none".
	Do string `json:"do,omitempty"`
	// Error is the notification of Do "error".
	Error *ScenarioError `json:"error,omitempty"`
	// Expect is what the step must bring; by default an answer the client
	// accepts and nothing blocked by the phone's checks.
	Expect *Expect `json:"expect,omitempty"`
}

// ScenarioError is an error notification to send.
type ScenarioError struct {
	Key     string `json:"key"`
	Message string `json:"message"`
}

// Expect is what a step must bring. Unset fields are not checked.
type Expect struct {
	// Screen is the screen shown after the step ("SUCCESS" when the
	// endpoint completes the flow).
	Screen string `json:"screen,omitempty"`
	// Status is the HTTP status of the endpoint's answer.
	Status int `json:"status,omitempty"`
	// ErrorMessage must occur in the snackbar text.
	ErrorMessage string `json:"error_message,omitempty"`
	// Data lists values the new screen's data must hold.
	Data map[string]any `json:"data,omitempty"`
	// Errors lists error messages the shown screen must display, by input
	// name (its resolved error-message must contain the text).
	Errors map[string]string `json:"errors,omitempty"`
	// Violations lists the rules the answer must break (see the Rule
	// constants), for tests of a faulty endpoint. When set, exactly these
	// rules must be reported.
	Violations []string `json:"violations,omitempty"`
	// Blocked lists the inputs the phone's checks must refuse.
	Blocked []string `json:"blocked,omitempty"`
	// Closed, when set, requires a 427 whose message contains it ("*"
	// for any message).
	Closed string `json:"closed,omitempty"`
	// Complete lists values the completion's response_json must hold.
	Complete map[string]any `json:"complete,omitempty"`
}

// ParseScenario reads a scenario, refusing unknown fields and steps that
// cannot be played, with a message that names the step.
func ParseScenario(b []byte) (*Scenario, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("simulator: scenario: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("simulator: scenario: unexpected data after the JSON object")
	}
	if sc.Start != nil && sc.Start.Screen == "" {
		return nil, errors.New("simulator: scenario: start needs a screen")
	}
	for i, st := range sc.Steps {
		if err := st.check(); err != nil {
			return nil, fmt.Errorf("simulator: scenario step %d: %w", i+1, err)
		}
	}
	return &sc, nil
}

func (st *ScenarioStep) check() error {
	do, arg, _ := strings.Cut(st.Do, ":")
	switch do {
	case "", "submit", "back", "ping", "none":
		if arg != "" {
			return fmt.Errorf("do %q takes no argument", do)
		}
	case "error":
		if st.Error == nil || st.Error.Key == "" {
			return errors.New(`do "error" needs "error": {"key": ..., "message": ...}`)
		}
	case "select":
		if arg == "" {
			return errors.New(`do "select:NAME" needs the input's name`)
		}
	case "fire":
		var n int
		if _, err := fmt.Sscanf(arg, "%d", &n); err != nil || n < 0 {
			return fmt.Errorf("do %q: want fire:N with N an action index", st.Do)
		}
	default:
		return fmt.Errorf("do %q: want submit, back, ping, error, select:NAME, fire:N or none", st.Do)
	}
	if st.Error != nil && do != "error" {
		return errors.New(`"error" is only for do "error"`)
	}
	return nil
}

// Report is the outcome of a played scenario.
type Report struct {
	// Steps lists every step, including the opening one.
	Steps []*Step
	// Failures lists, per scenario step, what did not match; empty when
	// the scenario passed.
	Failures []string
	// Completion is set when the flow completed.
	Completion *Completion
}

// OK reports whether every step brought what it had to.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

// Err returns nil for a passed scenario, else an error listing the
// failures.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return errors.New("simulator: scenario failed:\n  " + strings.Join(r.Failures, "\n  "))
}

// Play runs a scenario on a new session s. Each step is played even when an
// earlier one failed, unless the flow ended or cannot go on (the failure is
// then reported). onStep, when not nil, sees each step as it happens (the
// terminal simulator prints them). An error is returned only for a
// transport failure; what went wrong in the flow is in the Report.
func Play(ctx context.Context, s *Session, sc *Scenario, onStep func(scenarioStep int, st *Step)) (*Report, error) {
	r := &Report{}
	note := func(i int, st *Step) {
		r.Steps = append(r.Steps, st)
		if onStep != nil {
			onStep(i, st)
		}
	}
	var st *Step
	var err error
	if sc.Start != nil {
		st, err = s.StartAt(sc.Start.Screen, sc.Start.Data)
	} else {
		st, err = s.Start(ctx)
	}
	if err != nil {
		return r, err
	}
	note(0, st)
	if !st.OK() {
		r.Failures = append(r.Failures, "opening the flow: "+st.Err().Error())
		return r, nil
	}
	for i := range sc.Steps {
		n := i + 1
		step := &sc.Steps[i]
		fail := func(format string, args ...any) {
			r.Failures = append(r.Failures, fmt.Sprintf("step %d: ", n)+fmt.Sprintf(format, args...))
		}
		if s.Done() && !strings.HasPrefix(step.Do, "ping") && step.Do != "error" {
			fail("the flow has already ended")
			break
		}
		if step.Screen != "" && s.st.Screen != step.Screen {
			fail("on screen %s, want %s", orNone(s.st.Screen), step.Screen)
			break
		}
		st, err := playStep(ctx, s, step)
		if err != nil {
			var te *TransportError
			if errors.As(err, &te) || ctx.Err() != nil {
				return r, err
			}
			fail("%v", err)
			break
		}
		note(n, st)
		for _, msg := range step.Expect.match(s, st) {
			fail("%s", msg)
		}
	}
	r.Completion = s.Completion()
	return r, nil
}

func playStep(ctx context.Context, s *Session, step *ScenarioStep) (*Step, error) {
	if err := s.fill(sortedKeys(step.Fill), func(k string) (any, error) { return s.fillValue(k, step.Fill[k]) }); err != nil {
		return nil, err
	}
	do, arg, _ := strings.Cut(step.Do, ":")
	var st *Step
	var err error
	switch do {
	case "", "submit":
		st, err = s.Submit(ctx)
	case "back":
		st, err = s.Back(ctx)
	case "ping":
		st, err = s.Ping(ctx)
	case "error":
		st, err = s.NotifyError(ctx, step.Error.Key, step.Error.Message)
	case "select":
		var v any
		if v = s.Form()[arg]; v == nil {
			return nil, fmt.Errorf("select:%s: fill %q first", arg, arg)
		}
		st, err = s.Select(ctx, arg, v)
	case "fire":
		var n int
		fmt.Sscanf(arg, "%d", &n)
		st, err = s.Fire(ctx, n)
	case "none":
		st = &Step{Kind: "none", From: s.st.Screen, To: s.st.Screen}
	}
	return st, err
}

// fillValue resolves the "$first", "$last" and "${data.x}" forms of a
// scenario value.
func (s *Session) fillValue(name string, v any) (any, error) {
	str, ok := v.(string)
	if !ok {
		return v, nil
	}
	switch str {
	case "$first", "$last":
		return s.Pick(name, str == "$last")
	}
	if r, ok := flowjson.ParseRef(str); ok && r.Kind == flowjson.RefData {
		x, found := lookup(s.Data(), r.Path)
		if !found {
			return nil, fmt.Errorf("%s: %s is not in the data of screen %s", name, str, s.st.Screen)
		}
		return x, nil
	}
	return v, nil
}

// match compares a step with what was expected and describes each
// difference.
func (e *Expect) match(s *Session, st *Step) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if e == nil {
		e = &Expect{}
	}
	if len(e.Violations) == 0 {
		for _, v := range st.Violations {
			add("%s", v.Error())
		}
	} else {
		got := map[string]bool{}
		for _, v := range st.Violations {
			got[v.Rule] = true
		}
		for _, r := range e.Violations {
			if !got[r] {
				add("want a violation of %s, got %s", r, violationRules(st.Violations))
			}
			delete(got, r)
		}
		for r := range got {
			add("unexpected %s violation", r)
		}
	}
	if len(e.Blocked) == 0 {
		for _, b := range st.Blocked {
			add("the phone refuses %s: %s", fieldName(b), b.Message)
		}
	} else {
		for _, name := range e.Blocked {
			found := false
			for _, b := range st.Blocked {
				found = found || b.Component == name || b.Key == name
			}
			if !found {
				add("want the phone to refuse %s; it did not", name)
			}
		}
	}
	switch {
	case e.Closed != "" && !st.Closed:
		add("want the flow closed with a 427, got status %d", st.Status)
	case e.Closed != "" && e.Closed != "*" && !strings.Contains(st.CloseMessage, e.Closed):
		add("427 message %q does not contain %q", st.CloseMessage, e.Closed)
	case e.Closed == "" && st.Closed:
		add("the endpoint closed the flow (427): %q", st.CloseMessage)
	}
	if e.Status != 0 && st.Status != e.Status {
		add("status %d, want %d", st.Status, e.Status)
	}
	if e.Screen != "" && st.To != e.Screen && !(e.Screen == "SUCCESS" && st.Completion != nil) {
		add("on screen %s after the step, want %s", orNone(st.To), e.Screen)
	}
	if e.ErrorMessage != "" && !strings.Contains(st.ErrorMessage, e.ErrorMessage) {
		add("snackbar %q does not contain %q", st.ErrorMessage, e.ErrorMessage)
	}
	for k, want := range e.Data {
		got, ok := s.Data()[k]
		if !ok || !jsonSame(got, want) {
			add("data.%s = %s, want %s", k, jsonText(got), jsonText(want))
		}
	}
	if len(e.Errors) > 0 {
		shown := map[string]string{}
		if v := s.View(); v != nil {
			for _, it := range v.Items {
				if it.Name != "" {
					shown[it.Name] = it.Error
				}
			}
		}
		for name, want := range e.Errors {
			if !strings.Contains(shown[name], want) || shown[name] == "" {
				add("input %s shows error %q, want one containing %q", name, shown[name], want)
			}
		}
	}
	if e.Complete != nil {
		if st.Completion == nil {
			add("the flow did not complete")
		} else {
			for k, want := range e.Complete {
				got, ok := st.Completion.ResponseJSON[k]
				if !ok || !jsonSame(got, want) {
					add("response_json.%s = %s, want %s", k, jsonText(got), jsonText(want))
				}
			}
		}
	}
	return out
}

func violationRules(vs []Violation) string {
	if len(vs) == 0 {
		return "none"
	}
	var rules []string
	for _, v := range vs {
		rules = append(rules, v.Rule)
	}
	return strings.Join(rules, ", ")
}

func jsonSame(a, b any) bool { return jsonText(normalizeValue(a)) == jsonText(normalizeValue(b)) }

func jsonText(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(b)
}
