package simulator

import (
	"fmt"
	"sort"
	"strings"

	"github.com/waflow/waflow/flowjson"
)

// The rules an answer is checked against. The first group is what the
// WhatsApp client itself rejects (protocol.md 2.4, 2.7; the names follow
// the error types of protocol.md 3.4 where Meta has one); the rest are the
// stricter checks of the simulator.
const (
	// RuleStatus: an HTTP status the client does not accept (not 200, 421
	// or 427).
	RuleStatus = "unexpected-http-status"
	// RuleDecrypt: the answer does not decrypt with the request's AES key
	// and flipped IV, or is not base64.
	RuleDecrypt = "response-decryption-error"
	// RuleDecryptionRefused: 421 again after the key refresh and retry.
	RuleDecryptionRefused = "business-decryption-error"
	// RuleNotJSON: the decrypted answer is not a JSON object.
	RuleNotJSON = "invalid-json"
	// RuleSchema: the answer does not fit the client's response schema: no
	// "screen" string, or "data" not an object.
	RuleSchema = "response-schema-error"
	// RuleUnknownScreen: "screen" names no screen of the flow.
	RuleUnknownScreen = "unknown-screen"
	// RuleTransition: the routing model does not allow the move.
	RuleTransition = "invalid-screen-transition"
	// RuleMissingField: a field of the screen's data model is absent.
	RuleMissingField = "missing-field"
	// RuleUndeclaredField: data holds a field the screen does not declare.
	RuleUndeclaredField = "undeclared-field"
	// RuleWrongType: a field's value does not have the declared type (the
	// type of its __example__).
	RuleWrongType = "wrong-type"
	// RuleFlowToken: a SUCCESS answer without
	// extension_message_response.params.flow_token, or with another token
	// than the session's.
	RuleFlowToken = "missing-flow-token"
	// RuleErrorMessage: data.error_message is not a string.
	RuleErrorMessage = "error-message-type"
	// RulePing: a health check not answered {"data":{"status":"active"}}.
	RulePing = "ping-answer"
	// RuleAck: an error notification not answered
	// {"data":{"acknowledged":true}}.
	RuleAck = "acknowledgement"
)

// metaErrorKey is the error key the WhatsApp client reports in its error
// notification for a rule (protocol.md 2.5, 3.4).
func metaErrorKey(rule string) string {
	switch rule {
	case RuleUnknownScreen, RuleTransition:
		return "INVALID_SCREEN_TRANSITION"
	case RuleDecrypt:
		return "RESPONSE_DECRYPTION_ERROR"
	}
	return "PAYLOAD_SCHEMA_ERROR"
}

// Violation is one thing wrong with an answer.
type Violation struct {
	Rule string `json:"rule"`
	// Pointer locates the problem in the decrypted answer (JSON pointer),
	// when it has a place.
	Pointer string `json:"pointer,omitempty"`
	Message string `json:"message"`
}

// Error formats the violation as "rule at pointer: message".
func (v Violation) Error() string {
	if v.Pointer != "" {
		return v.Rule + " at " + v.Pointer + ": " + v.Message
	}
	return v.Rule + ": " + v.Message
}

// move says what an answer is an answer to, for the transition check.
type move struct {
	action string
	from   string
	// back lists the screens a BACK answer may show: those before the
	// current one in the history.
	back []string
}

