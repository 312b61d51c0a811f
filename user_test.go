package waflow_test

import (
	"testing"

	"github.com/waflow/waflow"
)

func TestIsBSUID(t *testing.T) {
	for s, want := range map[string]bool{
		"US.13491208655302741918":     true,
		"US.ENT.11815799212886844830": true,
		"BR.1502576394655843":         true,
		"HK.xxxxxxxxxxxxx":            true,
		"15551234567":                 false, // a phone number
		"+15551234567":                false,
		"us.1349":                     false, // lowercase country code
		"US.":                         false,
		"US..":                        false,
		"US-1349":                     false,
		"U.1349":                      false,
		"US.13 49":                    false,
		"":                            false,
	} {
		if got := waflow.IsBSUID(s); got != want {
			t.Errorf("IsBSUID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestAddress(t *testing.T) {
	if got := waflow.Address("15551234567", "US.1"); got != "15551234567" {
		t.Errorf("Address with both = %q, want the phone number (Meta's advice, protocol.md 4.2)", got)
	}
	if got := waflow.Address("", "US.1"); got != "US.1" {
		t.Errorf("Address without phone = %q, want the BSUID", got)
	}
}
