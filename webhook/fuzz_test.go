package webhook_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/webhook"
)

// FuzzParse: Parse never panics; what it accepts has keys, kinds and
// payloads that decode, and the same body always gives the same keys (so
// WhatsApp's retries deduplicate); what it refuses is a *PayloadError.
func FuzzParse(f *testing.F) {
	at := time.Unix(1730231903, 0)
	for _, seed := range [][]byte{
		notification(messagesChange(nfmReply("wamid.1", "wamid.0", `{"flow_token":"wf1.x","a":[1,{"b":null}]}`, at))),
		notification(messagesChange(map[string]any{"id": "wamid.2", "type": "text", "from": "1", "text": map[string]any{"body": "hé"}})),
		notification(flowsChange(map[string]any{"event": "ENDPOINT_LATENCY", "flow_id": "1", "alert_state": "ACTIVATED", "threshold": "7000", "p90_latency": 7100.5})),
		notification(map[string]any{"field": "messages", "value": map[string]any{"statuses": []any{map[string]any{"id": "wamid.3", "status": "read"}}}}),
		notification(map[string]any{"field": "account_update", "value": map[string]any{"x": 1}}),
		[]byte(`{"object":"whatsapp_business_account","entry":[{"id":1,"time":"1730231903"}]}`),
		[]byte(`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":7}]}}]}]}`),
		[]byte(`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"x","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":{"k":1}}}}]}}]}]}`),
		[]byte(`{"entry":{}}`),
		[]byte(`[]`),
		[]byte(`{"entry":[{"changes":[{"field":"flows","value":{"threshold":1e999}}]}]}`),
		[]byte("\xff\xfe"),
		[]byte(``),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := webhook.Parse(body)
		if err != nil {
			var pe *webhook.PayloadError
			if !errors.As(err, &pe) || !(errors.Is(err, webhook.ErrNotJSON) || errors.Is(err, webhook.ErrWrongShape)) {
				t.Fatalf("error %v (%T) is not a *PayloadError of a known kind", err, err)
			}
			return
		}
		again, err := webhook.Parse(body)
		if err != nil || len(again) != len(evs) {
			t.Fatalf("second Parse differs: %d events, %v", len(again), err)
		}
		for i, ev := range evs {
			if ev.DedupeKey == "" || len(ev.Payload) == 0 {
				t.Fatalf("event %d: empty key or payload", i)
			}
			if again[i].DedupeKey != ev.DedupeKey {
				t.Fatalf("event %d: key %q then %q", i, ev.DedupeKey, again[i].DedupeKey)
			}
			e, err := webhook.DecodeEvent(ev.Payload)
			if err != nil {
				t.Fatalf("event %d: payload does not decode: %v", i, err)
			}
			switch ev.Kind {
			case waflow.EventCompletion, waflow.EventMessage:
				m, err := e.DecodeMessage()
				if err != nil || "msg:"+m.ID != ev.DedupeKey || (ev.Kind == waflow.EventCompletion) != m.IsCompletion() {
					t.Fatalf("event %d: message %+v, %v", i, m, err)
				}
			case waflow.EventStatus:
				if _, err := e.DecodeStatus(); err != nil {
					t.Fatalf("event %d: status: %v", i, err)
				}
			case waflow.EventFlows:
				if _, err := e.DecodeFlowsEvent(); err != nil {
					t.Fatalf("event %d: flows: %v", i, err)
				}
			case waflow.EventOther:
			default:
				t.Fatalf("event %d: unknown kind %q", i, ev.Kind)
			}
		}
	})
}

// FuzzParseResponse: never panics; an accepted response_json is an object
// whose flow_token, if a string, is lifted out of Values.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{`{"flow_token":"wf1.a","x":1}`, `{}`, `{"flow_token":5}`, `[1]`, `{"a":1}}`, `nul`, `{"a":"\ud800"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := webhook.ParseResponse(s)
		if err != nil {
			if !errors.Is(err, webhook.ErrResponseNotJSON) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if r.Values == nil || string(r.Raw) != s {
			t.Fatalf("accepted %q as %+v", s, r)
		}
		if _, ok := r.Values["flow_token"]; ok && r.FlowToken != "" {
			t.Fatal("flow_token left in Values")
		}
	})
}

// FuzzParseRedacts: whatever the body, no event Parse gives stores a flow
// token this server signed in clear, and the flow_token the worker reads
// from a stored completion is empty or redacted.
func FuzzParseRedacts(f *testing.F) {
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	tok, _, _ := iss.Issue("book_table", userWAID)
	at := time.Unix(1730231903, 0)
	for _, rj := range []string{
		`{"flow_token":"` + tok + `","a":"` + tok + `"}`,
		strings.Replace(`{"flow_token":"`+tok+`"}`, "wf1", `\u0077f1`, 1),
		`{"flow_token":"` + flowtoken.Redact(tok) + `"}`,
		`{"flow_token":"unused","flow_token":"` + tok + `"}`,
	} {
		f.Add(notification(messagesChange(nfmReply("wamid.1", "", rj, at))))
	}
	f.Add([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"x","Interactive":{"nfm_reply":{"response_json":{"flow_token":"` + tok + `"}}}}]}}]}]}`))
	tokenLike := regexp.MustCompile(`wf1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := webhook.Parse(body)
		if err != nil {
			return
		}
		for _, ev := range evs {
			for _, m := range tokenLike.FindAll(ev.Payload, -1) {
				if _, err := iss.Parse(string(m)); err == nil {
					t.Fatalf("a stored payload holds a token in clear:\n%s", ev.Payload)
				}
			}
			e, err := webhook.DecodeEvent(ev.Payload)
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.DecodeMessage()
			if err != nil || m.Interactive == nil || m.Interactive.NFMReply == nil {
				continue
			}
			r, err := webhook.ParseResponse(m.Interactive.NFMReply.ResponseJSON)
			if err != nil {
				continue
			}
			if ft := r.FlowToken; ft != "" && ft != flowtoken.Redacted && !flowtoken.IsRedacted(ft) {
				t.Fatalf("a stored completion's flow_token is not redacted: %q", ft)
			}
		}
	})
}

// FuzzUsers checks Event.Users on any stored event: it never panics, and
// every sighting it returns is one the store accepts (a phone number or a
// BSUID, each of its documented shape).
func FuzzUsers(f *testing.F) {
	for _, name := range []string{"completion_username_no_phone.json", "text_same_user_with_phone.json",
		"status_delivered_to_bsuid.json", "system_user_changed_user_id.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "bsuid", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"entry":[{"changes":[{"field":"user_id_update","value":{"user_id_update":[{"wa_id":"1555","user_id":"US.1","previous_user_id":"US.2"}]}}]}]}`))
	f.Add([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"contacts":[{"wa_id":"US.1","user_id":"15551234567"}],"messages":[{"id":"w","from":"US.9"}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := webhook.Parse(body)
		if err != nil {
			return
		}
		for _, ev := range evs {
			e, err := webhook.DecodeEvent(ev.Payload)
			if err != nil {
				t.Fatalf("a parsed event does not decode: %v", err)
			}
			for _, s := range e.Users(time.Unix(1730231903, 0)) {
				if err := s.Validate(); err != nil {
					t.Fatalf("sighting %+v of %s: %v", s, ev.Payload, err)
				}
				if s.At.IsZero() {
					t.Fatalf("sighting %+v has no time", s)
				}
			}
		}
	})
}
