// Package endpoint answers WhatsApp Flows data-endpoint requests: the
// encrypted POSTs the WhatsApp client sends (through Meta) when a flow opens
// with data_exchange (INIT), when a screen submits a data_exchange action,
// when the user goes back from a refresh_on_back screen (BACK), for health
// checks (ping) and to report a bad answer (error notifications).
//
// One [Handler] serves one flow, mounted at the flow's endpoint_uri (waflow
// uses POST /flows/{flow}). Each request goes through these steps, in this
// order, each with the status WhatsApp expects (protocol.md sections 1 to 3):
//
//  1. body limit (1 MiB): 413;
//  2. X-Hub-Signature-256 over the raw body: 432 with an empty body;
//  3. envelope parse: 400;
//  4. RSA-OAEP + AES-GCM decrypt: 421 (the client refreshes the key, retries);
//  5. ping: {"data":{"status":"active"}}, before anything else;
//  6. error notification (data.error, data.error_key or data.error_message):
//     logged, the flow's OnNotification hook called,
//     {"data":{"acknowledged":true}};
//  7. flow token (and the Data API 4.0 flow_token_signature, checked with
//     the app secrets of Config.Signatures): 427 with an encrypted
//     {"error_msg": ...};
//  8. dispatch by action and screen to the flow's [HandlerFunc], with panics
//     recovered (500);
//  9. the answer, encrypted with the request's key and flipped IV, as
//     text/plain.
//
// One deadline (Config.Timeout, 3 s by default) covers steps 6 to 8: the
// token validator, the hook and the handler each run in a goroutine the
// request stops waiting for at the deadline, so even one that ignores its
// context cannot hold the answer (504; a notification is acknowledged).
//
// Handlers build answers with [Next], [ErrorOn] and [Complete], and return a
// [TokenError] to close the flow with a message (427). An error a handler
// returns is never logged by its text, which may quote what the user
// submitted: the log gets the kinds given to [Fail] in its chain, the
// well-known sentinels it wraps (waflow.ErrNotFound, ...) and its Go types.
package endpoint
