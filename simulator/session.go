package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/waflow/waflow/flowjson"
)

// ErrClosed is returned for an action on a session whose flow has ended:
// completed, or closed by a flow-token error (427).
var ErrClosed = errors.New("simulator: the flow has ended")

// Step is what happened for one user action or one request of a session.
type Step struct {
	// Kind is the request action (INIT, data_exchange, BACK, ping, or
	// "error" for an error notification) or, for what the phone does
	// alone, "open" (the first screen from the message), "navigate",
	// "complete", "update_data", "open_url", "back", and "webhook" for a
	// delivered completion.
	Kind string `json:"kind"`
	// From is the screen the step started on; To the screen shown after
	// it ("SUCCESS" when the endpoint completed the flow).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Sent is the request's data or the action's resolved payload.
	Sent map[string]any `json:"sent,omitempty"`
	// Endpoint reports whether a request went to the endpoint; Status,
	// Attempts, Answer and Latency describe it.
	Endpoint bool           `json:"endpoint,omitempty"`
	Status   int            `json:"status,omitempty"`
	Attempts int            `json:"attempts,omitempty"`
	Answer   map[string]any `json:"answer,omitempty"`
	Latency  time.Duration  `json:"latency_ns,omitempty"`
	// ErrorMessage is the snackbar text of the answer.
	ErrorMessage string `json:"error_message,omitempty"`
	// Closed reports a 427 answer: the client closes the flow with
	// CloseMessage (empty: a generic error) and disables the button.
	Closed       bool   `json:"closed,omitempty"`
	CloseMessage string `json:"close_message,omitempty"`
	// Blocked lists the phone's own checks that failed (required fields,
	// lengths, patterns, options, dates): nothing was sent.
	Blocked []flowjson.FieldError `json:"blocked,omitempty"`
	// Violations lists what the answer (or a navigate payload) got wrong.
	Violations []Violation `json:"violations,omitempty"`
	// Completion is set on the step that completed the flow.
	Completion *Completion `json:"completion,omitempty"`
}

// OK reports whether the step went as the client expects: no violation
// and nothing blocked.
func (st *Step) OK() bool { return len(st.Violations) == 0 && len(st.Blocked) == 0 }

// Err returns nil for an OK step, else an error listing the violations and
// the blocked fields.
func (st *Step) Err() error {
	if st.OK() {
		return nil
	}
	var parts []string
	for _, v := range st.Violations {
		parts = append(parts, v.Error())
	}
	for _, b := range st.Blocked {
		parts = append(parts, "blocked: "+fieldName(b)+": "+b.Message)
	}
	return fmt.Errorf("simulator: %s on %s: %s", st.Kind, orNone(st.From), strings.Join(parts, "; "))
}

// Request returns the data-endpoint request the step sent, to send it
// again: with [Client.Prepare], the steps of a played scenario become
// requests a load generator can replay. ok is false for steps that sent
// nothing to the endpoint (and for webhooks).
func (st *Step) Request() (r Request, ok bool) {
	if !st.Endpoint {
		return Request{}, false
	}
	switch st.Kind {
	case ActionInit, ActionPing:
		return Request{Action: st.Kind}, true
	case ActionBack:
		return Request{Action: ActionBack, Screen: st.From}, true
	case ActionDataExchange, "error":
		return Request{Action: ActionDataExchange, Screen: st.From, Data: st.Sent}, true
	}
	return Request{}, false
}

func fieldName(e flowjson.FieldError) string {
	if e.Component != "" {
		return e.Component
	}
	return e.Key
}

func orNone(s string) string {
	if s == "" {
		return "(no screen)"
	}
	return s
}

// Completion is how a flow ended successfully: what the completion webhook
// carries in response_json (protocol.md 4.2).
type Completion struct {
	// Screen is the screen the user completed on.
	Screen string `json:"screen"`
	// Via is "complete" (the complete action, run by the phone) or
	// "SUCCESS" (the endpoint's answer).
	Via string `json:"via"`
	// ResponseJSON is flow_token plus the complete action's payload, or the
	// endpoint's extension_message_response.params.
	ResponseJSON map[string]any `json:"response_json"`
}

