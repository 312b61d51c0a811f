package storetest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// Before migration 005 of both drivers, completions and inbox events held
// flow tokens in clear; since, the webhook receiver stores them in
// flowtoken.Redact's form, and the migration converts the rows stored
// before. WriteLegacyTokenRows writes such rows (the stores keep what they
// are given), and CheckLegacyTokenRowsRedacted checks them once the
// migration ran. A driver's test writes the rows, marks migration 005
// unapplied, reopens the store (which applies it) and checks.
//
// The tokens were signed with LegacyTokenSecret; package webhook's tests
// check that the redacted forms here are flowtoken.Redact's and that the
// converted pending event is still processed.
const (
	LegacyTokenSecret = "storetest-legacy-token-secret"

	// LegacyToken is used by the legacy completion.
	LegacyToken         = "wf1.eyJpIjoiVzJ3NUZ5dVBHWjhTRVdrbk5vblNBUSIsImYiOiJib29rX3RhYmxlIiwidSI6IjE1NTUxMjM0NTY3IiwidCI6MTc0MTk2NDQwMCwiZSI6NDg5NTU2NDQwMH0.AcYQtHPuucr4oKSbPy6K2Wt5kz6BMAnZJGdREwZt1TQ"
	LegacyTokenRedacted = "wf1.eyJpIjoiVzJ3NUZ5dVBHWjhTRVdrbk5vblNBUSIsImYiOiJib29rX3RhYmxlIiwidSI6IjE1NTUxMjM0NTY3IiwidCI6MTc0MTk2NDQwMCwiZSI6NDg5NTU2NDQwMH0.~AcYQtHPuucr4oKSbPy6K2W"
	LegacyTokenID       = "W2w5FyuPGZ8SEWknNonSAQ"

	// LegacyPendingToken is the token of LegacyPendingEvent, a completion
	// not processed yet: its token is issued.
	LegacyPendingToken         = "wf1.eyJpIjoiTzNZajdBWHNfZlhwRmlZNElGTlFtZyIsImYiOiJib29rX3RhYmxlIiwidSI6IjE1NTUxMjM0NTY3IiwidCI6MTc0MTk2NDQwMCwiZSI6NDg5NTU2NDQwMH0.1Xmb23qiGJsWSeKpSyx2Uc4DG6IcIO3_k52mkivc6gY"
	LegacyPendingTokenRedacted = "wf1.eyJpIjoiTzNZajdBWHNfZlhwRmlZNElGTlFtZyIsImYiOiJib29rX3RhYmxlIiwidSI6IjE1NTUxMjM0NTY3IiwidCI6MTc0MTk2NDQwMCwiZSI6NDg5NTU2NDQwMH0.~1Xmb23qiGJsWSeKpSyx2Uc"
	LegacyPendingTokenID       = "O3Yj7AXs_fXpFiY4IFNQmg"
	LegacyPendingEvent         = "msg:wamid.legacy-pending"

	// LegacyObjectToken is in an event whose response_json is an object.
	LegacyObjectToken         = "wf1.eyJpIjoiQklhRHdVSXl3em9WQU80eFl0M04tdyIsImYiOiJib29rX3RhYmxlIiwidSI6IjE1NTUxMjM0NTY3IiwidCI6MTc0MTk2NDQwMCwiZSI6NDg5NTU2NDQwMH0.whjg1gpzEeZexpe8mrhgllbvzjY9kaFEFExwrLD5wm0"
	LegacyObjectTokenRedacted = "wf1.eyJpIjoiQklhRHdVSXl3em9WQU80eFl0M04tdyIsImYiOiJib29rX3RhYmxlIiwidSI6IjE1NTUxMjM0NTY3IiwidCI6MTc0MTk2NDQwMCwiZSI6NDg5NTU2NDQwMH0.~whjg1gpzEeZexpe8mrhgll"
)

// legacyMessage is an inbox payload as package webhook stored a completion
// before tokens were redacted; response_json is raw JSON (a string or an
// object).
func legacyMessage(wamid string, responseJSON string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry_id":"102290129340398","entry_time":1741964400,"field":"messages",` +
		`"metadata":{"display_phone_number":"15550001111","phone_number_id":"106540352242922"},` +
		`"contacts":[{"profile":{"name":"Kerry"},"wa_id":"15551234567"}],` +
		`"message":{"from":"15551234567","id":"` + wamid + `","timestamp":"1741964460","type":"interactive",` +
		`"interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":` + responseJSON + `}}}}`)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// legacyRow is one stored row before and after the migration. exact means
// the row keeps its bytes but for the tokens; otherwise it is compared as
// JSON (the drivers' JSON functions write it their own way).
type legacyRow struct {
	key         string // the inbox event's dedupe key, or "completion:" and the message id
	kind        waflow.EventKind
	before      string
	after       string
	exact       bool
	flowToken   string // the clear token it held, "" for none
	unconverted bool   // the migration leaves it alone
}