// checkScreenAnswer checks the answer to INIT, BACK or data_exchange as the
// WhatsApp client does, and more strictly (see the Rule constants).
func checkScreenAnswer(f *flowjson.Flow, m move, body map[string]any, token string) []Violation {
	var vs []Violation
	add := func(rule, ptr, format string, args ...any) {
		vs = append(vs, Violation{Rule: rule, Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	}
	screen, ok := body["screen"].(string)
	if !ok {
		add(RuleSchema, "/screen", "the answer has no \"screen\" string (it has %s)", keysOf(body))
		return vs
	}
	var data map[string]any
	if raw, present := body["data"]; present {
		if data, ok = raw.(map[string]any); !ok {
			add(RuleSchema, "/data", "\"data\" must be an object, not %s", jsonType(raw))
			return vs
		}
	}
	if em, present := data["error_message"]; present {
		if _, ok := em.(string); !ok {
			add(RuleErrorMessage, "/data/error_message", "error_message must be a string, not %s", jsonType(em))
		}
	}
	if screen == "SUCCESS" {
		if m.action == ActionBack {
			add(RuleTransition, "/screen", "BACK was answered with SUCCESS; it must show the screen the user goes back to")
		}
		return append(vs, checkSuccess(data, token)...)
	}
	s := f.Screen(screen)
	if s == nil {
		add(RuleUnknownScreen, "/screen", "screen %q is not in the flow (screens: %s)", screen, strings.Join(screenIDs(f), ", "))
		return vs
	}
	switch m.action {
	case ActionInit:
		if entries := f.EntryScreens(); !contains(entries, screen) {
			add(RuleTransition, "/screen", "INIT was answered with %q, which is not an entry screen of the routing model (entry: %s)", screen, strings.Join(entries, ", "))
		}
	case ActionBack:
		if !contains(m.back, screen) {
			add(RuleTransition, "/screen", "BACK from %q was answered with %q, which the user did not come from (history: %s)", m.from, screen, strings.Join(m.back, " → "))
		}
	default:
		if !f.CanTransition(m.from, screen) {
			add(RuleTransition, "/screen", "the routing model does not allow %q → %q (%q may go to: %s)", m.from, screen, m.from, routesText(f, m.from))
		}
	}
	return append(vs, checkData(s, data)...)
}

// checkData checks data against the screen's data model and classifies
// each problem by what is wrong.
func checkData(s *flowjson.Screen, data map[string]any) []Violation {
	if data == nil {
		data = map[string]any{}
	}
	var vs []Violation
	for _, p := range flowjson.CheckScreenData(s, data) {
		key := strings.SplitN(strings.TrimPrefix(p.Pointer, "/"), "/", 2)[0]
		rule := RuleWrongType
		_, present := data[key]
		switch {
		case key == "error_message":
			continue // reported on its own
		case !present:
			rule = RuleMissingField
		case s.Field(key) == nil:
			rule = RuleUndeclaredField
		}
		vs = append(vs, Violation{Rule: rule, Pointer: "/data" + p.Pointer, Message: p.Message})
	}
	return vs
}

// checkSuccess checks the completion answer: params.flow_token is required
// and is forwarded to the completion webhook (protocol.md 2.4).
func checkSuccess(data map[string]any, token string) []Violation {
	const ptr = "/data/extension_message_response/params/flow_token"
	emr, ok := data["extension_message_response"].(map[string]any)
	if !ok {
		return []Violation{{Rule: RuleFlowToken, Pointer: "/data/extension_message_response", Message: "a SUCCESS answer needs data.extension_message_response.params with the flow_token"}}
	}
	params, ok := emr["params"].(map[string]any)
	if !ok {
		return []Violation{{Rule: RuleFlowToken, Pointer: "/data/extension_message_response/params", Message: "extension_message_response needs a params object with the flow_token"}}
	}
	got, present := params["flow_token"]
	str, isString := got.(string)
	switch {
	case !present:
		return []Violation{{Rule: RuleFlowToken, Pointer: ptr, Message: "params has no flow_token: the completion webhook could not be matched to the session"}}
	case !isString || str == "":
		return []Violation{{Rule: RuleFlowToken, Pointer: ptr, Message: "params.flow_token must be a non-empty string, not " + jsonType(got)}}
	case token != "" && str != token:
		return []Violation{{Rule: RuleFlowToken, Pointer: ptr, Message: "params.flow_token is not the session's flow token"}}
	}
	return nil
}

// checkPing checks a health-check answer (protocol.md 2.2).
func checkPing(body map[string]any) []Violation {
	d, _ := body["data"].(map[string]any)
	if d == nil || d["status"] != "active" {
		return []Violation{{Rule: RulePing, Pointer: "/data/status", Message: `a ping must be answered {"data":{"status":"active"}}`}}
	}
	return nil
}

// checkAck checks an error notification's acknowledgement (protocol.md 2.5).
func checkAck(body map[string]any) []Violation {
	d, _ := body["data"].(map[string]any)
	if d == nil || d["acknowledged"] != true {
		return []Violation{{Rule: RuleAck, Pointer: "/data/acknowledged", Message: `an error notification must be answered {"data":{"acknowledged":true}}`}}
	}
	return nil
}

func routesText(f *flowjson.Flow, from string) string {
	r := f.Routes()[from]
	if len(r) == 0 {
		return "nowhere but itself and SUCCESS"
	}
	return strings.Join(r, ", ")
}

func screenIDs(f *flowjson.Flow) []string {
	out := make([]string, len(f.Screens))
	for i, s := range f.Screens {
		out[i] = s.ID
	}
	return out
}

func keysOf(m map[string]any) string {
	if len(m) == 0 {
		return "no keys"
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, fmt.Sprintf("%q", k))
	}
	sort.Strings(ks)
	return "keys " + strings.Join(ks, ", ")
}

func jsonType(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", x)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
