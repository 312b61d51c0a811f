package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ProcessStats describe a process as Linux reports it in /proc/PID.
type ProcessStats struct {
	PID            int     `json:"pid"`
	ResidentMB     float64 `json:"resident_mb"`      // VmRSS
	PeakResidentMB float64 `json:"peak_resident_mb"` // VmHWM: the most it ever held
	// CPUSeconds is the user and system CPU time the process used: since
	// it started as ReadProcess returns it, during the run in a Result.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// ReadProcess reads the resident memory and CPU time of process pid (Linux
// only).
func ReadProcess(pid int) (*ProcessStats, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("loadgen: process %d: %w (Linux /proc only)", pid, err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, fmt.Errorf("loadgen: process %d: %w (Linux /proc only)", pid, err)
	}
	m := &ProcessStats{PID: pid}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(status))
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
	// stat is "pid (comm) state ppid ...": utime and stime are the 14th
	// and 15th fields, the 12th and 13th after the command name, which may
	// hold spaces and parentheses itself.
	after := stat[bytes.LastIndexByte(stat, ')')+1:]
	f := bytes.Fields(after)
	if len(f) < 13 {
		return nil, fmt.Errorf("loadgen: /proc/%d/stat: too few fields", pid)
	}
	var ticks int64
	for _, field := range f[11:13] {
		n, err := strconv.ParseInt(string(field), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("loadgen: /proc/%d/stat: CPU time %q: %w", pid, field, err)
		}
		ticks += n
	}
	m.CPUSeconds = float64(ticks) / clockTicks
	return m, nil
}

// processCPU is the user and system CPU time of this process so far, or -1
// where the platform does not say.
func processCPU() time.Duration { return cpuTime() }
