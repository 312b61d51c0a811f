package main

import (
	"runtime"
	"strconv"
	"sync"

	"github.com/waflow/waflow/envelope"
)

// decryptionCores is how many RSA decryptions serve runs at once: the
// runtime's default GOMAXPROCS (the CPUs this process may use, container
// limits included), read once before serve changes it.
var decryptionCores = sync.OnceValue(func() int {
	return min(runtime.GOMAXPROCS(0), runtime.NumCPU())
})

// spareProcessor gives the Go runtime more Ps than the cores the RSA
// decryptions may use, unless the GOMAXPROCS variable says otherwise, and
// returns the number of decryptions to run at once and the GOMAXPROCS now
// in force.
//
// Pure Go: when every core decrypts in a goroutine no P is idle, and the
// scheduler polls the network only when its run queues are empty, so new
// requests are read in bursts rather than in arrival order and the latency
// tail grows. One P more than decryption slots keeps one free to poll:
// docs/performance.md ("The tail") measured p99/p50 at 8 clients on 2 cores
// falling from about 6.5 to 2.5.
//
// OpenSSL: a decryption is a cgo call of a few hundred microseconds, during
// which its P sits in the syscall state. The runtime's monitor takes such a
// P away (and wakes another thread to run it) unless an idle P is around,
// and the decrypting thread must then find a P again when C returns. One
// spare P per decryption slot avoids that hand-off: about 4% more
// throughput and 15 µs less CPU per request at 8 clients on 2 cores. (Only
// measured on 2 cores: on a large machine set GOMAXPROCS and compare with
// docs/performance.sh.)
//
// Setting GOMAXPROCS explicitly turns off the runtime's own updates of it
// when the container's CPU limit changes; a restart picks a new limit up.
func spareProcessor(getenv func(string) string) (decryptions, gomaxprocs int) {
	cores := decryptionCores()
	if v := getenv("GOMAXPROCS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return min(n, runtime.NumCPU()), runtime.GOMAXPROCS(0)
		}
	}
	procs := cores + 1
	if envelope.Backend == "openssl" {
		procs = 2 * cores
	}
	runtime.GOMAXPROCS(procs)
	return cores, procs
}
