// Package catalog holds waflow's ready-made flows, the six of the seed
// document in its priority order: Appointment Booking, Expense Entry,
// Feedback Survey, Calendar Preferences, Budget Setup and Multi-day Schedule.
//
// Each flow is a Flow JSON file embedded in the binary (flows/NAME.json,
// Flow JSON 7.3; the endpoint flows use Data API 4.0), validated with
// package flowjson when the catalog loads (a catalog with an error does not
// load), and, for the flows that use the data endpoint, an [endpoint.Flow]
// with its handlers. Every flow has a completion handler for the nfm_reply
// webhook. Submitted values are checked against the screen they come from
// (flowjson's value validation) before any handler sees them: a value the
// screen could not have produced is answered with that screen again, the
// problem shown on the field, and nothing is stored.
//
// What a business changes without touching code (opening hours, expense
// categories, currencies, ...) lives in [Settings], read from one JSON file
// whose documented defaults are settings.default.json.
package catalog
