package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
)

// Actions the WhatsApp client sends (protocol.md 2.1).
const (
	ActionPing         = "ping"
	ActionInit         = "INIT"
	ActionBack         = "BACK"
	ActionDataExchange = "data_exchange"
)

// Request is a decrypted data-endpoint request, as a handler sees it.
type Request struct {
	Flow      string // the flow this handler serves
	Version   string // the flow's data_api_version, "3.0" or "4.0"
	Action    string // INIT, BACK or data_exchange
	Screen    string // the screen that sent the request; "" on INIT
	FlowToken string
	// Token holds the verified claims of FlowToken.
	Token flowtoken.Claims
	// Data is the raw JSON of the request's data: the resolved payload of
	// the action that fired. It is nil when the request had none or {}.
	// Behind [ReceiveMedia], each media key holds the stored files'
	// descriptions ([StoredFile]) instead of WhatsApp's media values.
	Data json.RawMessage
	// Media holds, behind [ReceiveMedia], the files of the request's
	// PhotoPicker or DocumentPicker, by payload key: downloaded, checked
	// and stored. Nil otherwise.
	Media map[string][]StoredFile
}

// Values decodes Data into a map; an absent Data gives an empty map.
func (r *Request) Values() (map[string]any, error) {
	m := map[string]any{}
	if len(r.Data) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(r.Data, &m); err != nil {
		return nil, fmt.Errorf("request data: %w", err)
	}
	return m, nil
}

// Decode unmarshals Data into v, typically a struct with json tags.
func (r *Request) Decode(v any) error {
	if len(r.Data) == 0 {
		return nil
	}
	return json.Unmarshal(r.Data, v)
}

// Response is a handler's answer: the screen to show and its data. Build it
// with [Next], [ErrorOn] or [Success].
type Response struct {
	Screen string
	// Data is the screen's data: any value that marshals to a JSON object
	// (a map[string]any, a struct with json tags, a pointer to one; a
	// json.RawMessage holding an object, such as a relayed backend's, is
	// sent as it is), or nil for none.
	Data any

	// params are the SUCCESS params of Success, to which the endpoint
	// adds the request's flow token; nil otherwise.
	params map[string]any
	// err is why the data could not be made into a JSON object (ErrorOn
	// and Success build one); the endpoint answers 500.
	err error
}

// Next answers with screen and its data, any value that marshals to a JSON
// object (a map or a struct), or nil. The screen must be reachable from the
// current one in the flow's routing model (or be the current one, to
// refresh it), and data must match its data model: a flow built from its
// Flow JSON ([NewFlowFromJSON]) refuses to send an answer that does not.
func Next(screen string, data any) *Response {
	return &Response{Screen: screen, Data: data}
}

// ErrorOn answers with screen, its data (as for [Next]) and
// data.error_message set to msg: the client shows the screen with msg in a
// snackbar (protocol.md 2.4).
func ErrorOn(screen string, data any, msg string) *Response {
	d, err := object(data)
	if d == nil {
		d = make(map[string]any, 1)
	}
	d["error_message"] = msg
	return &Response{Screen: screen, Data: d, err: err}
}

// Success answers with the SUCCESS screen: the flow closes and the
// completion webhook's response_json carries params (any value that
// marshals to a JSON object, or nil) and the request's flow token, which
// the endpoint adds (protocol.md 2.4).
func Success(params any) *Response {
	p, err := object(params)
	if p == nil {
		p = map[string]any{}
	}
	return &Response{Screen: "SUCCESS", params: p, err: err}
}

// Complete answers with the SUCCESS screen, as [Success] does, with
// flowToken in params.
//
// Deprecated: use Success, which takes the flow token from the request.
func Complete(flowToken string, params any) *Response {
	r := Success(params)
	r.params["flow_token"] = flowToken
	return r
}

