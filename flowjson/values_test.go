package flowjson

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/internal/vectors"
)

func mustFlow(tb testing.TB, name string) *Flow {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "valid", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	f, err := Parse(src)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// decode reads JSON the way the endpoint does (json.Number for numbers).
func decode(tb testing.TB, s string) map[string]any {
	tb.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func with(base map[string]any, changes map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestCheckRequestBooking(t *testing.T) {
	t.Parallel()
	f := mustFlow(t, "v7_3_date_booking")
	screenData := decode(t, `{"slots":[{"id":"am","title":"Morning"},{"id":"pm","title":"Afternoon","enabled":false},{"id":"eve","title":"Evening"}],"flow_name":"booking"}`)
	good := decode(t, `{"date":"2026-03-10","stay":{"start-date":"2026-03-02","end-date":"2026-03-05"},"slot":"am",
		"extras":["parking"],"email":"ana@example.com","code":"ABC-12","comment":"Window seat","terms":true,
		"source":"whatsapp","flow":"booking"}`)
	tests := []struct {
		name       string
		values     map[string]any
		screenData map[string]any
		want       []FieldError
	}{
		{"valid", good, screenData, nil},
		{"optional fields left empty", with(good, map[string]any{"code": "", "comment": "", "extras": []any{}}), screenData, nil},
		{"option id not in the data source", with(good, map[string]any{"slot": "night"}), screenData,
			[]FieldError{{Key: "slot", Component: "slot", Screen: "BOOK", Message: "Choose a listed option"}}},
		{"disabled option", with(good, map[string]any{"slot": "pm"}), screenData,
			[]FieldError{{Key: "slot", Component: "slot", Screen: "BOOK", Message: "Option not available"}}},
		// Without the data, the dynamic options (and ${data.flow_name}) can
		// only be type-checked: not an error (TestCheckRequestDynamicData).
		{"dynamic options without screen data", good, nil, nil},
		{"date after max-date", with(good, map[string]any{"date": "2026-04-02"}), screenData,
			[]FieldError{{Key: "date", Component: "day", Screen: "BOOK", Message: "Choose a date until 2026-03-31"}}},
		{"date before min-date", with(good, map[string]any{"date": "2026-02-28"}), screenData,
			[]FieldError{{Key: "date", Component: "day", Screen: "BOOK", Message: "Choose a date from 2026-03-01"}}},
		{"unavailable date", with(good, map[string]any{"date": "2026-03-15"}), screenData,
			[]FieldError{{Key: "date", Component: "day", Screen: "BOOK", Message: "Date not available"}}},
		{"date in another format", with(good, map[string]any{"date": "10/03/2026"}), screenData,
			[]FieldError{{Key: "date", Component: "day", Screen: "BOOK", Message: "Choose a date"}}},
		{"range shorter than min-days", with(good, map[string]any{"stay": map[string]any{"start-date": "2026-03-02", "end-date": "2026-03-02"}}), screenData,
			[]FieldError{{Key: "stay", Component: "stay", Screen: "BOOK", Message: "Choose at least 2 days"}}},
		{"range longer than max-days", with(good, map[string]any{"stay": map[string]any{"start-date": "2026-03-02", "end-date": "2026-03-13"}}), screenData,
			[]FieldError{{Key: "stay", Component: "stay", Screen: "BOOK", Message: "Choose at most 7 days"}}},
		{"range on an excluded weekday", with(good, map[string]any{"stay": map[string]any{"start-date": "2026-03-01", "end-date": "2026-03-03"}}), screenData,
			[]FieldError{{Key: "stay", Component: "stay", Screen: "BOOK", Message: "Date not available"}}},
		{"range backwards", with(good, map[string]any{"stay": map[string]any{"start-date": "2026-03-05", "end-date": "2026-03-02"}}), screenData,
			[]FieldError{{Key: "stay", Component: "stay", Screen: "BOOK", Message: "End date is before start date"}}},
		{"range as a string", with(good, map[string]any{"stay": "2026-03-02"}), screenData,
			[]FieldError{{Key: "stay", Component: "stay", Screen: "BOOK", Message: "Choose a date range"}}},
		{"checkbox disabled option", with(good, map[string]any{"extras": []any{"late"}}), screenData,
			[]FieldError{{Key: "extras", Component: "extras", Screen: "BOOK", Message: "Option not available"}}},
		{"checkbox option twice", with(good, map[string]any{"extras": []any{"parking", "parking"}}), screenData,
			[]FieldError{{Key: "extras", Component: "extras", Screen: "BOOK", Message: "Option chosen twice"}}},
		{"checkbox not an array", with(good, map[string]any{"extras": "parking"}), screenData,
			[]FieldError{{Key: "extras", Component: "extras", Screen: "BOOK", Message: "Choose from the list"}}},
		{"invalid email", with(good, map[string]any{"email": "ana@"}), screenData,
			[]FieldError{{Key: "email", Component: "email", Screen: "BOOK", Message: "Enter a valid email"}}},
		{"missing required email", with(good, map[string]any{"email": nil}), screenData,
			[]FieldError{{Key: "email", Component: "email", Screen: "BOOK", Message: "Required"}}},
		{"pattern mismatch", with(good, map[string]any{"code": "abc-12"}), screenData,
			[]FieldError{{Key: "code", Component: "code", Screen: "BOOK", Message: "Invalid format"}}},
		{"5,000-character comment", with(good, map[string]any{"comment": strings.Repeat("a", 5000)}), screenData,
			[]FieldError{{Key: "comment", Component: "comment", Screen: "BOOK", Message: "Use at most 1000 characters"}}},
		{"required OptIn unticked", with(good, map[string]any{"terms": false}), screenData,
			[]FieldError{{Key: "terms", Component: "terms", Screen: "BOOK", Message: "Required"}}},
		{"OptIn holding text", with(good, map[string]any{"terms": "yes"}), screenData,
			[]FieldError{{Key: "terms", Component: "terms", Screen: "BOOK", Message: "Must be true or false"}}},
		{"literal binding changed", with(good, map[string]any{"source": "web"}), screenData,
			[]FieldError{{Key: "source", Message: "Unexpected value"}}},
		{"screen data binding changed", with(good, map[string]any{"flow": "admin"}), screenData,
			[]FieldError{{Key: "flow", Message: "Does not match screen data"}}},
		{"key no action sends", with(good, map[string]any{"is_admin": true}), screenData,
			[]FieldError{{Key: "is_admin", Message: "Unexpected field"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chk := f.CheckRequest(Submission{Screen: "BOOK", Values: tt.values, ScreenData: tt.screenData})
			if diff := cmp.Diff(tt.want, chk.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if chk.OK() != (len(tt.want) == 0) || (chk.Err() == nil) != chk.OK() {
				t.Errorf("OK() = %v, Err() = %v", chk.OK(), chk.Err())
			}
			if chk.Action == nil || chk.Action.Component.Type != "Footer" {
				t.Errorf("matched action %+v, want the Footer", chk.Action)
			}
		})
	}
}

func TestCheckRequestExpenseForgeries(t *testing.T) {
	t.Parallel()
	f := mustFlow(t, "v7_3_expense_entry")
	base := map[string]any{"amount": "12.50", "category": "food", "description": "Lunch"}
	tests := []struct {
		name   string
		values map[string]any
		want   map[string]string // component → message
	}{
		{"valid", base, map[string]string{}},
		{"number field holding text", with(base, map[string]any{"amount": "twelve"}), map[string]string{"amount": "Enter a number"}},
		{"number sent as a JSON number", with(base, map[string]any{"amount": json.Number("12.5")}), map[string]string{}},
		{"category not offered", with(base, map[string]any{"category": "jewelry"}), map[string]string{"category": "Choose a listed option"}},
		{"category as an array", with(base, map[string]any{"category": []any{"food"}}), map[string]string{"category": "Choose one option"}},
		{"5,000-character description", with(base, map[string]any{"description": strings.Repeat("é", 5000)}),
			map[string]string{"description": "Use at most 200 characters"}},
		{"amount longer than the default 80 characters", with(base, map[string]any{"amount": strings.Repeat("9", 81)}),
			map[string]string{"amount": "Use at most 80 characters"}},
		{"everything missing", map[string]any{}, map[string]string{"amount": "Required", "category": "Required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chk := f.CheckRequest(Submission{Screen: "EXPENSE_FORM", Values: tt.values})
			if diff := cmp.Diff(tt.want, chk.ErrorMessages()); diff != "" {
				t.Errorf("error messages (-want +got):\n%s", diff)
			}
			for _, e := range chk.Errors {
				limit := 80
				if c := f.Screen("EXPENSE_FORM").Component(e.Component); c != nil && (c.Type == "TextInput" || c.Type == "TextArea") {
					limit = 30
				}
				if n := utf8.RuneCountInString(e.Message); n > limit {
					t.Errorf("message %q for %s is %d characters; it must fit the error-message (%d)", e.Message, e.Component, n, limit)
				}
			}
		})
	}
}

func TestCheckRequestPicksTheFiringAction(t *testing.T) {
	t.Parallel()
	f := mustFlow(t, "v7_2_endpoint_booking")
	data := decode(t, `{"departments":[{"id":"shopping","title":"Shopping"}],"times":[],"is_time_enabled":false}`)
	// The department Dropdown's on-select-action fires before the form is
	// complete: the required "time" is not enforced.
	chk := f.CheckRequest(Submission{Screen: "APPOINTMENT", ScreenData: data,
		Values: map[string]any{"trigger": "department_selected", "department": "shopping"}})
	if !chk.OK() || chk.Action.Event != "on-select-action" || chk.Action.Component.Name != "department" {
		t.Errorf("got %+v matched to %+v, want OK from the department's on-select-action", chk.Errors, chk.Action)
	}
	// The Footer enforces required fields.
	chk = f.CheckRequest(Submission{Screen: "APPOINTMENT", ScreenData: data, Values: map[string]any{"department": "shopping"}})
	want := []FieldError{{Key: "time", Component: "time", Screen: "APPOINTMENT", Message: "Required"}}
	if diff := cmp.Diff(want, chk.Errors); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if got := chk.Summary(); got != "time: Required" {
		t.Errorf("Summary() = %q", got)
	}
	// A global reference is checked against the other screen's component.
	chk = f.CheckRequest(Submission{Screen: "DETAILS", Values: map[string]any{"name": "Ana", "email": "ana@example.com", "department": "cars"},
		OtherScreens: map[string]map[string]any{"APPOINTMENT": data}})
	want = []FieldError{{Key: "department", Component: "department", Screen: "APPOINTMENT", Message: "Choose a listed option"}}
	if diff := cmp.Diff(want, chk.Errors); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if len(chk.ErrorMessages()) != 0 {
		t.Errorf("ErrorMessages() = %v; errors of another screen cannot be bound on this one", chk.ErrorMessages())
	}
	// Unknown screens and screens without a data_exchange action fail.
	if chk := f.CheckRequest(Submission{Screen: "NOPE", Values: map[string]any{}}); chk.OK() {
		t.Error("an unknown screen passed")
	}
	g := mustFlow(t, "v7_3_appointment_booking")
	if chk := g.CheckRequest(Submission{Screen: "DATE_SELECTION", Values: map[string]any{}}); chk.OK() {
		t.Error("a request from a screen without data_exchange passed")
	}
}

func TestCheckCompletion(t *testing.T) {
	t.Parallel()
	f := mustFlow(t, "v7_3_appointment_booking")
	tests := []struct {
		name string
		sub  Submission
		want []FieldError
	}{
		{"valid with screen data", Submission{Values: map[string]any{"flow_token": "t", "date": "2026-02-15", "time": "14:00"},
			ScreenData: map[string]any{"date": "2026-02-15"}}, nil},
		{"valid without screen data", Submission{Values: map[string]any{"date": "2026-02-15", "time": "14:00"}}, nil},
		{"forged time", Submission{Values: map[string]any{"date": "2026-02-15", "time": "16:00"}},
			[]FieldError{{Key: "time", Component: "appointment_time", Screen: "TIME_SELECTION", Message: "Choose a listed option"}}},
		{"date changed after the previous screen", Submission{Values: map[string]any{"date": "2027-01-01", "time": "14:00"},
			ScreenData: map[string]any{"date": "2026-02-15"}},
			[]FieldError{{Key: "date", Message: "Does not match screen data"}}},
		{"date of the wrong type", Submission{Values: map[string]any{"date": 20260215.0, "time": "14:00"}},
			[]FieldError{{Key: "date", Message: "Wrong type"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chk := f.CheckCompletion(tt.sub)
			if diff := cmp.Diff(tt.want, chk.Errors); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if chk.Screen != "TIME_SELECTION" {
				t.Errorf("matched screen %q", chk.Screen)
			}
		})
	}
}

func TestCheckCompletionMediaAndExpressions(t *testing.T) {
	t.Parallel()
	photo := mustFlow(t, "v4_0_photo_picker")
	file := map[string]any{"file_name": "me.jpg", "mime_type": "image/jpeg", "sha256": "abc", "id": "123"}
	if chk := photo.CheckCompletion(Submission{Values: map[string]any{"selfie": []any{file}}}); !chk.OK() {
		t.Errorf("one photo: %v", chk.Errors)
	}
	chk := photo.CheckCompletion(Submission{Values: map[string]any{"selfie": []any{file, file}}})
	if diff := cmp.Diff([]FieldError{{Key: "selfie", Component: "selfie", Screen: "PHOTO", Message: "Upload at most 1 file"}}, chk.Errors); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	chk = photo.CheckCompletion(Submission{Values: map[string]any{"selfie": []any{"me.jpg"}}})
	if len(chk.Errors) != 1 || chk.Errors[0].Message != "Invalid file" {
		t.Errorf("a file name instead of a file: %v", chk.Errors)
	}

	cart := mustFlow(t, "v6_0_expressions")
	chk = cart.CheckCompletion(Submission{Values: map[string]any{"total": 13.5, "coupon": "", "label": "Ana x3"}})
	if !chk.OK() {
		t.Errorf("expression values: %v", chk.Errors)
	}
	chk = cart.CheckCompletion(Submission{Values: map[string]any{"total": "13.5", "coupon": "", "label": "Ana x3"}})
	if len(chk.Errors) != 1 || chk.Errors[0].Key != "total" {
		t.Errorf("a text total for a numeric expression: %v", chk.Errors)
	}
}

func TestCheckRequestDatePickerBefore5(t *testing.T) {
	t.Parallel()
	src := `{"version":"4.0","data_api_version":"3.0","routing_model":{"D":[]},"screens":[{"id":"D","terminal":true,
		"layout":{"type":"SingleColumnLayout","children":[
		{"type":"DatePicker","name":"d","label":"Day","min-date":"1767225600000","max-date":"1769817600000"},
		{"type":"Footer","label":"Go","on-click-action":{"name":"data_exchange","payload":{"d":"${form.d}"}}}]}}]}`
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if ps := Validate(f); ps.HasErrors() {
		t.Fatalf("flow invalid: %v", ps)
	}
	for value, want := range map[string]string{
		"1767830400000": "",                               // 2026-01-08
		"1780000000000": "Choose a date until 2026-01-31", // 2026-05-28
		"2026-01-08":    "Choose a date",                  // the 5.0 format
	} {
		chk := f.CheckRequest(Submission{Screen: "D", Values: map[string]any{"d": value}})
		got := ""
		if len(chk.Errors) > 0 {
			got = chk.Errors[0].Message
		}
		if got != want {
			t.Errorf("%s: %q, want %q", value, got, want)
		}
	}
}

func TestSubmissionSummaryAndError(t *testing.T) {
	t.Parallel()
	chk := &SubmissionCheck{Screen: "S", Errors: []FieldError{
		{Key: "a", Component: "amount", Screen: "S", Message: "Enter a number"},
		{Key: "c", Component: "category", Screen: "S", Message: "Choose a listed option"},
		{Key: "x", Message: "Unexpected field"},
	}}
	if got := chk.Summary(); got != "Please check 3 fields: amount, category, x" {
		t.Errorf("Summary() = %q", got)
	}
	err := chk.Err().Error()
	if !strings.Contains(err, `screen "S"`) || !strings.Contains(err, "amount: Enter a number") {
		t.Errorf("Err() = %s", err)
	}
}

func TestCheckScreenData(t *testing.T) {
	t.Parallel()
	f := mustFlow(t, "v7_3_nested_data")
	s := f.Screen("ACCOUNT")
	good := decode(t, `{"customer":{"name":"Ana","plan":"basic","premium":true,"address":{"city":"Lyon"}},
		"plans":[{"id":"basic","title":"Basic"}],"error_message":"Try again"}`)
	if ps := CheckScreenData(s, good); len(ps) != 0 {
		t.Errorf("valid data: %v", ps)
	}
	bad := decode(t, `{"customer":{"name":"Ana","premium":"yes"},"plans":[{"id":1}],"extra":1,"error_message":false}`)
	var got []string
	for _, p := range CheckScreenData(s, bad) {
		got = append(got, p.Pointer+" "+p.Message)
	}
	want := []string{
		`/customer customer.premium is string, want boolean (screen "ACCOUNT")`,
		`/plans plans[0].id is number, want string (screen "ACCOUNT")`,
		`/error_message error_message must be a string`,
		`/extra "extra" is not in the data model of screen "ACCOUNT"; declare it there or do not send it`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	missing := CheckScreenData(s, map[string]any{})
	if len(missing) != 2 || missing[0].Code != CodePayloadSchema {
		t.Errorf("missing fields: %v", missing)
	}
}

func TestNavigationHelpers(t *testing.T) {
	t.Parallel()
	loan := mustFlow(t, "v7_3_loan_application")
	if diff := cmp.Diff([]string{"AMOUNT"}, loan.EntryScreens()); diff != "" {
		t.Errorf("EntryScreens (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff([]string{"APPROVED", "DECLINED"}, loan.TerminalScreens()); diff != "" {
		t.Errorf("TerminalScreens (-want +got)\n%s", diff)
	}
	for _, tt := range []struct {
		from, to string
		ok       bool
	}{
		{"AMOUNT", "EMPLOYED", true}, {"AMOUNT", "AMOUNT", true}, {"REVIEW", "SUCCESS", true},
		{"AMOUNT", "REVIEW", false}, {"REVIEW", "AMOUNT", false}, {"NOPE", "NOPE", false},
	} {
		if got := loan.CanTransition(tt.from, tt.to); got != tt.ok {
			t.Errorf("CanTransition(%s, %s) = %v", tt.from, tt.to, got)
		}
	}
	// Without a routing model the routes come from navigate actions.
	static := mustFlow(t, "v6_2_navigation_list")
	want := map[string][]string{"MENU": {"HOME", "CAR"}, "HOME": {}, "CAR": {}}
	if diff := cmp.Diff(want, static.Routes()); diff != "" {
		t.Errorf("Routes (-want +got)\n%s", diff)
	}
	s := mustFlow(t, "v4_0_if_switch").Screen("PROFILE")
	var types []string
	for _, c := range s.Components() {
		types = append(types, c.Type)
	}
	if diff := cmp.Diff([]string{"TextInput", "OptIn", "TextBody", "TextCaption", "TextBody", "TextBody", "Footer"}, types); diff != "" {
		t.Errorf("Components (-want +got)\n%s", diff)
	}
	if got := s.Inputs(); len(got) != 2 || got["age"] == nil || got["newsletter"].Type != "OptIn" {
		t.Errorf("Inputs() = %v", got)
	}
	if c := s.Component("age"); c == nil || c.Type != "TextInput" {
		t.Errorf("Component(age) = %v", c)
	}
	if f := s.Field("age"); f.Type() != "number" || f.Example().String() != "30" {
		t.Errorf("Field(age) = %s %s", f.Type(), f.Example())
	}
	acts := mustFlow(t, "v6_0_update_data").Screen("ORDER").Actions()
	var events []string
	for _, a := range acts {
		who := a.Component.Name
		if a.Option != nil {
			who += "[" + a.Option.ID + "]"
		}
		events = append(events, who+" "+a.Event+" "+a.Action.Name)
	}
	wantEvents := []string{
		"size[s] on-select-action update_data", "size[l] on-select-action update_data",
		"extras on-select-action update_data", "extras on-unselect-action update_data",
		"gift on-select-action update_data", "gift on-unselect-action update_data",
		" on-click-action complete",
	}
	if diff := cmp.Diff(wantEvents, events); diff != "" {
		t.Errorf("Actions (-want +got)\n%s", diff)
	}
	footer := acts[len(acts)-1].Action
	if diff := cmp.Diff([]string{"size", "extras", "gift", "card"}, footer.PayloadKeys()); diff != "" {
		t.Errorf("PayloadKeys (-want +got)\n%s", diff)
	}
	if b := footer.Binding("size"); b.Str != "${form.size}" {
		t.Errorf("Binding(size) = %v", b)
	}
}

func TestJSONEqual(t *testing.T) {
	t.Parallel()
	var a, b any
	json.Unmarshal([]byte(`{"x":[1,2.0,{"y":true}],"z":null}`), &a)
	d := json.NewDecoder(bytes.NewReader([]byte(`{"z":null,"x":[1.0,2,{"y":true}]}`)))
	d.UseNumber()
	d.Decode(&b)
	if !jsonEqual(a, b) {
		t.Error("equal documents compare unequal")
	}
	if jsonEqual(map[string]any{"x": "1"}, map[string]any{"x": 1.0}) {
		t.Error("a string equals a number")
	}
}

// TestCheckRequestRealMediaDescriptor checks a DocumentPicker value built
// around WhatsApp's real encryption_metadata (protocol.md 2.9).
func TestCheckRequestRealMediaDescriptor(t *testing.T) {
	t.Parallel()
	var meta map[string]any
	if err := json.Unmarshal(vectors.Read(t, "media_encryption_metadata.json"), &meta); err != nil {
		t.Fatal(err)
	}
	if m, ok := meta["encryption_metadata"].(map[string]any); ok {
		meta = m // the file may hold the wrapper or the bare object
	}
	f := mustFlow(t, "v4_0_document_picker")
	file := map[string]any{"media_id": "790aba14-5f4e-4a4b-a4a3-7d1d2d1e8f9a", "cdn_url": "https://mmg.whatsapp.net/v/t62.7119-24/x",
		"file_name": "invoice.pdf", "encryption_metadata": meta}
	chk := f.CheckRequest(Submission{Screen: "DOCS", Values: map[string]any{"invoices": []any{file}}})
	if !chk.OK() {
		t.Errorf("a real media descriptor was rejected: %v", chk.Errors)
	}
	delete(file, "encryption_metadata")
	chk = f.CheckRequest(Submission{Screen: "DOCS", Values: map[string]any{"invoices": []any{file}}})
	if chk.OK() {
		t.Error("a descriptor without encryption_metadata passed")
	}
	// min-uploaded-documents 1 makes the picker required.
	chk = f.CheckRequest(Submission{Screen: "DOCS", Values: map[string]any{"invoices": []any{}}})
	want := []FieldError{{Key: "invoices", Component: "invoices", Screen: "DOCS", Message: "Upload at least 1 file"}}
	if diff := cmp.Diff(want, chk.Errors); diff != "" {
		t.Errorf("no documents (-want +got)\n%s", diff)
	}
	file["encryption_metadata"] = meta
	files := []any{file, file, file, file, file, file}
	chk = f.CheckRequest(Submission{Screen: "DOCS", Values: map[string]any{"invoices": files}})
	want = []FieldError{{Key: "invoices", Component: "invoices", Screen: "DOCS", Message: "Upload at most 5 files"}}
	if diff := cmp.Diff(want, chk.Errors); diff != "" {
		t.Errorf("six documents (-want +got)\n%s", diff)
	}
}
