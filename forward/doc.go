// Package forward answers a flow's data-endpoint requests with a backend
// written in any language: each request that has passed the endpoint's
// checks (X-Hub-Signature-256, decryption, the flow token, and the
// submitted values when the flow's value-check middleware is in place) is
// POSTed to the backend's URL as plain JSON ([Request]), signed the
// Standard Webhooks way (package [github.com/waflow/waflow/stdwebhooks]),
// and the backend's answer, the JSON it would give Meta, goes back through
// the endpoint's normal answer path, where it is checked and encrypted.
//
// [NewFlow] builds the *endpoint.Flow: one handler for INIT, BACK and
// data_exchange on every screen. Middleware added with Flow.Use (the
// value check) runs before the forwarder, so the backend never sees a
// submission the screen could not have produced.
//
// The backend answers (docs/forwarding.md has the full contract):
//
//   - 200 with {"screen": ..., "data": {...}}: the next screen, the same
//     screen with data.error_message, or SUCCESS with
//     data.extension_message_response.params (the flow token is added to
//     params when the backend leaves it out);
//   - 427 with {"error_msg": ...} (or an empty body): the flow token is not
//     valid, WhatsApp gets 427 with that message and closes the flow.
//
// Anything else (another status, a body that is not such a JSON object, a
// body over [MaxAnswerBytes], no answer within Config.Timeout, a backend
// that cannot be reached) is a forward failure: the endpoint answers 500,
// the forwarder logs one line that names the failure (never a value), and
// Config.Observe gets an [Observation] with Outcome [OutcomeFailed].
//
// Token policy: by default ([TokensWaflow]) waflow issues and checks flow
// tokens as for any flow, and the backend is told who the user is. With
// [TokensBackend] waflow forwards whatever token arrives, unchecked
// (Request.FlowTokenChecked is false), and the backend's 427 is the only
// verdict.
//
// All forwarders share one http.Client whose Transport keeps connections
// to the backends alive (Config.Client replaces it); redirects are not
// followed, as a signed request must not be resent elsewhere.
package forward
