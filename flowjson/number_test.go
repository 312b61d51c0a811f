package flowjson

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want Decimal // Text, Negative, Whole, Frac
		err  error
	}{
		// Typed text, as the phone sends it (protocol.md §2.3).
		{in: "12", want: Decimal{"12", false, "12", ""}},
		{in: "12.50", want: Decimal{"12.50", false, "12", "5"}},
		{in: "012.5", want: Decimal{"012.5", false, "12", "5"}},
		{in: ".5", want: Decimal{".5", false, "0", "5"}},
		{in: "12.", want: Decimal{"12.", false, "12", ""}},
		{in: "-3.25", want: Decimal{"-3.25", true, "3", "25"}},
		{in: "-0", want: Decimal{"-0", false, "0", ""}},
		{in: "-0.00", want: Decimal{"-0.00", false, "0", ""}},
		{in: strings.Repeat("9", 200), want: Decimal{strings.Repeat("9", 200), false, strings.Repeat("9", 200), ""}},
		{in: "", err: ErrNotNumber},
		{in: "  12 ", err: ErrNotNumber},
		{in: "12 ", err: ErrNotNumber},
		{in: "+5", err: ErrNotNumber},
		{in: "1,000", err: ErrNotNumber},
		{in: "12,5", err: ErrNotNumber},
		{in: "1e9", err: ErrNotNumber},
		{in: "-", err: ErrNotNumber},
		{in: ".", err: ErrNotNumber},
		{in: "1.2.3", err: ErrNotNumber},
		{in: "١٢", err: ErrNotNumber}, // Arabic-Indic digits
		{in: "NaN", err: ErrNotNumber},
		{in: "Infinity", err: ErrNotNumber},
		// JSON numbers, written out in plain decimal.
		{in: json.Number("12"), want: Decimal{"12", false, "12", ""}},
		{in: json.Number("12.50"), want: Decimal{"12.5", false, "12", "5"}},
		{in: json.Number("-0"), want: Decimal{"0", false, "0", ""}},
		{in: json.Number("-0.0e5"), want: Decimal{"0", false, "0", ""}},
		{in: json.Number("0e999999999999"), want: Decimal{"0", false, "0", ""}},
		{in: json.Number("1e3"), want: Decimal{"1000", false, "1000", ""}},
		{in: json.Number("1.25E+2"), want: Decimal{"125", false, "125", ""}},
		{in: json.Number("125e-4"), want: Decimal{"0.0125", false, "0", "0125"}},
		{in: json.Number("-0.001"), want: Decimal{"-0.001", true, "0", "001"}},
		{in: json.Number("1e79"), want: Decimal{"1" + strings.Repeat("0", 79), false, "1" + strings.Repeat("0", 79), ""}},
		{in: json.Number("1e80"), err: ErrNumberTooLong},
		{in: json.Number("-1e79"), err: ErrNumberTooLong},
		{in: json.Number("1e-78"), want: Decimal{"0." + strings.Repeat("0", 77) + "1", false, "0", strings.Repeat("0", 77) + "1"}},
		{in: json.Number("1e-79"), err: ErrNumberTooLong},
		{in: json.Number("1e400"), err: ErrNumberTooLong},
		{in: json.Number("1e-400"), err: ErrNumberTooLong},
		{in: json.Number("1e99999999999999999999"), err: ErrNumberTooLong},
		{in: json.Number(strings.Repeat("1", 81)), err: ErrNumberTooLong},
		{in: json.Number(""), err: ErrNotNumber},
		{in: json.Number("01"), err: ErrNotNumber},
		{in: json.Number("1."), err: ErrNotNumber},
		{in: json.Number("1e"), err: ErrNotNumber},
		{in: json.Number("1e+-2"), err: ErrNotNumber},
		{in: json.Number("+1"), err: ErrNotNumber},
		{in: json.Number(" 1"), err: ErrNotNumber},
		// What a plain json.Unmarshal, or Go code, gives.
		{in: 12.5, want: Decimal{"12.5", false, "12", "5"}},
		{in: math.Copysign(0, -1), want: Decimal{"0", false, "0", ""}},
		{in: 1e300, err: ErrNumberTooLong},
		{in: 5e-324, err: ErrNumberTooLong},
		{in: math.Inf(1), err: ErrNotNumber},
		{in: math.NaN(), err: ErrNotNumber},
		{in: 42, want: Decimal{"42", false, "42", ""}},
		{in: int64(-7), want: Decimal{"-7", true, "7", ""}},
		{in: true, err: ErrNotNumber},
		{in: nil, err: ErrNotNumber},
		{in: []any{"12"}, err: ErrNotNumber},
	}
	for _, tt := range tests {
		got, err := ReadNumber(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ReadNumber(%#v) = %+v, %v; want %v", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ReadNumber(%#v): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ReadNumber(%#v) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// FuzzReadNumber: whatever the input, ReadNumber never panics, a JSON
// number it accepts has the exact value big.Rat gives it, and typed text it
// accepts reads back the same through String.
func FuzzReadNumber(f *testing.F) {
	for _, s := range []string{"12", "12.50", "-0", "1e400", "1e-400", "1e-78", "125e-4", "0.000", ".5", "12.", "-", "1,5", " 1", "9e79"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ReadNumber(s); err == nil {
			back, err := ReadNumber(n.String())
			if err != nil || back.String() != n.String() || back.Negative != n.Negative {
				t.Fatalf("typed %q -> %q -> %+v, %v", s, n.String(), back, err)
			}
			if n.Text != s {
				t.Fatalf("typed %q kept as %q", s, n.Text)
			}
		}
		n, err := ReadNumber(json.Number(s))
		if err != nil {
			// Refused: fine unless s is a JSON number that fits.
			var x any
			d := json.NewDecoder(strings.NewReader(s))
			d.UseNumber()
			if d.Decode(&x) == nil && x == json.Number(s) && !errors.Is(err, ErrNumberTooLong) {
				t.Fatalf("JSON number %q refused: %v", s, err)
			}
			return
		}
		if len(n.Text) > maxNumberText {
			t.Fatalf("%q written out in %d characters", s, len(n.Text))
		}
		if n.IsZero() {
			// big.Rat would compute 10^exponent of "0e999999".
			mant, _, _ := strings.Cut(strings.ToLower(s), "e")
			if strings.Trim(mant, "-0.") != "" {
				t.Fatalf("JSON number %q read as 0", s)
			}
			return
		}
		want, ok := new(big.Rat).SetString(s)
		got, ok2 := new(big.Rat).SetString(n.String())
		if !ok || !ok2 || want.Cmp(got) != 0 {
			t.Fatalf("JSON number %q read as %s", s, n)
		}
	})
}

func TestDecodeValues(t *testing.T) {
	t.Parallel()
	// A number no float64 holds is one bad value, not a lost request.
	m, err := DecodeValues([]byte(`{"amount": 1e400, "tiny": 1e-400, "note": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if m["amount"] != json.Number("1e400") || m["tiny"] != json.Number("1e-400") || m["note"] != "x" {
		t.Fatalf("DecodeValues = %#v", m)
	}
	if m, err := DecodeValues(nil); err != nil || m == nil || len(m) != 0 {
		t.Errorf("DecodeValues(nil) = %v, %v; want an empty map", m, err)
	}
	for _, bad := range []string{`[1]`, `{"a":1} {"b":2}`, `{"a":`, `"x"`} {
		if _, err := DecodeValues([]byte(bad)); err == nil {
			t.Errorf("DecodeValues(%s) accepted", bad)
		}
	}
}
