package flowjson

import (
	"fmt"
	"strings"
)

// Checking an endpoint's answer before it is sent: what the WhatsApp client
// would reject (protocol.md 2.4, 6.6), and the rules the client simulator
// holds answers to. A wrong answer reaches WhatsApp as an error
// notification and degrades the flow's health (protocol.md 3.3), so the
// data endpoint (package endpoint) and a forwarding endpoint, which relays
// a backend's answer, both run this check and send an endpoint failure
// instead.

// Rules an answer can break: the Code of each [Problem] CheckAnswer
// returns. The names follow the simulator's (and, where the client has one,
// the error type of protocol.md 3.4); they are fixed, for metric labels.
const (
	// RuleAnswerSchema: the answer is not a JSON object with a "screen"
	// string and, when present, a "data" object.
	RuleAnswerSchema = "response-schema-error"
	// RuleUnknownScreen: "screen" names no screen of the flow.
	RuleUnknownScreen = "unknown-screen"
	// RuleTransition: the routing model does not allow the move.
	RuleTransition = "invalid-screen-transition"
	// RuleMissingField: a field of the screen's data model is absent.
	RuleMissingField = "missing-field"
	// RuleUndeclaredField: data holds a field the screen does not declare.
	RuleUndeclaredField = "undeclared-field"
	// RuleWrongType: a field's value does not have the declared type.
	RuleWrongType = "wrong-type"
	// RuleErrorMessage: data.error_message is not a string.
	RuleErrorMessage = "error-message-type"
	// RuleSuccessParams: a SUCCESS answer without
	// data.extension_message_response.params.flow_token, or with another
	// token than the request's.
	RuleSuccessParams = "missing-flow-token"
)

// AnswerRules lists every rule CheckAnswer reports, for metric labels.
var AnswerRules = []string{RuleAnswerSchema, RuleUnknownScreen, RuleTransition, RuleMissingField,
	RuleUndeclaredField, RuleWrongType, RuleErrorMessage, RuleSuccessParams}

// AnswerTo is the request an answer answers.
type AnswerTo struct {
	// Action is "INIT", "BACK" or "data_exchange".
	Action string
	// Screen is the request's screen: the one that fired data_exchange,
	// the one BACK was pressed on; "" for INIT.
	Screen string
	// FlowToken, when set, is the token a SUCCESS answer must carry in
	// its params.
	FlowToken string
}

// CheckAnswer checks an endpoint's decrypted answer, the JSON object
// {"screen": ..., "data": ...}, to the request to, before it is encrypted
// and sent:
//
//   - it is an object with a "screen" string and, when present, a "data"
//     object; data.error_message, when present, is a string;
//   - SUCCESS carries data.extension_message_response.params.flow_token
//     (the request's token when to.FlowToken is set), and does not answer
//     BACK;
//   - any other screen exists, and the move is allowed: for INIT an entry
//     screen of the routing model, for BACK a screen linked to the
//     request's screen by a route either way (or that screen again), for
//     data_exchange a route of the routing model or the same screen
//     ([Flow.CanTransition]);
//   - data has every field the screen's data model declares, with its
//     declared type, and no other (error_message aside).
//
// Each problem's Code is one of the Rule constants and its Pointer points
// into the answer ("/screen", "/data/price"). Messages name screens and
// fields, never values: the data may be personal. The forwarding endpoint
// and package endpoint use this one check.
func (f *Flow) CheckAnswer(to AnswerTo, answer []byte) Problems {
	v, err := ParseValue(answer)
	if err != nil {
		return Problems{answerProblem(RuleAnswerSchema, "", "the answer is not JSON")}
	}
	return f.CheckAnswerValue(to, v)
}

