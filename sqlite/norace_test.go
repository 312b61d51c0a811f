//go:build !race

package sqlite

// raceDetector is true when the tests run under the race detector; see
// race_test.go.
const raceDetector = false

// RaceDetector is raceDetector for the package's external tests.
const RaceDetector = raceDetector
