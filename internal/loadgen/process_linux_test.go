package loadgen_test

import (
	"os"
	"testing"

	"github.com/waflow/waflow/internal/loadgen"
)

var sink int

func TestReadProcess(t *testing.T) {
	// Burn some CPU, so there is some to see.
	for i := 0; i < 1e8; i++ {
		sink += i
	}
	m, err := loadgen.ReadProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.ResidentMB <= 1 || m.PeakResidentMB < m.ResidentMB || m.CPUSeconds <= 0 || m.PID != os.Getpid() {
		t.Fatalf("%+v: want a resident size over 1 MB, a peak at least as large, and some CPU time", m)
	}
	if _, err := loadgen.ReadProcess(-5); err == nil {
		t.Error("pid -5: no error")
	}
}
