package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/waflow/waflow/flowjson"
)

// Amounts are kept in minor units (cents) as int64: exact, and far from
// overflow for any amount a form will see.

var (
	errAmountSyntax   = errors.New("not a number")
	errAmountNegative = errors.New("must be positive")
	errAmountDecimals = errors.New("at most 2 decimals")
	errAmountTooLarge = errors.New("more than 15 digits before the point")
)

// readAmount reads a submitted amount, the value of a TextInput of
// input-type number, into cents. The value is read by flowjson.ReadNumber,
// the reader the value checker in front of the handlers uses, so the
// checker and the handler can never read a value differently: typed text
// ("12.50", what the phone sends) and a JSON number (12.5) are the same
// amount; "-0" is 0; padded text, 1e400 and 1e-400 are refused (the checker
// has already answered them with a field error). An amount may have at most
// 2 decimals after trailing zeros ("12.500" is 12.50) and 15 digits before
// the point; zero is returned as 0 for the caller to refuse.
func readAmount(v any) (int64, error) {
	n, err := flowjson.ReadNumber(v)
	switch {
	case err != nil:
		return 0, errAmountSyntax
	case n.Negative:
		return 0, errAmountNegative
	case len(n.Frac) > 2:
		return 0, errAmountDecimals
	case len(n.Whole) > 15:
		return 0, errAmountTooLarge
	}
	w, err := strconv.ParseInt(n.Whole, 10, 64)
	if err != nil {
		return 0, errAmountSyntax
	}
	f, _ := strconv.ParseInt(n.Frac+strings.Repeat("0", 2-len(n.Frac)), 10, 64)
	return w*100 + f, nil
}

// parseAmount parses an amount of the settings file, such as "12", "12.5"
// or "12.50", into cents: readAmount after trimming spaces (an operator's
// file, not a phone's value). "1e9", "12.345", "-5", "+5", "1,000" and
// "abc" are all refused with a reason.
func parseAmount(s string) (int64, error) {
	return readAmount(strings.TrimSpace(s))
}

// formatAmount renders cents as "12.50".
func formatAmount(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
