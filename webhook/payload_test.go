package webhook_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/webhook"
)

// The real webhook WhatsApp sent (a text message) parses into one message
// event keyed by its wamid, with the message bytes kept as sent.
func TestParseRealVector(t *testing.T) {
	body := vectors.Read(t, "webhook_body.json")
	evs, err := webhook.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Kind != waflow.EventMessage || ev.DedupeKey != "msg:wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA" {
		t.Fatalf("event: kind %q key %q", ev.Kind, ev.DedupeKey)
	}
	e, err := webhook.DecodeEvent(ev.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if e.EntryID != "264937493375603" || e.Field != "messages" || !strings.Contains(string(e.Metadata), `"phone_number_id":"277321005464405"`) {
		t.Fatalf("event context: %+v", e)
	}
	if !strings.Contains(string(body), string(e.Message)) {
		t.Fatalf("the stored message is not the bytes WhatsApp sent: %s", e.Message)
	}
	m, err := e.DecodeMessage()
	if err != nil {
		t.Fatal(err)
	}
	want := &webhook.Message{ID: "wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA",
		From: "972544401243", Timestamp: time.Unix(1730231903, 0).UTC(), Type: "text"}
	if d := cmp.Diff(want, m); d != "" {
		t.Fatalf("message (-want +got):\n%s", d)
	}
}

func TestParseCompletion(t *testing.T) {
	at := time.Unix(1730231903, 0).UTC()
	body := notification(messagesChange(nfmReply("wamid.reply", "wamid.sent", `{"flow_token":"wf1.x","guests":"4"}`, at)))
	evs, err := webhook.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != waflow.EventCompletion || evs[0].DedupeKey != "msg:wamid.reply" {
		t.Fatalf("events: %+v", evs)
	}
	e, _ := webhook.DecodeEvent(evs[0].Payload)
	m, err := e.DecodeMessage()
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsCompletion() || m.ContextID != "wamid.sent" || m.From != userWAID || !m.Timestamp.Equal(at) ||
		// "wf1.x" is not a waflow token: stored, it is only marked as a token.
		m.Interactive.NFMReply.ResponseJSON != `{"flow_token":"~","guests":"4"}` || m.Interactive.NFMReply.Name != "flow" {
		t.Fatalf("completion message: %+v %+v", m, m.Interactive.NFMReply)
	}
}

// One POST with several entries, changes, messages and statuses gives one
// event each; a message repeated in the POST keeps its key.
func TestParseSeveral(t *testing.T) {
	at := time.Unix(1730231903, 0)
	body := []byte(`{"object":"whatsapp_business_account","entry":[
		{"id":"1","time":1730231903,"changes":[
			{"field":"messages","value":{"messages":[
				{"id":"wamid.A","from":"1","type":"text","timestamp":"1730231903","text":{"body":"hi"}},
				{"id":"wamid.B","from":"1","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{}"}}}],
			 "statuses":[{"id":"wamid.S","status":"delivered","timestamp":"1730231903","recipient_id":"1"},
			             {"id":"wamid.S","status":"read","timestamp":"1730231904","recipient_id":"1"}]}},
			{"field":"flows","value":{"event":"ENDPOINT_LATENCY","flow_id":"555","alert_state":"ACTIVATED","p90_latency":7100,"threshold":7000}}]},
		{"id":"2","time":1730231999,"changes":[
			{"field":"messages","value":{"messages":[{"id":"wamid.A","from":"1","type":"text"}]}},
			{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}},
			{"field":"messages","value":{"errors":[{"code":131000}]}}]}]}`)
	_ = at
	evs, err := webhook.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		k := e.DedupeKey
		if strings.HasPrefix(k, "other:") {
			k = "other:…"
		}
		got = append(got, string(e.Kind)+" "+k)
	}
	want := []string{
		"message msg:wamid.A",
		"completion msg:wamid.B",
		"status status:wamid.S:delivered",
		"status status:wamid.S:read",
		"flows flows:555:ENDPOINT_LATENCY:1730231903:ACTIVATED",
		"message msg:wamid.A",
		"other other:…",
		"other other:…",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}
	if evs[6].DedupeKey == evs[7].DedupeKey {
		t.Fatal("two different unknown changes share a key")
	}
	again, _ := webhook.Parse(body)
	if again[6].DedupeKey != evs[6].DedupeKey {
		t.Fatal("the key of an unknown change is not stable across deliveries")
	}
}