// State is the whole state of a session, as JSON: what the phone keeps
// while a flow is open. The browser preview keeps it in the page and hands
// it back with each action ([Resume]).
type State struct {
	// Screen is the screen shown; "" before the start, "SUCCESS" after the
	// endpoint completed the flow.
	Screen string `json:"screen"`
	// History lists the screens on the back stack, the current one last.
	History []string `json:"history"`
	// Data and Form hold each visited screen's data and form values.
	Data map[string]map[string]any `json:"data"`
	Form map[string]map[string]any `json:"form"`
	// ErrorMessage is the snackbar shown on the current screen.
	ErrorMessage string `json:"error_message,omitempty"`
	// Closed is set when the flow ended; CloseMessage for a 427.
	Closed       bool        `json:"closed,omitempty"`
	CloseMessage string      `json:"close_message,omitempty"`
	Completion   *Completion `json:"completion,omitempty"`
}

// Session plays one user through a flow: it keeps the screens, their data
// and form values, runs navigate, complete and update_data on the phone,
// sends data_exchange, BACK, pings and error notifications through its
// Client, checks every answer, and records each Step. A Session is not safe
// for concurrent use.
type Session struct {
	c     *Client
	st    State
	steps []*Step
}

// NewSession starts a session of c; call Start (or StartAt) first.
func NewSession(c *Client) *Session {
	return &Session{c: c, st: State{History: []string{}, Data: map[string]map[string]any{}, Form: map[string]map[string]any{}}}
}

// Resume continues a session from a State (for example one kept by the
// browser preview).
func Resume(c *Client, st State) (*Session, error) {
	if st.Screen != "" && st.Screen != "SUCCESS" && c.cfg.Flow.Screen(st.Screen) == nil {
		return nil, fmt.Errorf("simulator: state is on screen %q, which is not in the flow", st.Screen)
	}
	if st.Data == nil {
		st.Data = map[string]map[string]any{}
	}
	if st.Form == nil {
		st.Form = map[string]map[string]any{}
	}
	if st.History == nil {
		st.History = []string{}
	}
	for _, id := range st.History {
		if c.cfg.Flow.Screen(id) == nil {
			return nil, fmt.Errorf("simulator: state history names screen %q, which is not in the flow", id)
		}
	}
	if st.Screen != "" && st.Screen != "SUCCESS" {
		if len(st.History) == 0 || st.History[len(st.History)-1] != st.Screen {
			return nil, fmt.Errorf("simulator: state history does not end with the current screen %q", st.Screen)
		}
		for _, id := range st.History {
			if st.Data[id] == nil {
				st.Data[id] = map[string]any{}
			}
			if st.Form[id] == nil {
				st.Form[id] = map[string]any{}
			}
		}
	}
	return &Session{c: c, st: st}, nil
}

// State returns the session's state.
func (s *Session) State() State { return s.st }

// Steps returns every step so far.
func (s *Session) Steps() []*Step { return s.steps }

// Screen returns the current screen, or nil before the start and after
// the endpoint completed the flow.
func (s *Session) Screen() *flowjson.Screen { return s.c.cfg.Flow.Screen(s.st.Screen) }

// Done reports whether the flow has ended.
func (s *Session) Done() bool { return s.st.Closed }

// Completion returns how the flow completed, or nil.
func (s *Session) Completion() *Completion { return s.st.Completion }

// Data returns the current screen's data.
func (s *Session) Data() map[string]any { return s.st.Data[s.st.Screen] }

// Form returns the current screen's form values.
func (s *Session) Form() map[string]any { return s.st.Form[s.st.Screen] }

func (s *Session) scope() *scope {
	return &scope{
		screen: s.st.Screen,
		data:   func(id string) map[string]any { return s.st.Data[id] },
		form:   func(id string) map[string]any { return s.st.Form[id] },
	}
}

// View renders the current screen, or returns nil when none is shown.
func (s *Session) View() *View {
	scr := s.Screen()
	if scr == nil {
		return nil
	}
	v := s.scope().view(scr)
	v.ErrorMessage = s.st.ErrorMessage
	v.CanGoBack = len(s.st.History) > 1
	v.RefreshOnBack = scr.RefreshOnBack != nil && *scr.RefreshOnBack && s.c.cfg.Flow.DataAPIVersion != ""
	return v
}