func legacyRows() []legacyRow {
	pending := `{"flow_token":"` + LegacyPendingToken + `","guests":4,"note":"my token: ` + LegacyPendingToken + ` <ok>"}`
	pendingAfter := strings.ReplaceAll(pending, LegacyPendingToken, LegacyPendingTokenRedacted)
	object := `{"flow_token":"` + LegacyObjectToken + `","guests":2}`
	unused := `{"flow_token":"unused","guests":1}`
	nul := `{"message":{"id":"wamid.legacy-nul","type":"text","text":{"body":"what is a flow_token?\u0000"}}}`
	done := `{"flow_token":"` + LegacyToken + `","guests":3}`
	return []legacyRow{
		{key: LegacyPendingEvent, kind: waflow.EventCompletion, exact: true, flowToken: LegacyPendingToken,
			before: string(legacyMessage("wamid.legacy-pending", quote(pending))), after: string(legacyMessage("wamid.legacy-pending", quote(pendingAfter)))},
		{key: "msg:wamid.legacy-object", kind: waflow.EventCompletion, exact: true, flowToken: LegacyObjectToken,
			before: string(legacyMessage("wamid.legacy-object", object)), after: string(legacyMessage("wamid.legacy-object", strings.ReplaceAll(object, LegacyObjectToken, LegacyObjectTokenRedacted)))},
		{key: "msg:wamid.legacy-unused", kind: waflow.EventCompletion,
			before: string(legacyMessage("wamid.legacy-unused", quote(unused))), after: string(legacyMessage("wamid.legacy-unused", quote(`{"flow_token":"~","guests":1}`)))},
		{key: "msg:wamid.legacy-unused-object", kind: waflow.EventCompletion,
			before: string(legacyMessage("wamid.legacy-unused-object", unused)), after: string(legacyMessage("wamid.legacy-unused-object", `{"flow_token":"~","guests":1}`))},
		{key: "msg:wamid.legacy-nul", kind: waflow.EventMessage, exact: true, unconverted: true, before: nul, after: nul},
		{key: "other:legacy-not-json", kind: waflow.EventOther, exact: true, unconverted: true, before: `flow_token, not JSON`, after: `flow_token, not JSON`},
		{key: "completion:wamid.legacy-done", exact: true, flowToken: LegacyToken,
			before: done, after: strings.ReplaceAll(done, LegacyToken, LegacyTokenRedacted)},
		{key: "completion:wamid.legacy-unused", before: unused, after: `{"flow_token":"~","guests":1}`},
	}
}

// WriteLegacyTokenRows writes, through s, rows as waflow stored them before
// flow tokens were redacted: the tokens, inbox events (LegacyPendingEvent
// pending, its token issued) and completions.
func WriteLegacyTokenRows(t *testing.T, s waflow.Store) {
	t.Helper()
	exp := time.Date(2125, 2, 18, 15, 0, 0, 0, time.UTC)
	for _, id := range []string{LegacyTokenID, LegacyPendingTokenID, "legacy-unused"} {
		if err := s.CreateToken(ctx, waflow.FlowToken{ID: id, Flow: "book_table", WAID: "15551234567", IssuedAt: Epoch, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range legacyRows() {
		if msg, ok := strings.CutPrefix(r.key, "completion:"); ok {
			tok := LegacyTokenID
			if r.flowToken == "" {
				tok = "legacy-unused"
			}
			if _, err := s.RecordCompletion(ctx, waflow.Completion{MessageID: msg, TokenID: tok, Flow: "book_table", WAID: "15551234567",
				Response: []byte(r.before), CompletedAt: Epoch}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := s.AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: r.key, Kind: r.kind, Payload: []byte(r.before)}}); err != nil {
			t.Fatal(err)
		}
	}
}

// CheckLegacyTokenRowsRedacted checks the rows WriteLegacyTokenRows wrote,
// after migration 005: no token in clear, the redacted forms where they
// were, everything else as it was.
func CheckLegacyTokenRowsRedacted(t *testing.T, s waflow.Store) {
	t.Helper()
	for _, r := range legacyRows() {
		var got []byte
		if msg, ok := strings.CutPrefix(r.key, "completion:"); ok {
			c, err := s.Completion(ctx, msg)
			if err != nil {
				t.Fatal(err)
			}
			got = c.Response
		} else {
			ev, err := s.InboxEventByKey(ctx, r.key)
			if err != nil {
				t.Fatal(err)
			}
			got = ev.Payload
		}
		if r.flowToken != "" && bytes.Contains(got, []byte(r.flowToken[strings.LastIndexByte(r.flowToken, '.')+1:])) {
			t.Errorf("%s still holds its flow token:\n%s", r.key, got)
			continue
		}
		if r.exact || r.unconverted {
			if string(got) != r.after {
				t.Errorf("%s after the migration:\n got %s\nwant %s", r.key, got, r.after)
			}
			continue
		}
		if !sameJSON(got, []byte(r.after)) {
			t.Errorf("%s after the migration (compared as JSON):\n got %s\nwant %s", r.key, got, r.after)
		}
	}
}

// sameJSON compares two JSON values, and the JSON inside their strings that
// holds an object (response_json).
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(expandJSONStrings(x), expandJSONStrings(y))
}

func expandJSONStrings(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = expandJSONStrings(x)
		}
	case []any:
		for i, x := range v {
			v[i] = expandJSONStrings(x)
		}
	case string:
		var inner map[string]any
		if strings.HasPrefix(v, "{") && json.Unmarshal([]byte(v), &inner) == nil {
			return expandJSONStrings(inner)
		}
	}
	return v
}
