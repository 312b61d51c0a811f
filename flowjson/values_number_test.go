package flowjson

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The checker reads a number field's value with ReadNumber: each
// representation gets the answer the handlers behind it will agree with.
func TestCheckNumberField(t *testing.T) {
	t.Parallel()
	f := mustFlow(t, "v7_3_expense_entry")
	base := map[string]any{"category": "food", "description": "Lunch"}
	tests := []struct {
		name string
		data string // the amount, as JSON
		want string // the amount's error; "" for none
	}{
		{"typed", `"12.50"`, ""},
		{"JSON number", `12`, ""},
		{"JSON fraction", `12.5`, ""},
		{"typed minus zero", `"-0"`, ""},
		{"JSON minus zero", `-0`, ""},
		{"JSON 1e-400", `1e-400`, "Too many digits"},
		{"JSON 1e400", `1e400`, "Too many digits"},
		{"typed 1e400", `"1e400"`, "Enter a number"},
		{"padded", `"  12 "`, "Enter a number"},
		{"decimal comma", `"12,5"`, "Enter a number"},
		{"boolean", `true`, "Enter a number"},
		{"JSON number longer than the field", `1e90`, "Too many digits"},
		{"JSON number of 80 digits written out", `1e79`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			values := decode(t, `{"amount":`+tt.data+`,"category":"food","description":"Lunch"}`)
			if diff := cmp.Diff(with(base, map[string]any{"amount": values["amount"]}), values); diff != "" {
				t.Fatalf("decoded (-want +got)\n%s", diff)
			}
			chk := f.CheckRequest(Submission{Screen: "EXPENSE_FORM", Values: values})
			want := map[string]string{}
			if tt.want != "" {
				want["amount"] = tt.want
			}
			if diff := cmp.Diff(want, chk.ErrorMessages()); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// A completion (values from response_json, decoded with json.Number) is
// checked by the same reader.
func TestCheckCompletionNumberField(t *testing.T) {
	t.Parallel()
	f := mustFlow(t, "v3_1_contact_us")
	for data, want := range map[string]string{
		`"1234"`: "", `1234`: "", `-0`: "", `"-0"`: "",
		`1e400`: "Too many digits", `1e-400`: "Too many digits", `" 12"`: "Enter a number",
	} {
		values := decode(t, `{"flow_token":"t","topic":"order","message":"Where is it?","order_id":`+data+`}`)
		chk := f.CheckCompletion(Submission{Values: values})
		var got []FieldError
		if want != "" {
			got = []FieldError{{Key: "order_id", Component: "order_id", Screen: chk.Screen, Message: want}}
		}
		if diff := cmp.Diff(got, chk.Errors); diff != "" {
			t.Errorf("order_id %s (-want +got)\n%s", data, diff)
		}
	}
}
