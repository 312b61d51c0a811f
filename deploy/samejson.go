package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
)

// sameJSON reports whether a and b hold the same JSON value, whatever their
// spacing and key order: Meta may store the Flow JSON reformatted.
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

// decodeJSON decodes b, which must be exactly one JSON value with nothing
// but white space around it. json.Valid checks that first: the Decoder
// alone stops after the first value, and its More reports no trailing data
// for a stray "}" or "]" ("0}" would decode as 0).
func decodeJSON(b []byte) (any, error) {
	if !json.Valid(b) {
		return nil, errors.New("not one JSON value")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
