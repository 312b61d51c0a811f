//go:build race

package racedetect

// Enabled is true when the program was built with the race detector
// (go test -race).
const Enabled = true
