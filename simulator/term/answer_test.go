package term

import (
	"encoding/json"
	"testing"

	"github.com/waflow/waflow/simulator"
)

// TestReadable: submitted values read as people say them.
func TestReadable(t *testing.T) {
	titles := map[string]string{"4": "Good", "x": "x"}
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "(empty)"},
		{"", "(empty)"},
		{"Nice", "Nice"},
		{"4", "4 (Good)"},
		{"x", "x"},
		{true, "yes"},
		{false, "no"},
		{[]any{"4", "5"}, "4 (Good), 5"},
		{map[string]any{"end-date": "2026-12-02", "start-date": "2026-12-01"}, "end-date: 2026-12-02, start-date: 2026-12-01"},
		{3.5, "3.5"},
	} {
		if got := readable(c.v, titles); got != c.want {
			t.Errorf("readable(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestParseAnswer: typed answers become the values each input takes.
func TestParseAnswer(t *testing.T) {
	for _, c := range []struct {
		it      simulator.Item
		ans     string
		want    string
		wantErr bool
	}{
		{simulator.Item{Type: "TextInput"}, "a, b", `"a, b"`, false},
		{simulator.Item{Type: "CheckboxGroup"}, "a, b,,", `["a","b"]`, false},
		{simulator.Item{Type: "OptIn"}, "Y", `true`, false},
		{simulator.Item{Type: "OptIn"}, "no", `false`, false},
		{simulator.Item{Type: "OptIn"}, "maybe", ``, true},
		{simulator.Item{Type: "CalendarPicker", Mode: "range"}, "2026-12-01 .. 2026-12-03", `{"end-date":"2026-12-03","start-date":"2026-12-01"}`, false},
		{simulator.Item{Type: "CalendarPicker"}, "2026-12-01", `"2026-12-01"`, false},
	} {
		v, err := parseAnswer(nil, &c.it, c.ans)
		if (err != nil) != c.wantErr {
			t.Errorf("%s %q: error %v", c.it.Type, c.ans, err)
			continue
		}
		if got := string(mustJSON(v)); !c.wantErr && got != c.want {
			t.Errorf("%s %q = %s, want %s", c.it.Type, c.ans, got, c.want)
		}
	}
}

// TestRedactTokens: flow tokens are hidden at any depth.
func TestRedactTokens(t *testing.T) {
	got := string(redactTokens([]byte(`{"step":{"sent":{"flow_token":"T","data":{"flow_token_signature":"J"}},"list":[{"flow_token":"T"}]}}`)))
	want := `{"step":{"list":[{"flow_token":"(hidden)"}],"sent":{"data":{"flow_token_signature":"(hidden)"},"flow_token":"(hidden)"}}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
