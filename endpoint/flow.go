package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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
	Data json.RawMessage
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

// Response is a handler's answer: the screen to show and its data.
type Response struct {
	Screen string
	Data   map[string]any
}

// Next answers with screen and its data. The screen must be reachable from
// the current one in the flow's routing model (or be the current one, to
// refresh it), and data must match its data model.
func Next(screen string, data map[string]any) *Response {
	return &Response{Screen: screen, Data: data}
}

// ErrorOn answers with screen, its data and data.error_message set to msg:
// the client shows the screen with msg in a snackbar (protocol.md 2.4).
func ErrorOn(screen string, data map[string]any, msg string) *Response {
	d := make(map[string]any, len(data)+1)
	for k, v := range data {
		d[k] = v
	}
	d["error_message"] = msg
	return &Response{Screen: screen, Data: d}
}

// Complete answers with the SUCCESS screen: the flow closes and the
// completion webhook carries params and flowToken in its response_json.
func Complete(flowToken string, params map[string]any) *Response {
	p := make(map[string]any, len(params)+1)
	for k, v := range params {
		p[k] = v
	}
	p["flow_token"] = flowToken
	return &Response{Screen: "SUCCESS", Data: map[string]any{
		"extension_message_response": map[string]any{"params": p},
	}}
}

// TokenError makes the endpoint answer 427: the client shows Msg (or a
// generic error when Msg is empty), closes the flow and disables the
// message's button (protocol.md 2.6). Return it from a handler when the
// session cannot continue, e.g. an order that was already placed.
type TokenError struct {
	Msg string // shown to the user
	Err error  // logged, never shown
}

func (e *TokenError) Error() string {
	if e.Err != nil {
		return "flow token rejected: " + e.Err.Error()
	}
	return "flow token rejected: " + e.Msg
}

func (e *TokenError) Unwrap() error { return e.Err }

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

// Flow is what one flow registers: its handlers by action and screen.
type Flow struct {
	name       string
	handlers   map[route]HandlerFunc
	middleware []Middleware

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