func (s *Session) record(st *Step) *Step {
	s.steps = append(s.steps, st)
	return st
}

func (s *Session) ready() error {
	switch {
	case s.st.Closed:
		return ErrClosed
	case s.Screen() == nil:
		return errors.New("simulator: the flow is not open: call Start first")
	}
	return nil
}

// Start opens the flow as a message with flow_action data_exchange does:
// an INIT request to the endpoint, whose answer must be an entry screen.
// A flow without a data endpoint opens on its first entry screen with no
// data (use StartAt to give it some).
func (s *Session) Start(ctx context.Context) (*Step, error) {
	if s.st.Screen != "" || s.st.Closed {
		return nil, errors.New("simulator: the session has already started")
	}
	if s.c.cfg.Flow.DataAPIVersion == "" {
		entries := s.c.cfg.Flow.EntryScreens()
		if len(entries) == 0 {
			return nil, errors.New("simulator: the flow has no screens")
		}
		return s.StartAt(entries[0], map[string]any{})
	}
	st := &Step{Kind: ActionInit, Endpoint: true}
	a, err := s.c.Send(ctx, Request{Action: ActionInit})
	if err != nil {
		return nil, err
	}
	s.screenAnswer(st, a, move{action: ActionInit})
	return s.record(st), nil
}

// StartAt opens the flow as a message with flow_action navigate does: on
// screen with flow_action_payload data, which must match the screen's data
// model.
func (s *Session) StartAt(screen string, data map[string]any) (*Step, error) {
	if s.st.Screen != "" || s.st.Closed {
		return nil, errors.New("simulator: the session has already started")
	}
	scr := s.c.cfg.Flow.Screen(screen)
	if scr == nil {
		return nil, fmt.Errorf("simulator: no screen %q in the flow (screens: %s)", screen, strings.Join(screenIDs(s.c.cfg.Flow), ", "))
	}
	data = normalize(data)
	st := &Step{Kind: "open", To: screen, Sent: data, Violations: checkData(scr, data)}
	s.show(screen, data, showForward)
	return s.record(st), nil
}

// Set sets the value of an input of the current screen, as the user would.
// Values are JSON values: strings for text, dates and single choices,
// arrays of ids for multiple choices, booleans for OptIn, an object with
// "start-date" and "end-date" for a range CalendarPicker. nil clears it.
func (s *Session) Set(name string, value any) error {
	if err := s.ready(); err != nil {
		return err
	}
	scr := s.Screen()
	c := scr.Inputs()[name]
	if c == nil {
		return fmt.Errorf("simulator: screen %s has no input %q (inputs: %s)", scr.ID, name, strings.Join(sortedKeys(scr.Inputs()), ", "))
	}
	if !s.isShown(c) {
		return fmt.Errorf("simulator: input %q of screen %s is not shown now (a visible property or an If/Switch hides it)", name, scr.ID)
	}
	form := s.st.Form[scr.ID]
	if value == nil {
		delete(form, name)
	} else {
		form[name] = normalizeValue(value)
	}
	s.dropHidden()
	return nil
}

// dropHidden forgets the values of inputs that a change has hidden (an If
// turned false, a visible property): the phone does not send them.
func (s *Session) dropHidden() {
	scr := s.Screen()
	shown := map[string]bool{}
	s.scope().visible(scr, func(c, _ *flowjson.Component) { shown[c.Name] = true })
	form := s.st.Form[scr.ID]
	for name := range scr.Inputs() {
		if !shown[name] {
			delete(form, name)
		}
	}
}

// Fill sets several inputs. An input that an If shows only once another
// is set (an OptIn, a choice) is set after it.
func (s *Session) Fill(values map[string]any) error {
	return s.fill(sortedKeys(values), func(k string) (any, error) { return values[k], nil })
}

// fill sets each key to value(key), in passes, until all are set or a pass
// sets none (then the first error is returned).
func (s *Session) fill(pending []string, value func(string) (any, error)) error {
	for len(pending) > 0 {
		var next []string
		var first error
		for _, k := range pending {
			v, err := value(k)
			if err == nil {
				err = s.Set(k, v)
			}
			if err != nil {
				next = append(next, k)
				if first == nil {
					first = err
				}
			}
		}
		if len(next) == len(pending) {
			return first
		}
		pending = next
	}
	return nil
}

