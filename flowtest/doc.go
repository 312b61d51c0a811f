// Package flowtest is the test harness of the WhatsApp client simulator
// (package [github.com/waflow/waflow/simulator]): [NewHarness] serves an
// endpoint.Flow on an httptest server with a key, an app secret and a
// flow-token issuer of its own, as "waflow serve" would, and hands out
// [simulator.Session]s that talk to it over HTTP like WhatsApp does.
//
// It imports testing and net/http/httptest and exists to be imported by
// tests; programs use package simulator.
package flowtest
