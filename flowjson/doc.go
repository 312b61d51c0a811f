// Package flowjson models, validates and uses WhatsApp Flow JSON, versions
// 2.1 to 7.3 (protocol.md section 6).
//
// # Parsing
//
// [Parse] reads a Flow JSON document into a [Flow]: screens, layouts, every
// component of Meta's catalogue with every property, data sources, actions,
// If, Switch and Form. It records the line and column of every value, keeps
// unknown properties (and properties of the wrong JSON type) in each
// struct's Extra instead of dropping them, and [Flow.MarshalJSON] writes
// them all back.
//
// # Validating
//
// [Validate] (or [ValidateSource], which also reports syntax errors) checks
// a flow as Meta's Flow Builder does and reports every problem at once, each
// with Meta's error code where Meta has one (protocol.md 6.8), a message
// that says what to change, a JSON pointer and a line and column:
//
//   - which components, properties and actions exist in which version, and a
//     warning for versions that can no longer publish new flows;
//   - every documented limit: characters, options, components per screen,
//     screens per flow, Footers, EmbeddedLinks, OptIns, Images, pickers;
//   - where each action may be used, and the routing model as a graph
//     (every non-terminal screen listed, every screen connected, an entry
//     screen, no self-routes or backward A ↔ B routes, at most 10 branches,
//     a route either way for every navigate action); a flow without a
//     routing model only needs its screens connected and an entry screen;
//   - where a rule is uncertain (Meta may accept the flow), a warning
//     instead of an error: Meta checks again at upload;
//   - navigate payloads against the next screen's data model, and the data
//     models themselves (type, items, properties, __example__);
//   - every ${data.x}, ${form.x}, ${screen.ID.form.x} and
//     ${screen.ID.data.x} reference, and every nested expression, resolved
//     to a declared field of the right type.
//
// [Problems.Format] prints problems as "file:line:col: CODE: message" and
// [Problems.Report] gives the JSON form used by "waflow validate -json".
//
// # Checking submitted values
//
// The phone enforces a screen's rules, but a request can be forged.
// [Flow.CheckRequest] (for data_exchange requests) and [Flow.CheckCompletion]
// (for completion webhooks) map each submitted key through the payload
// binding of the action that sent it to its component, and check the value
// as the phone would have: required fields, input types, lengths, patterns,
// options of static and dynamic data sources, selection counts, dates and
// date ranges, OptIn. The result names each bad field with a message short
// enough for the component's error-message, and a one-line summary for the
// response's error_message.
//
// Decode the values with [DecodeValues] (numbers kept exact, as
// json.Number), and read a number field's value with [ReadNumber], the
// reader the check itself uses: typed text (what the phone sends) and a
// JSON number read the same, so a handler behind the check never reads a
// value differently from it.
//
// Constraints that come from screen data the caller does not give (a
// dynamic Dropdown's options, sent by the endpoint at runtime) are checked
// for type only and listed in [SubmissionCheck.Unverified]. A flow closed
// by its data endpoint completes with the endpoint's SUCCESS params, which
// [Flow.CheckCompletion] accepts ([SubmissionCheck.ByEndpoint]).
//
// # Checking an endpoint's answer
//
// [Flow.CheckAnswer] checks what a data endpoint answers, before it is
// encrypted: the next screen exists, the routing model allows the move, the
// data has the fields the screen declares with their types, and a SUCCESS
// carries its params' flow_token. Each problem's Code is a Rule constant
// ([RuleTransition], [RuleWrongType], ...). Package endpoint runs it on
// every answer of a flow built from its Flow JSON; a forwarding endpoint
// runs it on the answers it relays.
//
// # Navigating
//
// [Flow.Screen], [Screen.Components], [Screen.Inputs], [Screen.Actions],
// [Flow.Routes], [Flow.EntryScreens], [Flow.CanTransition] and
// [CheckScreenData] serve the endpoint, the webhook worker and the client
// simulator.
package flowjson
