package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ProcessMemory is the resident memory of a process, as Linux reports it
// in /proc/PID/status.
type ProcessMemory struct {
	PID            int     `json:"pid"`
	ResidentMB     float64 `json:"resident_mb"`      // VmRSS
	PeakResidentMB float64 `json:"peak_resident_mb"` // VmHWM: the most it ever held
}

// ReadProcessMemory reads the resident memory of process pid (Linux only).
func ReadProcessMemory(pid int) (*ProcessMemory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("loadgen: memory of process %d: %w (Linux /proc only)", pid, err)
	}
	m := &ProcessMemory{PID: pid}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var dst *float64
		name, rest, _ := bytes.Cut(sc.Bytes(), []byte(":"))
		switch string(name) {
		case "VmRSS":
			dst = &m.ResidentMB
		case "VmHWM":
			dst = &m.PeakResidentMB
		default:
			continue
		}
		f := bytes.Fields(rest) // "12345", "kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			return nil, fmt.Errorf("loadgen: /proc/%d/status: unexpected %s line %q", pid, name, sc.Text())
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("loadgen: /proc/%d/status: %s: %w", pid, name, err)
		}
		*dst = float64(kb) / 1024
		found++
	}
	if found != 2 {
		return nil, fmt.Errorf("loadgen: /proc/%d/status has no VmRSS and VmHWM (a kernel thread?)", pid)
	}
	return m, nil
}

// processCPU is the user and system CPU time of this process so far, or -1
// where the platform does not say.
func processCPU() time.Duration { return cpuTime() }
