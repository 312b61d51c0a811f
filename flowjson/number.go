package flowjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Numbers submitted for a TextInput of input-type number.
//
// The phone sends what the user typed in such a field as a JSON string
// (protocol.md §2.3, "TextInput/TextArea → string"), and a payload may also
// carry JSON numbers (§2.3: data values "may be string, boolean, number");
// expressions already compare a number input as a number (§6.4). ReadNumber
// reads both representations into one exact decimal, and it is the only
// reader: the value checker and the handlers behind it both call it, so a
// value the checker accepts is a value the handler can read.
//
// Typed text is read as typed: an optional "-", digits, and an optional "."
// with digits, nothing else. Everything else is refused (ErrNotNumber)
// rather than guessed at: surrounding spaces (the phone sends the field's
// text as it is and does not pad it, so padding means the request was not
// made by the phone; trimming it in one reader and not in another is how a
// checker and a handler come to disagree), "," (a decimal comma or a group
// separator: "1,000" is one thousand or one), "+", exponents, and digits
// outside ASCII.
//
// A JSON number is exact (never a float64, which would turn 0.1 into
// 0.1000000000000000055…) and is written out in plain decimal ("1e3" is
// "1000"); one whose plain form is longer than maxNumberText characters
// ("1e400", "1e-400") is refused with ErrNumberTooLong, so that no number,
// however large or small, breaks anything beyond its own field.

// maxNumberText is the longest plain decimal a JSON number may expand to:
// a TextInput's max-chars defaults to 80 (protocol.md §6.7). It bounds the
// work and memory of writing out an exponent such as 1e999999999.
const maxNumberText = 80

var (
	// ErrNotNumber means a submitted value is not a number: not a JSON
	// number, and not text of the form "-12.50".
	ErrNotNumber = errors.New("flowjson: not a number")
	// ErrNumberTooLong means a JSON number is longer than 80 characters
	// when written out in plain decimal (1e400, 1e-400).
	ErrNumberTooLong = errors.New("flowjson: number has too many digits")
)

// Decimal is a number submitted for a TextInput of input-type number,
// exact, as ReadNumber read it.
type Decimal struct {
	// Text is what the field held: the typed text for a string, the plain
	// decimal form for a JSON number ("1000" for 1e3). It is what
	// max-chars, min-chars and pattern are checked against.
	Text string
	// Negative is true for a number below zero. Zero has no sign: "-0",
	// "-0.00" and the JSON number -0 all read as 0 (Negative false).
	Negative bool
	// Whole holds the digits before the decimal point without leading
	// zeros, "0" when there are none.
	Whole string
	// Frac holds the digits after the decimal point without trailing zeros
	// ("" for a whole number): "12.50" has Frac "5".
	Frac string
}

// String returns the number in plain decimal: "-12.5", "0", "1000".
func (n Decimal) String() string {
	s := n.Whole
	if n.Frac != "" {
		s += "." + n.Frac
	}
	if n.Negative {
		s = "-" + s
	}
	return s
}

// IsZero reports whether the number is zero.
func (n Decimal) IsZero() bool { return n.Whole == "0" && n.Frac == "" }

