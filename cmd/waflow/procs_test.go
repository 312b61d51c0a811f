package main

import (
	"runtime"
	"testing"

	"github.com/waflow/waflow/envelope"
)

func TestSpareProcessor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	cores := decryptionCores()
	want := cores + 1 // one P free to poll the network
	if envelope.Backend == "openssl" {
		want = 2 * cores // one spare P per thread in C
	}
	dec, procs := spareProcessor(func(string) string { return "" })
	if dec != cores || procs != want || runtime.GOMAXPROCS(0) != want {
		t.Fatalf("default: %d decryptions, GOMAXPROCS %d (runtime %d); want %d and %d", dec, procs, runtime.GOMAXPROCS(0), cores, want)
	}
	// Serving twice in one process (the tests do) must not add a P each time.
	if dec, procs = spareProcessor(func(string) string { return "" }); dec != cores || procs != want {
		t.Fatalf("second call: %d decryptions, GOMAXPROCS %d", dec, procs)
	}
	// An explicit GOMAXPROCS is the operator's choice: left alone, and
	// decryptions stay within it.
	runtime.GOMAXPROCS(1)
	env := func(k string) string {
		if k == "GOMAXPROCS" {
			return "1"
		}
		return ""
	}
	if dec, procs = spareProcessor(env); dec != 1 || procs != 1 || runtime.GOMAXPROCS(0) != 1 {
		t.Fatalf("GOMAXPROCS=1: %d decryptions, GOMAXPROCS %d (runtime %d); want 1 and 1", dec, procs, runtime.GOMAXPROCS(0))
	}
}
