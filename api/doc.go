// Package api is waflow's authenticated HTTP API, under /api/v1/: the flows
// a server runs, the responses (completions) it keeps, and sending a flow
// message through the outbox. Its OpenAPI 3.1 document, OpenAPI, is served
// at /api/v1/openapi.json; docs/api.md shows it in use.
//
// # Keys and scopes
//
// Every request but the OpenAPI document's (which describes the API and
// holds no data) needs a key: Authorization: Bearer wfk_<id>_<secret>. The
// id finds the key (waflow.APIKeyStore); the secret is compared, in
// constant time, with the SHA-256 hash that is all the store keeps of it.
// NewKey and CreateKey make keys, RevokeKey revokes them (waflow apikeys).
// A key has scopes: read (GET routes) and send (POST .../send). A key's
// last use is written at most once per TouchInterval.
//
// The API fails closed: New refuses to build without a key store, and
// without a valid key every route, known or not, answers 401.
//
// # Errors
//
// Every error is JSON, {"error": {"code": "...", "message": "..."}}
// (httperr.CodedJSON): 400 (bad_filter, bad_cursor, bad_request), 401
// (no key, an unknown, malformed or revoked key), 403 (the key lacks the
// route's scope), 404, 405 (with Allow), 413 (a body over MaxSendBody), 429
// (past the key's token bucket, with Retry-After; each process counts its
// own) and 503 (the database does not answer, sending is not configured).
//
// # Pagination
//
// GET /api/v1/flows/{name}/responses answers a page, oldest first, and
// next_cursor: the key of the page's last response (received_at,
// message_id), authenticated with HMAC-SHA256 together with the flow and
// the filters (since, until, status). A cursor that was altered, or is used
// with another flow or other filters, is answered 400 bad_cursor; the
// store resumes right after the key, reading only the page
// (waflow.CompletionRange.After and Limit).
//
// # More routes
//
// Another package can serve its own routes behind the same keys: Mount
// registers a handler for a pattern under /api/v1/ with the scope it
// needs. The handler runs only for a valid key with that scope, within its
// rate limit, and should answer errors with httperr.Write in the
// httperr.CodedJSON format. Mount before the server starts.
package api
