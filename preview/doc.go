// Package preview serves the browser preview of flows at /preview/: a
// phone-sized page that renders each screen the way the WhatsApp client
// does, so a flow can be tried without Meta's web preview, a public URL or a
// registered key.
//
// The page (plain HTML, CSS and one small script, embedded in the binary;
// no build step) renders the screen views of package simulator: every
// component of protocol.md 6.7 with its properties (visible, enabled,
// required, helper text, data sources, init values, error messages), If and
// Switch resolved and dynamic references filled in. What the user enters
// and does goes to the preview's JSON API, which runs it through a
// simulator.Session: the phone's own checks (required fields, character
// limits, patterns, options, dates) block a submission with the messages
// shown on the fields; navigate, complete and update_data run on the
// simulated phone; data_exchange and BACK go encrypted and signed to the
// flow's real data endpoint, and its answer is checked as the client
// checks it, each violation shown next to the phone. The completion payload
// (the response_json of the completion webhook) is shown at the end.
//
// # Routes
//
//	GET  /preview/                          the flows, with links
//	GET  /preview/flow/{name}               the phone page of a flow
//	GET  /preview/api/flows/{name}/source   its Flow JSON
//	POST /preview/api/flows/{name}/start    a new session: INIT, or the first screen with its __example__ data
//	POST /preview/api/flows/{name}/act      an action on a session
//	GET  /preview/static/...                the page's script and style
//
// The session lives in the page: each act request carries the
// simulator.State the previous answer returned, the flow token with its
// token_seal, the values of the shown inputs and the action. The seal is
// an HMAC the preview computes when it issues the token (keyed from the
// secret, or random per process without one): act refuses (403) a token
// without the seal of this preview, so the preview signs and sends only
// the tokens it issued. Requests must be JSON (415
// otherwise) and at most 1 MiB (413); a state that does not fit the flow
// is a 400. Logs name the flow, action, screen, status and duration, never
// values or tokens.
//
// # Signing in
//
// The preview issues real flow tokens and drives the real handlers, so
// outside development it takes a secret (Config.Secret). Every route then
// answers 401 unless the request carries it: once in a page's URL
// (?key=SECRET), which sets a sign-in cookie (Secure, HttpOnly,
// SameSite=Strict, signed with a key derived from the secret, with its
// expiry inside) and redirects to the URL without the key; or as
// "Authorization: Bearer SECRET". Secrets are compared in constant time.
package preview
