package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Amounts are kept in minor units (cents) as int64: exact, and far from
// overflow for any amount a form will see.

var (
	errAmountSyntax   = errors.New("not a number")
	errAmountDecimals = errors.New("at most 2 decimals")
)

// parseAmount parses a decimal amount such as "12", "12.5" or "12.50" into
// cents. It accepts no sign, exponent, grouping or more than 2 decimals, so
// "1e9", "12.345", "-5" and "abc" are all refused with a reason.
func parseAmount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errAmountSyntax
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && frac == "" || whole == "" && !hasDot {
		return 0, errAmountSyntax
	}
	if !digits(whole) || !digits(frac) || len(whole) > 15 {
		if strings.HasPrefix(s, "-") {
			return 0, errors.New("must be positive")
		}
		return 0, errAmountSyntax
	}
	if len(frac) > 2 {
		return 0, errAmountDecimals
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, errAmountSyntax
	}
	frac += strings.Repeat("0", 2-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// formatAmount renders cents as "12.50".
func formatAmount(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