// The flows events of protocol.md 4.3, with Meta's loose number types.
func TestParseFlowsEvents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value string
		key   string
		check func(*webhook.FlowsEvent) bool
	}{
		{"status change", `{"event":"FLOW_STATUS_CHANGE","message":"Flow Webhooks Test changed status from PUBLISHED to BLOCKED","flow_id":"123","old_status":"PUBLISHED","new_status":"BLOCKED"}`,
			"flows:123:FLOW_STATUS_CHANGE:1730231903:BLOCKED",
			func(f *webhook.FlowsEvent) bool { return f.OldStatus == "PUBLISHED" && f.NewStatus == "BLOCKED" }},
		{"created, with a warning", `{"event":"FLOW_STATUS_CHANGE","flow_id":"123","new_status":"DRAFT","warning":"version 2.1 will be frozen"}`,
			"flows:123:FLOW_STATUS_CHANGE:1730231903:DRAFT",
			func(f *webhook.FlowsEvent) bool { return f.NewStatus == "DRAFT" && f.Warning != "" }},
		{"client error rate", `{"event":"CLIENT_ERROR_RATE","flow_id":"123","alert_state":"ACTIVATED","threshold":10,"error_rate":14.28,"errors":[{"error_type":"INVALID_SCREEN_TRANSITION","error_rate":14.28,"error_count":1}]}`,
			"flows:123:CLIENT_ERROR_RATE:1730231903:ACTIVATED",
			func(f *webhook.FlowsEvent) bool {
				return f.ErrorRate == 14.28 && len(f.Errors) == 1 && f.Errors[0].Type == "INVALID_SCREEN_TRANSITION" && f.Errors[0].Count == 1
			}},
		{"endpoint error rate as strings", `{"event":"ENDPOINT_ERROR_RATE","flow_id":123,"alert_state":"DEACTIVATED","threshold":"5","error_rate":"2.5"}`,
			"flows:123:ENDPOINT_ERROR_RATE:1730231903:DEACTIVATED",
			func(f *webhook.FlowsEvent) bool { return f.Threshold == 5 && f.ErrorRate == 2.5 }},
		{"latency", `{"event":"ENDPOINT_LATENCY","flow_id":"123","alert_state":"ACTIVATED","threshold":7000,"p50_latency":3000,"p90_latency":7100,"requests_count":1000}`,
			"flows:123:ENDPOINT_LATENCY:1730231903:ACTIVATED",
			func(f *webhook.FlowsEvent) bool {
				return f.P90Latency == 7100 && f.RequestsCount == 1000 && f.Threshold == 7000
			}},
		{"availability", `{"event":"ENDPOINT_AVAILABILITY","flow_id":"123","alert_state":"ACTIVATED","threshold":90,"availability":75.5}`,
			"flows:123:ENDPOINT_AVAILABILITY:1730231903:ACTIVATED",
			func(f *webhook.FlowsEvent) bool { return f.Availability == 75.5 }},
		{"version expiry", `{"event":"FLOW_VERSION_EXPIRY_WARNING","flow_id":"123","warning":"Flow JSON version 2.1 expires soon","unknown_key":{"x":[1]}}`,
			"flows:123:FLOW_VERSION_EXPIRY_WARNING:1730231903:",
			func(f *webhook.FlowsEvent) bool { return strings.Contains(f.Warning, "expires") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"9","time":1730231903,"changes":[{"field":"flows","value":` + tc.value + `}]}]}`)
			evs, err := webhook.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Kind != waflow.EventFlows || evs[0].DedupeKey != tc.key {
				t.Fatalf("events: %+v", evs)
			}
			e, _ := webhook.DecodeEvent(evs[0].Payload)
			fe, err := e.DecodeFlowsEvent()
			if err != nil {
				t.Fatal(err)
			}
			if fe.FlowID != "123" || !fe.Time.Equal(time.Unix(1730231903, 0)) || !tc.check(fe) {
				t.Fatalf("decoded: %+v", fe)
			}
		})
	}
}

func TestParseRefused(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		kind       error
		path       string
	}{
		{"empty", ``, webhook.ErrNotJSON, ""},
		{"not JSON", `entry=1&object=x`, webhook.ErrNotJSON, ""},
		{"truncated", `{"object":"whatsapp_business_account","entry":[`, webhook.ErrNotJSON, ""},
		{"trailing garbage", `{"entry":[]} {}`, webhook.ErrNotJSON, ""},
		{"array", `[{"entry":[]}]`, webhook.ErrWrongShape, ""},
		{"string", `"hello"`, webhook.ErrWrongShape, ""},
		{"no entry", `{"object":"whatsapp_business_account"}`, webhook.ErrWrongShape, "entry"},
		{"entry not an array", `{"object":"whatsapp_business_account","entry":{"id":"1"}}`, webhook.ErrWrongShape, ""},
		{"entry item not an object", `{"entry":[42]}`, webhook.ErrWrongShape, "entry[0]"},
		{"changes not an array", `{"entry":[{"id":"1","changes":"x"}]}`, webhook.ErrWrongShape, "entry[0]"},
		{"value not an object", `{"entry":[{"changes":[{"field":"messages","value":[1]}]}]}`, webhook.ErrWrongShape, "entry[0].changes[0].value"},
		{"messages not an array", `{"entry":[{"changes":[{"field":"messages","value":{"messages":{"id":"x"}}}]}]}`, webhook.ErrWrongShape, "entry[0].changes[0].value"},
		{"message without id", `{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","type":"text"}]}}]}]}`, webhook.ErrWrongShape, "entry[0].changes[0].value.messages[0].id"},
		{"message id not a string", `{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":{"x":1}}]}}]}]}`, webhook.ErrWrongShape, "entry[0].changes[0].value.messages[0]"},
		{"status without status", `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.X"}]}}]}]}`, webhook.ErrWrongShape, "entry[0].changes[0].value.statuses[0]"},
		{"flows value not an object", `{"entry":[{"changes":[{"field":"flows","value":"BLOCKED"}]}]}`, webhook.ErrWrongShape, "entry[0].changes[0].value"},
		{"flows number garbled", `{"entry":[{"changes":[{"field":"flows","value":{"event":"ENDPOINT_LATENCY","flow_id":"1","threshold":"lots"}}]}]}`, webhook.ErrWrongShape, "entry[0].changes[0].value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := webhook.Parse([]byte(tc.body))
			if !errors.Is(err, tc.kind) {
				t.Fatalf("Parse = %d events, %v; want an error matching %v", len(evs), err, tc.kind)
			}
			var pe *webhook.PayloadError
			if !errors.As(err, &pe) || pe.Path != tc.path {
				t.Fatalf("error %q: path %q, want %q", err, pe.Path, tc.path)
			}
			if pe.Reason == "" {
				t.Fatal("the error does not say what is wrong")
			}
		})
	}
}

