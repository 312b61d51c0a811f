// Package console is waflow's console in the browser, served by "waflow
// serve" at /console/ (docs/console.md): sign-in with accounts whose
// passwords are argon2id hashes, sessions kept in the database so that
// every replica knows them, a CSRF token on every form and rate-limited
// sign-ins; an overview of each flow's data endpoint drawn from per-minute
// figures every replica adds up (Recorder); the flows; the answers
// (completions) with the CSV export of package responses; the appointment
// booking's calendar, where a booking can be cancelled; and the outbox.
//
// Pages are rendered on the server with html/template and charts are SVG
// drawn on the server, so the console runs no script and its
// Content-Security-Policy allows nothing but its own origin. The package
// reads no environment: Config says everything.
package console