func (s *Session) isShown(target *flowjson.Component) bool {
	shown := false
	s.scope().visible(s.Screen(), func(c, _ *flowjson.Component) {
		if c == target {
			shown = true
		}
	})
	return shown
}

// Submit presses the screen's Footer: the phone checks the form, then
// runs the Footer's action.
func (s *Session) Submit(ctx context.Context) (*Step, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	var footer *flowjson.Component
	s.scope().visible(s.Screen(), func(c, _ *flowjson.Component) {
		if c.Type == "Footer" && footer == nil {
			footer = c
		}
	})
	if footer == nil || footer.OnClickAction == nil {
		return nil, fmt.Errorf("simulator: screen %s shows no Footer to press", s.st.Screen)
	}
	if !s.scope().boolProp(footer.Enabled, true) {
		return nil, fmt.Errorf("simulator: the Footer of screen %s is disabled", s.st.Screen)
	}
	return s.fire(ctx, footer, footer.OnClickAction, true)
}

// Select sets a selection input (or a date picker) and runs its
// on-select-action, or the chosen option's, when it has one.
func (s *Session) Select(ctx context.Context, name string, value any) (*Step, error) {
	if err := s.Set(name, value); err != nil {
		return nil, err
	}
	c := s.Screen().Inputs()[name]
	a := c.OnSelectAction
	if id, ok := value.(string); ok && c.DataSource != nil {
		for _, o := range c.DataSource.Items {
			if o.ID == id && o.OnSelectAction != nil {
				a = o.OnSelectAction
			}
		}
	}
	if a == nil {
		return s.record(&Step{Kind: "select", From: s.st.Screen, To: s.st.Screen}), nil
	}
	return s.fire(ctx, c, a, false)
}

// Fire runs the action of the current screen with index i in
// [flowjson.Screen.Actions] (the indexes a View's items carry). Only a
// Footer's action makes the phone check the form first.
func (s *Session) Fire(ctx context.Context, i int) (*Step, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	acts := s.Screen().Actions()
	if i < 0 || i >= len(acts) {
		return nil, fmt.Errorf("simulator: screen %s has no action %d", s.st.Screen, i)
	}
	ref := acts[i]
	if !s.isShown(ref.Component) {
		return nil, fmt.Errorf("simulator: the %s of screen %s is not shown now", ref.Component.Type, s.st.Screen)
	}
	return s.fire(ctx, ref.Component, ref.Action, ref.Component.Type == "Footer" && ref.Event == "on-click-action")
}

// fire runs one action of the current screen.
func (s *Session) fire(ctx context.Context, c *flowjson.Component, a *flowjson.Action, submit bool) (*Step, error) {
	from := s.st.Screen
	st := &Step{Kind: a.Name, From: from, To: from}
	if submit {
		if st.Blocked = s.phoneCheck(); len(st.Blocked) > 0 {
			return s.record(st), nil
		}
	}
	payload, _ := s.scope().value(a.Payload).(map[string]any)
	payload = dropUnset(payload)
	st.Sent = payload
	s.st.ErrorMessage = ""
	switch a.Name {
	case flowjson.ActionNavigate:
		if a.Next == nil || s.c.cfg.Flow.Screen(a.Next.Name) == nil {
			return nil, fmt.Errorf("simulator: the navigate action of %s has no known next screen", from)
		}
		next := s.c.cfg.Flow.Screen(a.Next.Name)
		if payload == nil {
			payload = map[string]any{}
		}
		st.To = next.ID
		// The payload becomes the next screen's data: it must fit its model.
		st.Violations = checkData(next, payload)
		s.show(next.ID, payload, showForward)
	case flowjson.ActionComplete:
		resp := map[string]any{}
		maps.Copy(resp, payload)
		resp["flow_token"] = s.c.cfg.FlowToken
		s.st.Completion = &Completion{Screen: from, Via: "complete", ResponseJSON: resp}
		s.st.Closed = true
		st.Completion, st.To = s.st.Completion, ""
	case flowjson.ActionUpdateData:
		d := s.st.Data[from]
		maps.Copy(d, payload)
	case flowjson.ActionOpenURL:
		st.Sent = map[string]any{"url": a.URL}
	case flowjson.ActionDataExchange:
		if s.c.cfg.Flow.DataAPIVersion == "" {
			return nil, errors.New("simulator: data_exchange in a flow without data_api_version")
		}
		if payload == nil {
			payload = map[string]any{}
		}
		st.Sent = payload
		st.Endpoint = true
		ans, err := s.c.Send(ctx, Request{Action: ActionDataExchange, Screen: from, Data: payload})
		if err != nil {
			return nil, err
		}
		s.screenAnswer(st, ans, move{action: ActionDataExchange, from: from})
	default:
		return nil, fmt.Errorf("simulator: unknown action %q", a.Name)
	}
	return s.record(st), nil
}

