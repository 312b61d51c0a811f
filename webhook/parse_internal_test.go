package webhook

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParseFastSlow: the single-pass parser and the level-by-level one give
// the same events for every body the fast one accepts, and the payloads are
// valid JSON that json.Marshal of the decoded Event reproduces up to
// whitespace.
func FuzzParseFastSlow(f *testing.F) {
	for _, s := range []string{
		`{"object":"whatsapp_business_account","entry":[{"id":"1","time":1730231903,"changes":[{"field":"messages","value":{"metadata":{"a":1},"contacts":[{"wa_id":"1"}],"messages":[{"id":"wamid.A","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{\"flow_token\":\"x\"}"}}}],"statuses":[{"id":"wamid.S","status":"read"}]}},{"field":"flows","value":{"event":"ENDPOINT_LATENCY","flow_id":"7","alert_state":"ACTIVATED"}},{"field":"other","value":[1, 2]}]}]}`,
		`{"entry":[{"changes":[{"field":"messages","value":{"errors":[]}}]}]}`,
		`{"entry":[{"id":5,"changes":[{"field":"flows","value":{"event":"X"}}]},{"id":"6"}]}`,
		`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"\u00e9\n"}]}}]}]}`,
		`{"entry":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := parseFast(body)
		if !ok {
			return
		}
		slow, err := parseSlow(body)
		if err != nil {
			t.Fatalf("parseFast accepted what parseSlow refuses: %v", err)
		}
		if len(fast) != len(slow) {
			t.Fatalf("%d events fast, %d slow", len(fast), len(slow))
		}
		for i := range fast {
			if fast[i].DedupeKey != slow[i].DedupeKey || fast[i].Kind != slow[i].Kind || !bytes.Equal(fast[i].Payload, slow[i].Payload) {
				t.Fatalf("event %d differs:\nfast %s %s %s\nslow %s %s %s", i, fast[i].Kind, fast[i].DedupeKey, fast[i].Payload,
					slow[i].Kind, slow[i].DedupeKey, slow[i].Payload)
			}
			var e Event
			if err := json.Unmarshal(fast[i].Payload, &e); err != nil {
				t.Fatalf("payload %d is not valid JSON: %v\n%s", i, err, fast[i].Payload)
			}
			marshalled, _ := json.Marshal(e)
			var got, want any
			json.Unmarshal(fast[i].Payload, &got)
			json.Unmarshal(marshalled, &want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("payload %d:\n got %s\nwant %s", i, fast[i].Payload, marshalled)
			}
		}
	})
}
