//go:build race

package sqlite

// raceDetector is true when the tests run under the race detector
// (go test -race), which makes SQLite's work ten to forty times as slow:
// tests size their loops by it.
const raceDetector = true

// RaceDetector is raceDetector for the package's external tests.
const RaceDetector = raceDetector