// Back presses the back button. On a refresh_on_back screen of a flow
// with a data endpoint the phone sends BACK and shows the answer, which
// must be a screen the user came from; otherwise it shows the previous
// screen as it was.
func (s *Session) Back(ctx context.Context) (*Step, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if len(s.st.History) < 2 {
		return nil, fmt.Errorf("simulator: screen %s is the first screen: back would close the flow", s.st.Screen)
	}
	scr := s.Screen()
	prev := s.st.History[:len(s.st.History)-1]
	if scr.RefreshOnBack != nil && *scr.RefreshOnBack && s.c.cfg.Flow.DataAPIVersion != "" {
		st := &Step{Kind: ActionBack, From: scr.ID, To: scr.ID, Endpoint: true}
		ans, err := s.c.Send(ctx, Request{Action: ActionBack, Screen: scr.ID})
		if err != nil {
			return nil, err
		}
		s.screenAnswer(st, ans, move{action: ActionBack, from: scr.ID, back: slices.Clone(prev)})
		return s.record(st), nil
	}
	s.st.History = prev
	s.st.Screen = prev[len(prev)-1]
	s.st.ErrorMessage = ""
	return s.record(&Step{Kind: "back", From: scr.ID, To: s.st.Screen}), nil
}

// Ping sends a health check, as WhatsApp does for published flows.
func (s *Session) Ping(ctx context.Context) (*Step, error) {
	st := &Step{Kind: ActionPing, From: s.st.Screen, To: s.st.Screen, Endpoint: true}
	a, err := s.c.Send(ctx, Request{Action: ActionPing})
	if err != nil {
		return nil, err
	}
	s.answered(st, a)
	if a.Status == 200 && len(st.Violations) == 0 {
		st.Violations = checkPing(a.Body)
	}
	return s.record(st), nil
}

// NotifyError sends an error notification about the current screen, as the
// client does after rejecting an answer (protocol.md 2.5), e.g. key
// "INVALID_SCREEN_TRANSITION".
func (s *Session) NotifyError(ctx context.Context, key, message string) (*Step, error) {
	data := map[string]any{"error": key, "error_message": message}
	st := &Step{Kind: "error", From: s.st.Screen, To: s.st.Screen, Endpoint: true, Sent: data}
	action := ActionDataExchange
	if s.st.Screen == "" {
		action = ActionInit
	}
	a, err := s.c.Send(ctx, Request{Action: action, Screen: s.st.Screen, Data: data})
	if err != nil {
		return nil, err
	}
	s.answered(st, a)
	if a.Status == 200 && len(st.Violations) == 0 {
		st.Violations = checkAck(a.Body)
	}
	return s.record(st), nil
}

// NotifyViolations sends the error notification the client would send for
// a step whose answer it rejected; it does nothing for an OK step.
func (s *Session) NotifyViolations(ctx context.Context, st *Step) (*Step, error) {
	if len(st.Violations) == 0 {
		return nil, nil
	}
	v := st.Violations[0]
	return s.NotifyError(ctx, metaErrorKey(v.Rule), v.Error())
}

// answered copies the transport side of an answer into a step.
func (s *Session) answered(st *Step, a *Answer) {
	st.Status, st.Attempts, st.Answer, st.Latency = a.Status, a.Attempts, a.Body, a.Latency
	st.Violations = append(st.Violations, a.Violations...)
}

