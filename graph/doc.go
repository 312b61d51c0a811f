// Package graph is a typed client for the parts of the WhatsApp Cloud API
// (Meta's Graph API) that a WhatsApp Flows backend needs (protocol.md
// sections 1.6, 3.3 and 5):
//
//   - messages: [FlowMessage] (the interactive flow message),
//     [TemplateMessage] with a flow button, and [TextMessage], sent with
//     [Client.Send];
//   - flows: [Client.CreateFlow], [Client.GetFlow] (with validation_errors,
//     preview and health_status), [Client.ListFlows], [Client.FindFlowByName],
//     [Client.UpdateFlow] (endpoint_uri among others), [Client.UploadFlowJSON],
//     [Client.FlowAssets] and [Client.DownloadFlowJSON], [Client.PublishFlow], [Client.DeprecateFlow], [Client.DeleteFlow],
//     [Client.FlowPreview] and [Client.FlowMetrics];
//   - media: [Client.GetMedia] and [Client.DownloadMedia], which checks the
//     file's SHA-256 (the media of flow completions, protocol.md §2.9);
//   - the business public key of a phone number: [Client.SetBusinessPublicKey]
//     and [Client.BusinessPublicKey] with its signature status.
//
// Requests go to {BaseURL}/{Version}/... with the access token as
// "Authorization: Bearer". The token is never logged and never appears in
// an error.
//
// # Errors
//
// An error answer of the Graph API is an [*Error] carrying the code, subcode,
// type, message, user title and message, details and fbtrace_id; the codes
// that matter to flows are named ([CodeFlowThrottled], [CodeFlowPublish], ...)
// and tested with helpers such as [IsThrottled]. Operations wrap it with what
// they were doing, so errors.As finds it. Requests refused before sending wrap
// [ErrInvalidRequest] or [ErrInvalidID].
//
// # Retries
//
// A request is retried, with exponential backoff and jitter ([RetryPolicy]),
// after a 429, a 5xx or a network error, including a per-attempt timeout;
// never after another 4xx, which would fail the same way again. A Retry-After
// header is honoured; one longer than the policy's MaxDelay ends the retries
// and is reported in [Error.RetryAfter] so that a worker can come back later.
// Cancelling the context stops everything at once.
//
// Some requests are not safe to repeat, and Meta offers no idempotency key:
// sending a message (the user would get it twice), creating a flow (the
// second attempt fails with "name not unique" although the first worked),
// publishing, deprecating and deleting (a repeat fails where the first
// succeeded). These are retried only when Meta cannot have acted on them:
// after a 429 (refused by rate limiting) or a connection error that happened
// before the request was fully written. After a 5xx, a timeout or a
// connection lost once the request was written, they fail at once with an
// error wrapping [ErrOutcomeUnknown]: the message may have been sent. We
// chose a missed retry over a duplicate message: the caller (the outbox)
// knows whether it can check, and can record the message as uncertain rather
// than send it again blindly. Reads, metadata updates, asset uploads and
// public-key uploads set a state and are retried on every retryable failure.
package graph