// object returns a copy of v as a JSON object: a map[string]any is copied,
// any other value goes through encoding/json. nil gives nil.
func object(v any) (map[string]any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return maps.Clone(v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("answer data: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errNotObject
	}
	return m, nil
}

var errNotObject = errors.New("answer data does not marshal to a JSON object")

// TokenError makes the endpoint answer 427 because the flow token is not
// valid: the client shows Msg (or a generic error when Msg is empty),
// closes the flow and disables the message's button (protocol.md 2.6).
// Token validators return it; a handler that closes the flow for another
// reason returns [Close].
type TokenError struct {
	Msg string // shown to the user
	Err error  // logged, never shown
}

// Error says the token was rejected, with Err's text or Msg.
func (e *TokenError) Error() string {
	if e.Err != nil {
		return "flow token rejected: " + e.Err.Error()
	}
	return "flow token rejected: " + e.Msg
}

// Unwrap returns Err.
func (e *TokenError) Unwrap() error { return e.Err }

// CloseError closes the flow: the endpoint answers 427, the only status
// with which the WhatsApp client closes a flow with a message of the
// business's (protocol.md 2.6, 2.7): it shows Msg (a generic error when
// Msg is empty), closes the flow and disables the message's button, so the
// user needs a new message to start again. Return it (see [Close]) when the
// session cannot continue for a reason of the business: an order already
// placed, an offer withdrawn. To end the flow normally, answer [Success].
type CloseError struct {
	Msg string // shown to the user
	Err error  // logged by kind and type (see Fail), never shown
}

// Close returns a *CloseError that closes the flow showing msg.
func Close(msg string) error { return &CloseError{Msg: msg} }

// Error says the flow was closed, with Err's text or Msg.
func (e *CloseError) Error() string {
	if e.Err != nil {
		return "flow closed: " + e.Err.Error()
	}
	return "flow closed: " + e.Msg
}

// Unwrap returns Err.
func (e *CloseError) Unwrap() error { return e.Err }

// HandlerFunc answers one request.
type HandlerFunc func(ctx context.Context, req *Request) (*Response, error)

// Middleware wraps a handler, e.g. to validate submitted values first.
type Middleware func(HandlerFunc) HandlerFunc

// Notification is an error notification: the client rejected one of our
// answers (protocol.md 2.5).
type Notification struct {
	Key     string // data.error or data.error_key, e.g. "INVALID_SCREEN_TRANSITION"
	Message string // data.error_message
}

// TokenValidator checks a flow token. It returns the token's claims, or an
// error that makes the endpoint answer 427; a *TokenError error chooses the
// message shown.
type TokenValidator interface {
	ValidateToken(ctx context.Context, flow, token string) (flowtoken.Claims, error)
}

// Flow is what one flow registers: its handlers by action and screen, and,
// when built with [NewFlowFromJSON], its Flow JSON.
type Flow struct {
	name       string
	spec       *flowjson.Flow
	handlers   map[route]HandlerFunc
	middleware []Middleware

	// UncheckedAnswers turns off the check of every answer against the
	// Flow JSON (see NewFlowFromJSON).
	UncheckedAnswers bool

	// Tokens, when set, replaces the endpoint's token validator for this flow.
	Tokens TokenValidator
	// OnNotification, when set, is called for every error notification,
	// after it is logged and before it is acknowledged.
	OnNotification func(ctx context.Context, req *Request, n Notification)
}

type route struct{ action, screen string }

// NewFlow returns an empty Flow named name (the {flow} of /flows/{flow}).
func NewFlow(name string) *Flow {
	return &Flow{name: name, handlers: map[route]HandlerFunc{}}
}

// NewFlowFromJSON returns an empty Flow named name that serves the Flow
// JSON spec (parsed and validated with flowjson.ValidateSource). The
// Handler New makes of it
//
//   - reports, when it is made, every request the Flow JSON can send with
//     no handler to take it (a screen with a data_exchange action, a screen
//     with refresh_on_back) and every handler for a screen the Flow JSON
//     does not have ([ErrMissingHandler]);
//   - checks every answer before it is encrypted with
//     [flowjson.Flow.CheckAnswer]: the next screen exists, the routing
//     model allows the move, the data matches what that screen declares, a
//     SUCCESS carries the request's flow token. A wrong answer is never
//     sent: it is logged with the rules it broke (never the values),
//     counted (Observation.AnswerRule) and answered 500, an endpoint
//     failure, as a handler error is. Set UncheckedAnswers to turn it off.
//
// INIT is not required: a flow opened with flow_action navigate never
// sends it.
func NewFlowFromJSON(name string, spec *flowjson.Flow) *Flow {
	f := NewFlow(name)
	f.spec = spec
	return f
}

// Spec returns the Flow JSON the flow was built from, or nil.
func (f *Flow) Spec() *flowjson.Flow { return f.spec }

// Name returns the flow's name.
func (f *Flow) Name() string { return f.name }

// Handle registers h for action on screen. An empty screen matches any
// screen that has no handler of its own.
func (f *Flow) Handle(action, screen string, h HandlerFunc) {
	switch action {
	case ActionInit, ActionBack, ActionDataExchange:
	default:
		panic(fmt.Sprintf("endpoint: Handle: action %q cannot be handled (want INIT, BACK or data_exchange)", action))
	}
	f.handlers[route{action, screen}] = h
}

// HandleInit registers the handler of INIT, sent when the flow opens with
// flow_action data_exchange. It answers the first screen.
func (f *Flow) HandleInit(h HandlerFunc) { f.Handle(ActionInit, "", h) }

// HandleDataExchange registers the handler of data_exchange actions fired on
// screen.
func (f *Flow) HandleDataExchange(screen string, h HandlerFunc) {
	f.Handle(ActionDataExchange, screen, h)
}

// HandleBack registers the handler of BACK from screen (a screen with
// refresh_on_back: true). It answers the screen the user goes back to.
func (f *Flow) HandleBack(screen string, h HandlerFunc) { f.Handle(ActionBack, screen, h) }

// Use adds middleware around every handler of the flow; the first added is
// the outermost.
func (f *Flow) Use(mw ...Middleware) { f.middleware = append(f.middleware, mw...) }

// errNoHandler and errUnknownAction are answered 400.
var (
	errNoHandler     = errors.New("no handler")
	errUnknownAction = errors.New("unknown action")
)

// compile returns the flow's handlers with the middleware applied, so
// dispatch costs one map lookup. The Handler calls it once, in New.
func (f *Flow) compile() map[route]HandlerFunc {
	out := make(map[route]HandlerFunc, len(f.handlers))
	for r, h := range f.handlers {
		for i := len(f.middleware) - 1; i >= 0; i-- {
			h = f.middleware[i](h)
		}
		out[r] = h
	}
	return out
}

// ErrMissingHandler is matched (errors.Is) by the error New returns for a
// flow whose Flow JSON sends a request no handler takes, or that has a
// handler for a screen the Flow JSON does not have.
var ErrMissingHandler = errors.New("missing handler")

// checkHandlers compares the handlers with the requests the Flow JSON can
// send (protocol.md 2.1) and names every one that is missing or unknown.
func (f *Flow) checkHandlers() error {
	has := func(action, screen string) bool {
		_, ok := f.handlers[route{action, screen}]
		if !ok {
			_, ok = f.handlers[route{action, ""}]
		}
		return ok
	}
	var missing []string
	for _, s := range f.spec.Screens {
		for _, a := range s.Actions() {
			if a.Action.Name != flowjson.ActionDataExchange || has(ActionDataExchange, s.ID) {
				continue
			}
			what := a.Component.Type
			if a.Component.Name != "" {
				what += " " + a.Component.Name
			}
			missing = append(missing, fmt.Sprintf("no handler for data_exchange on screen %q (%s of %s sends it)", s.ID, a.Event, what))
			break
		}
		if s.RefreshOnBack != nil && *s.RefreshOnBack && !has(ActionBack, s.ID) {
			missing = append(missing, fmt.Sprintf("no handler for BACK on screen %q (it has refresh_on_back)", s.ID))
		}
	}
	var unknown []string // from a map: sorted, for a stable message
	for r := range f.handlers {
		if r.screen != "" && f.spec.Screen(r.screen) == nil {
			unknown = append(unknown, fmt.Sprintf("a handler for %s on screen %q, which the Flow JSON does not have", r.action, r.screen))
		}
	}
	slices.Sort(unknown)
	missing = append(missing, unknown...)
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("endpoint: flow %q: %w: %s", f.name, ErrMissingHandler, strings.Join(missing, "; "))
}

func lookup(table map[route]HandlerFunc, flow, action, screen string) (HandlerFunc, error) {
	switch action {
	case ActionInit, ActionBack, ActionDataExchange:
	default:
		return nil, fmt.Errorf("%w %q (want ping, INIT, BACK or data_exchange)", errUnknownAction, action)
	}
	h, ok := table[route{action, screen}]
	if !ok {
		h, ok = table[route{action, ""}]
	}
	if !ok {
		if screen == "" {
			return nil, fmt.Errorf("%w for %s in flow %q", errNoHandler, action, flow)
		}
		return nil, fmt.Errorf("%w for %s on screen %q in flow %q", errNoHandler, action, screen, flow)
	}
	return h, nil
}