func TestParseResponse(t *testing.T) {
	r, err := webhook.ParseResponse(`{"flow_token":"wf1.abc","guests":4,"big":12345678901234567890,"name":"Zoë"}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.FlowToken != "wf1.abc" || len(r.Values) != 3 || r.Values["name"] != "Zoë" || r.Values["big"].(interface{ String() string }).String() != "12345678901234567890" {
		t.Fatalf("ParseResponse: %+v", r)
	}
	if _, ok := r.Values["flow_token"]; ok {
		t.Fatal("Values still holds flow_token")
	}
	noToken, err := webhook.ParseResponse(`{"screen_0_Name_0":"x"}`)
	if err != nil || noToken.FlowToken != "" {
		t.Fatalf("without a token: %+v, %v", noToken, err)
	}
	for _, bad := range []string{``, `not json`, `[1,2]`, `"a string"`, `null`, `{"a":1}}`, `{"a":1} {"b":2}`} {
		if _, err := webhook.ParseResponse(bad); !errors.Is(err, webhook.ErrResponseNotJSON) {
			t.Errorf("ParseResponse(%q) = %v, want ErrResponseNotJSON", bad, err)
		}
	}
}

// Flows events keep their dedupe key across redeliveries; without
// entry.time, two separate activations of one alert still get two keys.
func TestFlowsDedupeKeyWithoutEntryTime(t *testing.T) {
	body := func(withTime bool, p90 int) []byte {
		entry := `{"id":"102290129340398",` + map[bool]string{true: `"time":1730231903,`, false: ""}[withTime] +
			`"changes":[{"field":"flows","value":{"event":"ENDPOINT_LATENCY","flow_id":"77","alert_state":"ACTIVATED","threshold":7000,"p90_latency":` + strconv.Itoa(p90) + `}}]}`
		return []byte(`{"object":"whatsapp_business_account","entry":[` + entry + `]}`)
	}
	key := func(b []byte) string {
		t.Helper()
		evs, err := webhook.Parse(b)
		if err != nil || len(evs) != 1 {
			t.Fatalf("Parse = %v, %v", evs, err)
		}
		return evs[0].DedupeKey
	}
	if a, b := key(body(true, 7300)), key(body(true, 7300)); a != b {
		t.Error("a redelivered flows event with entry.time got another key")
	}
	if a, b := key(body(false, 7300)), key(body(false, 7300)); a != b {
		t.Error("a redelivered flows event got another key")
	}
	if key(body(false, 7300)) == key(body(false, 8100)) {
		t.Error("two activations of an alert without entry.time share a key: the second would be dropped")
	}
}
