//go:build !race

// Package racedetect tells tests whether the race detector is on, so that
// a test whose work is mostly SQLite or cryptography (ten to forty times as
// slow under the detector, which instruments that Go code too) can size its
// loops for it and keep the check it makes.
package racedetect

// Enabled is true when the program was built with the race detector
// (go test -race).
const Enabled = false
