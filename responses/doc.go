// Package responses exports a flow's responses (its completions, as
// waflow.CompletionStore keeps them) as CSV, JSON Lines or a JSON array,
// one completion at a time: memory does not grow with their number.
//
// # CSV
//
// One row per completion and one column per field, in this order:
//
//   - the fixed columns FixedColumns: received_at (RFC 3339, UTC), message_id
//     (the wamid of the reply), wa_id (the user's phone number), user_id
//     (the business-scoped user id, when Meta sent it) and status (recorded,
//     handled, failed or rejected);
//   - the flow's fields: the keys of the payloads of its complete actions,
//     in Flow JSON order (Fields), or, for a flow whose completion carries
//     its data endpoint's parameters, the keys the responses hold
//     (DiscoverFields);
//   - "extra": the keys of a response that are not among the fields, as a
//     JSON object (empty when there are none).
//
// flow_token is never exported: the completion's token_id says which token
// it used. A string value is written as it is, a number or boolean as JSON
// writes it, null as an empty cell, and an array or object as compact JSON.
// Every cell is escaped against spreadsheet formula injection (Neutralize).
//
// # JSON Lines and JSON
//
// One object per completion, with the keys message_id, flow, token_id,
// wa_id, user_id, context_id, status, result, received_at, completed_at,
// handled_at (null until handled) and response (response_json without
// flow_token). JSON Lines writes one per line; JSON writes an array.
package responses