// ReadNumber reads a value submitted for a TextInput of input-type number:
// a string (what the phone sends), a json.Number (what DecodeValues and a
// decoder with UseNumber give), a float64 (what a plain json.Unmarshal
// gives) or a Go integer. It returns ErrNotNumber for anything else and for
// text that is not a plain decimal, and ErrNumberTooLong for a JSON number
// longer than 80 characters written out.
func ReadNumber(v any) (Decimal, error) {
	switch v := v.(type) {
	case string:
		return readTyped(v)
	case json.Number:
		return readJSONNumber(string(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Decimal{}, ErrNotNumber
		}
		return readJSONNumber(strconv.FormatFloat(v, 'g', -1, 64))
	case int:
		return readJSONNumber(strconv.Itoa(v))
	case int64:
		return readJSONNumber(strconv.FormatInt(v, 10))
	}
	return Decimal{}, ErrNotNumber
}

// readTyped reads typed text: -?D+(.D*)? or -?.D+ with ASCII digits D.
func readTyped(s string) (Decimal, error) {
	body, neg := strings.CutPrefix(s, "-")
	whole, frac, _ := strings.Cut(body, ".")
	if !asciiDigits(whole) || !asciiDigits(frac) || whole == "" && frac == "" {
		return Decimal{}, ErrNotNumber
	}
	n := number(neg, whole, frac)
	n.Text = s
	return n, nil
}

// readJSONNumber reads a number in JSON's grammar,
// -?(0|[1-9]D*)(.D+)?([eE][+-]?D+)?, and writes it out in plain decimal.
func readJSONNumber(s string) (Decimal, error) {
	rest, neg := strings.CutPrefix(s, "-")
	mant, exp, hasExp := strings.Cut(strings.ToLower(rest), "e")
	whole, frac, dot := strings.Cut(mant, ".")
	if whole == "" || !asciiDigits(whole) || len(whole) > 1 && whole[0] == '0' ||
		dot && (frac == "" || !asciiDigits(frac)) {
		return Decimal{}, ErrNotNumber
	}
	shift := 0
	if hasExp {
		digits := strings.TrimPrefix(strings.TrimPrefix(exp, "+"), "-")
		if digits == "" || !asciiDigits(digits) || len(exp)-len(digits) > 1 {
			return Decimal{}, ErrNotNumber
		}
		digits = strings.TrimLeft(digits, "0")
		if len(digits) > 6 {
			digits = "1000000" // far beyond any plain form that fits
		}
		shift, _ = strconv.Atoi(digits)
		if strings.HasPrefix(exp, "-") {
			shift = -shift
		}
	}
	// The significant digits, and where the decimal point goes in them.
	sig := strings.TrimLeft(whole+frac, "0")
	if sig == "" {
		return Decimal{Text: "0", Whole: "0"}, nil
	}
	point := len(whole) + shift - (len(whole+frac) - len(sig)) // digits of sig before the point
	sig = strings.TrimRight(sig, "0")
	// The plain form's length: sign, whole digits (at least "0"), point and
	// fraction digits.
	size := max(point, 1) + max(len(sig)-point, 0)
	if len(sig) > point {
		size++ // the point
	}
	if neg {
		size++
	}
	if size > maxNumberText {
		return Decimal{}, ErrNumberTooLong
	}
	var w, f string
	switch {
	case point <= 0:
		w, f = "", strings.Repeat("0", -point)+sig
	case point >= len(sig):
		w = sig + strings.Repeat("0", point-len(sig))
	default:
		w, f = sig[:point], sig[point:]
	}
	n := number(neg, w, f)
	n.Text = n.String()
	return n, nil
}

// number normalises the parts of a decimal: no leading zeros in whole
// ("0" for none), no trailing zeros in frac, no sign on zero.
func number(neg bool, whole, frac string) Decimal {
	n := Decimal{Whole: strings.TrimLeft(whole, "0"), Frac: strings.TrimRight(frac, "0")}
	if n.Whole == "" {
		n.Whole = "0"
	}
	n.Negative = neg && !n.IsZero()
	return n
}

func asciiDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numberProblem is the field message for an error of ReadNumber; it fits
// a TextInput's error-message (30 characters).
func numberProblem(err error) string {
	if errors.Is(err, ErrNumberTooLong) {
		return "Too many digits"
	}
	return "Enter a number"
}

// DecodeValues decodes a data_exchange request's data (or a completion's
// response_json) into the map a Submission checks. Numbers are kept as
// json.Number, exactly as written: a number no float64 holds (1e400) is
// then a bad value of one field, reported by the check, instead of an
// error that loses every value of the request. Empty input gives an empty
// map and null a nil map; anything but one JSON object is an error.
func DecodeValues(data []byte) (map[string]any, error) {
	m := map[string]any{}
	if len(bytes.TrimSpace(data)) == 0 {
		return m, nil
	}
	if err := DecodeData(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeData decodes data into v like json.Unmarshal, but with numbers in
// interface values kept as json.Number (see DecodeValues), so that a struct
// field of type any receives a submitted number as ReadNumber reads it.
func DecodeData(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("flowjson: submitted data: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("flowjson: submitted data: more than one JSON value")
	}
	return nil
}
