// Package simulator is a WhatsApp client simulator. It plays a flow's
// screens as the phone does (the phone's own checks, If and Switch,
// navigate, complete and update_data run locally), talks to a flow's data
// endpoint encrypted and signed exactly as WhatsApp does, checks every
// answer as the client does, and more strictly, and builds the signed
// nfm_reply completion webhook the end of a flow sends to the business.
//
// "waflow simulate" (its terminal is package
// [github.com/waflow/waflow/simulator/term]), the browser preview
// ([github.com/waflow/waflow/preview]) and "waflow bench -mode step" are
// built on it. Go tests use it through package
// [github.com/waflow/waflow/flowtest], which serves an endpoint on an
// httptest server and hands out sessions for it; this package imports
// neither testing nor httptest, so the binaries that link it do not link
// them either.
//
// # Transport
//
// A [Client] is configured with the Flow JSON, the endpoint (a URL or an
// in-process http.Handler), the endpoint's public key, the app secret and
// the flow token. For each request it generates a fresh AES-128 key and
// 16-byte IV, encrypts the request, wraps the key with RSA-OAEP, signs the
// body with the app secret (X-Hub-Signature-256), adds the Data API 4.0
// flow_token_signature where the client does, sends it, and decrypts the
// answer with the flipped IV (protocol.md 1). A 421 makes it refresh the key
// ([Config.RefreshKey]) and retry once, as WhatsApp does; a 427 closes the
// flow with the endpoint's error_msg.
//
// # Sessions
//
// A [Session] plays one user. [Session.Start] sends INIT (or opens the
// first screen of a flow without an endpoint, [Session.StartAt] with
// flow_action_payload data); [Session.Set] and [Session.Fill] enter values;
// [Session.Submit] presses the Footer, after the phone's own checks
// (required fields, character limits, input types, patterns, options,
// dates), which block the submission with [Step.Blocked] when they fail;
// [Session.Select] runs an on-select-action, [Session.Fire] any action,
// [Session.Back] the back button (BACK to the endpoint on a refresh_on_back
// screen), [Session.Ping] a health check and [Session.NotifyError] an
// error notification. navigate, complete and update_data run on the phone,
// with ${form.x}, ${data.x}, ${screen.ID.form.x}, ${screen.ID.data.x} and
// nested expressions resolved; If and Switch decide which inputs are shown.
// [Session.View] renders the current screen; [Session.DeliverCompletion]
// sends the resulting signed nfm_reply webhook to a receiver.
//
// Each action returns a [Step]: what was sent, what came back, the latency
// of the round trip, and the [Violation]s of the answer. An answer the
// client rejects leaves the session where it was.
//
// # Checks
//
// Every answer to INIT, BACK and data_exchange is checked for: an HTTP
// status the client understands, a body that decrypts with the request's
// key and flipped IV into a JSON object with a "screen" ([RuleStatus],
// [RuleDecrypt], [RuleNotJSON], [RuleSchema]); a screen that exists
// ([RuleUnknownScreen]) and that the routing model allows from where the
// user is — an entry screen for INIT, a screen the user came from for BACK
// ([RuleTransition]); data that matches the target screen's data model,
// types taken from __example__, nothing missing, nothing undeclared
// ([RuleMissingField], [RuleUndeclaredField], [RuleWrongType]); a SUCCESS
// that carries extension_message_response.params.flow_token with the
// session's token ([RuleFlowToken]); an error_message that is a string
// ([RuleErrorMessage]). Pings and error notifications must be answered as
// protocol.md 2.2 and 2.5 say ([RulePing], [RuleAck]).
//
// # Scenarios
//
// A [Scenario] is a JSON file of steps: the values to enter on each screen
// ("$first" and "$last" pick an option, a free date or a range), what to do
// (submit, back, ping, error, select:NAME, fire:N) and what each step must
// bring. [Play] runs it and returns a [Report].
package simulator