// screenAnswer handles the answer to INIT, BACK or data_exchange.
func (s *Session) screenAnswer(st *Step, a *Answer, m move) {
	s.answered(st, a)
	if a.Status == 427 {
		msg, _ := a.Body["error_msg"].(string)
		st.Closed, st.CloseMessage, st.To = true, msg, ""
		s.st.Closed, s.st.CloseMessage = true, msg
		return
	}
	if len(st.Violations) > 0 {
		return
	}
	if st.Violations = checkScreenAnswer(s.c.cfg.Flow, m, a.Body, s.c.cfg.FlowToken); len(st.Violations) > 0 {
		return // the client rejects the answer and stays where it was
	}
	screen := a.Body["screen"].(string)
	data, _ := a.Body["data"].(map[string]any)
	st.To = screen
	st.ErrorMessage, _ = data["error_message"].(string)
	if screen == "SUCCESS" {
		emr := data["extension_message_response"].(map[string]any)
		s.st.Completion = &Completion{Screen: m.from, Via: "SUCCESS", ResponseJSON: emr["params"].(map[string]any)}
		s.st.Closed, s.st.Screen = true, "SUCCESS"
		st.Completion = s.st.Completion
		return
	}
	how := showForward
	switch {
	case screen == s.st.Screen:
		how = showRefresh
	case m.action == ActionBack:
		how = showBack
	}
	s.show(screen, data, how)
}

type showHow int

const (
	showForward showHow = iota // a new screen: form from init values
	showRefresh                // the same screen again: typed values kept
	showBack                   // a screen from the history, refreshed
)

// show puts screen id on display with data.
func (s *Session) show(id string, data map[string]any, how showHow) {
	scr := s.c.cfg.Flow.Screen(id)
	d := map[string]any{}
	maps.Copy(d, data)
	s.st.ErrorMessage, _ = d["error_message"].(string)
	delete(d, "error_message")
	s.st.Data[id] = d
	keep := map[string]any{}
	if how != showForward {
		maps.Copy(keep, s.st.Form[id])
	}
	switch how {
	case showForward:
		s.st.History = append(s.st.History, id)
	case showBack:
		if i := slices.Index(s.st.History, id); i >= 0 {
			s.st.History = s.st.History[:i+1]
		}
	}
	s.st.Screen = id
	s.st.Form[id] = s.initForm(scr, keep)
}

// initForm applies a screen's init values (component init-value and Form
// init-values) over form.
func (s *Session) initForm(scr *flowjson.Screen, form map[string]any) map[string]any {
	sc := &scope{screen: scr.ID, data: func(id string) map[string]any { return s.st.Data[id] },
		form: func(id string) map[string]any { return s.st.Form[id] }}
	var walk func([]*flowjson.Component)
	walk = func(list []*flowjson.Component) {
		for _, c := range list {
			if c.Type == "Form" {
				if m, ok := sc.value(c.InitValues).(map[string]any); ok {
					for k, v := range m {
						if v != nil {
							form[k] = v
						}
					}
				}
			}
			if c.InitValue != nil {
				if v := sc.value(c.InitValue); v != nil {
					form[c.Name] = v
				}
			}
			if c.Type == "OptIn" && form[c.Name] == nil {
				form[c.Name] = false // an unticked box sends false
			}
			walk(c.Children)
			walk(c.Then)
			walk(c.Else)
			if c.Cases != nil {
				for _, k := range c.Cases.Cases {
					walk(k.Children)
				}
			}
		}
	}
	walk(scr.Children())
	return form
}

// dropUnset removes the keys bound to inputs the user left empty: the
// phone does not send them.
func dropUnset(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			continue
		case map[string]any:
			out[k] = dropUnset(x)
		default:
			out[k] = v
		}
	}
	return out
}

// normalizeValue turns a Go value into its encoding/json form ([]string
// into []any, ints into float64, ...).
func normalizeValue(v any) any {
	switch v.(type) {
	case string, bool, float64, nil:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

func normalize(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out, _ := normalizeValue(m).(map[string]any)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