// CheckAnswerValue is [Flow.CheckAnswer] for an answer already parsed.
func (f *Flow) CheckAnswerValue(to AnswerTo, answer *Value) Problems {
	if answer == nil || answer.Kind != Object {
		return Problems{answerProblem(RuleAnswerSchema, "", "the answer must be a JSON object")}
	}
	sv := answer.Get("screen")
	if sv == nil || sv.Kind != String {
		return Problems{answerProblem(RuleAnswerSchema, "/screen", "the answer has no \"screen\" string")}
	}
	screen := sv.Str
	data := answer.Get("data")
	if data != nil && data.Kind != Object {
		return Problems{answerProblem(RuleAnswerSchema, "/data", "\"data\" must be an object, not %s", data.Kind)}
	}
	var ps Problems
	if em := data.Get("error_message"); em != nil && em.Kind != String {
		ps = append(ps, answerProblem(RuleErrorMessage, "/data/error_message", "error_message must be a string, not %s", em.Kind))
	}
	if screen == "SUCCESS" {
		if to.Action == "BACK" {
			ps = append(ps, answerProblem(RuleTransition, "/screen", "BACK was answered with SUCCESS; it must show the screen the user goes back to"))
		}
		return append(ps, checkSuccess(data, to.FlowToken)...)
	}
	s := f.Screen(screen)
	if s == nil {
		return append(ps, answerProblem(RuleUnknownScreen, "/screen", "screen %q is not in the flow (screens: %s)", screen, strings.Join(f.screenIDs(), ", ")))
	}
	switch to.Action {
	case "INIT":
		if entries := f.EntryScreens(); !contains(entries, screen) {
			ps = append(ps, answerProblem(RuleTransition, "/screen", "INIT was answered with %q, which is not an entry screen of the routing model (entry: %s)", screen, strings.Join(entries, ", ")))
		}
	case "BACK":
		if !f.linked(to.Screen, screen) {
			ps = append(ps, answerProblem(RuleTransition, "/screen", "BACK from %q was answered with %q, which no route links to it", to.Screen, screen))
		}
	default:
		if !f.CanTransition(to.Screen, screen) {
			ps = append(ps, answerProblem(RuleTransition, "/screen", "the routing model does not allow %q → %q (%q may go to: %s)", to.Screen, screen, to.Screen, f.routesText(to.Screen)))
		}
	}
	return append(ps, checkAnswerData(s, data)...)
}

func answerProblem(rule, ptr, format string, args ...any) Problem {
	return Problem{Severity: SeverityError, Code: rule, Pointer: ptr, Message: fmt.Sprintf(format, args...)}
}

// linked reports whether a BACK from screen from may show screen to: the
// same screen, or one a route links to it either way (the user came from
// a screen that navigated to from, and a navigate action needs a route
// one way or the other, protocol.md 6.6).
func (f *Flow) linked(from, to string) bool {
	if from == to {
		return true
	}
	routes := f.Routes()
	return contains(routes[to], from) || contains(routes[from], to)
}

func (f *Flow) routesText(from string) string {
	r := f.Routes()[from]
	if len(r) == 0 {
		return "nowhere but itself and SUCCESS"
	}
	return strings.Join(r, ", ")
}

func (f *Flow) screenIDs() []string {
	out := make([]string, len(f.Screens))
	for i, s := range f.Screens {
		out[i] = s.ID
	}
	return out
}

// checkAnswerData checks an answer's data (nil when absent) against the
// screen's data model, as CheckScreenData does, with each problem's rule.
func checkAnswerData(s *Screen, data *Value) Problems {
	var ps Problems
	for _, f := range s.Data {
		ptr := "/data" + ptrKey("", f.Name)
		x := data.Get(f.Name)
		if x == nil {
			ps = append(ps, answerProblem(RuleMissingField, ptr, "screen %q declares %q in its data model, but the answer's data does not have it", s.ID, f.Name))
			continue
		}
		if msg := matchSchema(x, f.Schema, f.Name, nil); msg != "" {
			ps = append(ps, answerProblem(RuleWrongType, ptr, "%s (screen %q)", msg, s.ID))
		}
	}
	if data != nil {
		for _, m := range data.Members {
			if m.Key == "error_message" || s.Data.Field(m.Key) != nil {
				continue
			}
			ps = append(ps, answerProblem(RuleUndeclaredField, "/data"+ptrKey("", m.Key), "%q is not in the data model of screen %q; declare it there or do not send it", m.Key, s.ID))
		}
	}
	return ps
}

// checkSuccess checks the completion answer: params.flow_token is required
// and is forwarded to the completion webhook (protocol.md 2.4).
func checkSuccess(data *Value, token string) Problems {
	const ptr = "/data/extension_message_response/params/flow_token"
	emr := data.Get("extension_message_response")
	if emr == nil || emr.Kind != Object {
		return Problems{answerProblem(RuleSuccessParams, "/data/extension_message_response", "a SUCCESS answer needs data.extension_message_response.params with the flow_token")}
	}
	params := emr.Get("params")
	if params == nil || params.Kind != Object {
		return Problems{answerProblem(RuleSuccessParams, "/data/extension_message_response/params", "extension_message_response needs a params object with the flow_token")}
	}
	got := params.Get("flow_token")
	switch {
	case got == nil:
		return Problems{answerProblem(RuleSuccessParams, ptr, "params has no flow_token: the completion webhook could not be matched to the session")}
	case got.Kind != String || got.Str == "":
		return Problems{answerProblem(RuleSuccessParams, ptr, "params.flow_token must be a non-empty string, not %s", got.Kind)}
	case token != "" && got.Str != token:
		return Problems{answerProblem(RuleSuccessParams, ptr, "params.flow_token is not the request's flow token")}
	}
	return nil
}
