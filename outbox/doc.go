// Package outbox sends the messages waflow decides to send on its own (the
// confirmation after a booking, for example) through the WhatsApp Cloud API.
//
// A producer stores the message first, with [waflow.OutboxStore.Enqueue] and
// an idempotency key, in the same place where it decided to send it; the
// [Worker] sends it from there. A message is therefore never lost when the
// process stops, and never sent twice:
//
//   - The worker claims one message at a time under a lease
//     ([waflow.OutboxStore.ClaimOutbox]), posts its stored body with
//     [graph.Client.SendEncoded] and records the wamid with
//     [waflow.OutboxStore.MarkSent], which also records it on the message's
//     flow token so that a completion without a flow_token correlates by its
//     context.id (protocol.md 4.2).
//   - Meta has no idempotency key, so a send that may have reached Meta is
//     never repeated. An answer that leaves the outcome unknown (a 5xx, a
//     timeout, a connection lost after the request was written: the graph
//     client wraps [graph.ErrOutcomeUnknown]) settles the message as
//     [waflow.OutboxUnknown] ([waflow.OutboxStore.MarkUnknown]), a final
//     state of its own: never claimed again, check the conversation.
//   - Every settled attempt writes its number in LastError ("attempt 3: ...").
//     When a claimed message shows an earlier attempt that never settled, the
//     process that held it stopped or lost its lease while it may have been
//     sending: the message is settled as unknown rather than sent again.
//     This is what makes a restart safe even after SIGKILL.
//   - Temporary failures ([graph.IsTemporary]: 429, a THROTTLED flow, a
//     network error before the request was written) are retried later with
//     exponential backoff and jitter, honouring Retry-After, up to
//     Config.MaxAttempts. Meta's other refusals (4xx) settle the message as
//     dead at once, with Meta's error, codes and fbtrace_id in LastError.
//   - An invalid or expired access token (code 190) fails every message the
//     same way, so the worker keeps the message, pauses all sending for
//     Config.AuthPause and logs what to do; messages are not used up while
//     the token is being replaced.
//
// On shutdown the worker finishes the send in flight (it is never cancelled
// half-way, which would make its outcome unknown) and stops claiming.
//
// The worker logs message ids, idempotency keys, attempts and Graph error
// codes; never a recipient, a body or a flow token.
package outbox
