// Package endpoint answers WhatsApp Flows data-endpoint requests: the
// encrypted POSTs the WhatsApp client sends (through Meta) when a flow opens
// with data_exchange (INIT), when a screen submits a data_exchange action,
// when the user goes back from a refresh_on_back screen (BACK), for health
// checks (ping) and to report a bad answer (error notifications).
//
// A flow is served from its Flow JSON (see the package example):
//
//	spec, problems := flowjson.ValidateSource(src)      // the Flow JSON
//	flow := endpoint.NewFlowFromJSON("order", spec)
//	flow.Use(endpoint.CheckValues(endpoint.ValueCheck{Spec: spec}))
//	flow.HandleInit(func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
//		return endpoint.Next("PICK", map[string]any{"products": products}), nil
//	})
//	flow.HandleDataExchange("PICK", ...)                 // one per screen that sends data_exchange
//	h, err := endpoint.New(cfg, flow)                    // an http.Handler for POST /flows/order
//
// New fails when a request the Flow JSON can send has no handler
// ([ErrMissingHandler]), and the [Handler] checks every answer against the
// Flow JSON before it is encrypted (see [NewFlowFromJSON]).
//
// One [Handler] serves one flow, mounted at the flow's endpoint_uri (waflow
// uses POST /flows/{flow}). Each request goes through these steps, in this
// order, each with the status WhatsApp expects (protocol.md sections 1 to
// 3):
//
//  1. body limit (1 MiB): 413;
//  2. X-Hub-Signature-256 over the raw body: 432 with an empty body;
//  3. envelope parse: 400;
//  4. RSA-OAEP + AES-GCM decrypt: 421 (the client refreshes the key, retries);
//  5. ping: {"data":{"status":"active"}}, before anything else;
//  6. error notification (data.error, data.error_key or data.error_message):
//     logged, the flow's OnNotification hook called,
//     {"data":{"acknowledged":true}};
//  7. flow token: 427 with an encrypted {"error_msg": ...}; and the Data
//     API 4.0 flow_token_signature, checked with the app secrets of
//     Config.Signatures (any string claim may hold the token, each new
//     set of claim names is logged once): one that is missing or does not
//     verify is observed and logged, and answered 427 only under
//     Config.RequireTokenSignature;
//  8. dispatch by action and screen to the flow's [HandlerFunc], with panics
//     recovered (500);
//  9. for a flow built from its Flow JSON, the answer checked against the
//     routing and data models (flowjson.Flow.CheckAnswer): 500 when it
//     breaks them, never sent;
//  10. the answer, encrypted with the request's key and flipped IV, as
//     text/plain.
//
// One deadline (Config.Timeout, 3 s by default) covers steps 6 to 8: the
// token validator, the hook and the handler each run in a goroutine the
// request stops waiting for at the deadline, so even one that ignores its
// context cannot hold the answer (504; a notification is acknowledged).
//
// Handlers build answers with [Next], [ErrorOn] and [Success], whose data
// is any value that marshals to a JSON object (a map or a struct), and
// return [Close] to close the flow with a message (427, the one way the
// client closes a flow for the business). A token validator returns a
// [TokenError]. An error a handler returns is never logged by its text,
// which may quote what the user submitted: the log gets the kinds given to
// [Fail] in its chain, the well-known sentinels it wraps
// (waflow.ErrNotFound, ...) and its Go types.
//
// Middleware stands between the dispatch and a flow's handlers:
// [CheckValues] checks submitted values against the screen that sent them,
// and [ReceiveMedia] receives the files of a PhotoPicker or DocumentPicker
// (protocol.md §2.9): fetched concurrently under one deadline with the
// component's rules, stored through a media.Store only when all pass,
// handed to the handler in Request.Media; a refused file shows its screen
// again with the component's per-file error-message.
package endpoint
