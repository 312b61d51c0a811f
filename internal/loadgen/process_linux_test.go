package loadgen_test

import (
	"os"
	"testing"

	"github.com/waflow/waflow/internal/loadgen"
)

func TestReadProcessMemory(t *testing.T) {
	m, err := loadgen.ReadProcessMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.ResidentMB <= 1 || m.PeakResidentMB < m.ResidentMB {
		t.Fatalf("%+v: want a resident size over 1 MB and a peak at least as large", m)
	}
	if _, err := loadgen.ReadProcessMemory(-5); err == nil {
		t.Error("pid -5: no error")
	}
}
