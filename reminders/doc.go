// Package reminders is the catalog's assistant: it sends what the catalog's
// flows promise. A reminder before each booking whose user opted in and
// before each session of a multi-day schedule, at the user's lead time
// (Calendar Preferences, or the booking flow's default), in the user's time
// zone; a budget alert when the expenses of a period reach the alert
// threshold or the limit of a category or of the total (Budget Setup); a
// weekly digest of the coming week's bookings and sessions and last week's
// spending.
//
// Every message goes through the outbox (waflow.OutboxStore) under an
// idempotency key naming what it is for ("reminder:booking:BK-7F3K2Q",
// "digest:<user>:2026-12-07", "budget:BU-…:food:2026-12-01:80"): the key is
// the claim. Several replicas may run a [Scheduler] on one database, and one
// may stop at any moment: whichever enqueues a key first stores the one
// message, the others find it there, and the outbox worker sends it once.
// Nothing is kept of a reminder before it is due, so a cancelled booking or
// a changed lead time needs no bookkeeping: each [Scheduler.Tick] works out
// what is due from the records as they are (docs/reminders.md).
//
// A message due while the user's 24-hour customer-service window is open
// (their last message came less than 24 hours ago: the user-initiated
// window of protocol.md §5.1) is free text; outside it, WhatsApp accepts
// only an approved template (§5.2), so it goes as the template the settings
// name, or not at all when none is named.
package reminders
