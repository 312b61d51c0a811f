package webhook_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
	"github.com/waflow/waflow/outbox"
	"github.com/waflow/waflow/webhook"
)

// The identifiers of the fixtures in testdata/bsuid (Meta's documentation
// examples; see the folder's README).
const (
	anaBSUID       = "US.13491208655302741918"
	anaParentBSUID = "US.ENT.11815799212886844830"
	anaPhone       = "16505551234"
	anaUsername    = "@ana.tries"
	anaNextBSUID   = "US.58214407731926630002"
	anaCompletion  = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUJTVUlEMDAwMDAwMDAwMDEA"
)

// fixture reads testdata/bsuid/name with its placeholders filled in.
func fixture(t *testing.T, name, token, contextID string, at time.Time) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bsuid", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("{{FLOW_TOKEN}}", token, "{{CONTEXT_ID}}", contextID, "{{TIMESTAMP}}", fmt.Sprint(at.Unix())).Replace(string(b))
	return []byte(s)
}

// confirmBy enqueues the thank-you message of a completion to the user, by
// phone number when known and else by BSUID, as the catalog's confirmations
// do.
func confirmBy(store waflow.Store) webhook.CompletionHandler {
	return func(ctx context.Context, c webhook.Completed) error {
		to := waflow.Address(c.WAID, c.UserID)
		m := &graph.TextMessage{To: to, Body: "Thanks, your answers are in."}
		if waflow.IsBSUID(to) {
			m.To, m.Recipient = "", to
		}
		body, err := graph.EncodeMessage(m)
		if err != nil {
			return err
		}
		_, _, err = store.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "confirm:" + c.MessageID, To: to, Payload: body})
		return err
	}
}

// A user with a username completes a flow with no phone number at all: the
// completion is attributed to the flow its BSUID-bound token names, stored
// with the BSUID, parent BSUID and username, and confirmed through the
// Graph API with recipient (no to); the user is kept. Later the same user
// writes with their phone number: still one user. Then their BSUID
// changes: still the same user (protocol.md 4.2).
func TestUsernameUserWithoutPhone(t *testing.T) {
	t.Parallel()
	b := newBench(t, webhook.WorkerConfig{})
	users := b.store
	w, err := webhook.NewWorker(webhook.WorkerConfig{Store: b.store, Users: users, Tokens: b.iss, Now: b.clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.Handle("customer_survey", confirmBy(b.store))
	b.worker = w

	// The flow message went to the BSUID: the token is bound to it.
	tok, c, err := b.iss.IssueUser("customer_survey", "", anaBSUID)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.CreateToken(ctx, waflow.FlowToken{ID: c.ID, Flow: c.Flow, UserID: c.UserID, ExpiresAt: c.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	if err := b.store.SetTokenMessage(ctx, c.ID, "wamid.invite"); err != nil {
		t.Fatal(err)
	}

	b.send(fixture(t, "completion_username_no_phone.json", tok, "wamid.invite", b.clock.Now()))
	b.drain()
	b.wantEvent("msg:"+anaCompletion, waflow.InboxDone, "recorded and handled")
	got, err := b.store.Completion(ctx, anaCompletion)
	if err != nil {
		t.Fatal(err)
	}
	if got.Flow != "customer_survey" || got.TokenID != c.ID || got.WAID != "" || got.UserID != anaBSUID ||
		got.ParentUserID != anaParentBSUID || got.Username != anaUsername || got.Status != waflow.CompletionHandled {
		t.Fatalf("completion: %+v", got)
	}
	first, err := b.store.UserByBSUID(ctx, anaBSUID)
	if err != nil {
		t.Fatal(err)
	}
	if first.Phone != "" || first.Username != anaUsername || first.ParentBSUID != anaParentBSUID {
		t.Fatalf("user after the completion: %+v", first)
	}

	// The confirmation goes out by BSUID.
	fake := graphtest.New(t)
	client, err := graph.New(fake.Options())
	if err != nil {
		t.Fatal(err)
	}
	ow, err := outbox.New(outbox.Config{Store: b.store, Sender: client, PhoneNumberID: graphtest.PhoneNumberID, Now: b.clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := ow.SendDue(ctx); err != nil || st.Sent != 1 {
		t.Fatalf("SendDue: %+v, %v; want one message sent", st, err)
	}
	msgs := fake.Messages()
	if v := fake.Violations(); len(v) > 0 {
		t.Fatalf("Graph API requests of the wrong shape: %v", v)
	}
	if len(msgs) != 1 || msgs[0].Body["recipient"] != anaBSUID || msgs[0].Body["to"] != nil {
		t.Fatalf("confirmation sent as %+v; want recipient %s and no to", msgs, anaBSUID)
	}

	// A delivered status of it names the user by BSUID only.
	b.clock.Advance(time.Minute)
	b.send(fixture(t, "status_delivered_to_bsuid.json", "", msgs[0].WAMID, b.clock.Now()))
	b.drain()

	// Later, with the phone number: one user, the same one.
	b.clock.Advance(time.Hour)
	b.send(fixture(t, "text_same_user_with_phone.json", "", "", b.clock.Now()))
	b.drain()
	byPhone, err := b.store.UserByPhone(ctx, anaPhone)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := b.store.UserByBSUID(ctx, anaBSUID)
	if err != nil {
		t.Fatal(err)
	}
	if byPhone.ID != first.ID || byID.ID != first.ID || byPhone.BSUID != anaBSUID || byPhone.Username != anaUsername {
		t.Fatalf("user by phone %+v, by BSUID %+v; want both user %d with phone and BSUID", byPhone, byID, first.ID)
	}
	if !byPhone.FirstSeen.Equal(first.FirstSeen) || !byPhone.LastSeen.After(first.LastSeen) {
		t.Fatalf("seen %v to %v; want from the completion to the text", byPhone.FirstSeen, byPhone.LastSeen)
	}

	// The BSUID changes (a system message): the same user, under the new one.
	b.clock.Advance(time.Hour)
	b.send(fixture(t, "system_user_changed_user_id.json", "", "", b.clock.Now()))
	b.drain()
	moved, err := b.store.UserByPhone(ctx, anaPhone)
	if err != nil {
		t.Fatal(err)
	}
	if moved.ID != first.ID || moved.BSUID != anaNextBSUID {
		t.Fatalf("after user_changed_user_id: %+v; want user %d with BSUID %s", moved, first.ID, anaNextBSUID)
	}
}

// A token is checked against whichever identifiers the completion carries:
// a token bound to a BSUID refuses another BSUID; a token bound to a phone
// number refuses a BSUID the users table ties to another phone number, and
// accepts one it ties to the same phone number.
func TestTokenCheckedAgainstBSUID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		tokPhone    string
		tokBSUID    string
		seenPhone   string // the phone number the users table ties to anaBSUID, if any
		wantState   waflow.InboxState
		wantOutcome string
	}{
		{"token to another BSUID", "", "US.77777777777777777777", "", waflow.InboxRejected, "issued to another WhatsApp user"},
		{"token to the BSUID", "", anaBSUID, "", waflow.InboxDone, "recorded"},
		{"token to the parent BSUID", "", anaParentBSUID, "", waflow.InboxDone, "recorded"},
		{"token to a phone, BSUID tied to another phone", "15550009999", "", anaPhone, waflow.InboxRejected, "issued to another WhatsApp user"},
		{"token to a phone, BSUID tied to it", anaPhone, "", anaPhone, waflow.InboxDone, "recorded"},
		{"token to a phone, BSUID never seen with one", anaPhone, "", "", waflow.InboxDone, "recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBench(t, webhook.WorkerConfig{})
			w, err := webhook.NewWorker(webhook.WorkerConfig{Store: b.store, Users: b.store, Tokens: b.iss, Now: b.clock.Now, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			b.worker = w
			if tc.seenPhone != "" {
				if _, err := b.store.SeeUser(ctx, waflow.UserSighting{Phone: tc.seenPhone, BSUID: anaBSUID}); err != nil {
					t.Fatal(err)
				}
			}
			tok, c, err := b.iss.IssueUser("customer_survey", tc.tokPhone, tc.tokBSUID)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.store.CreateToken(ctx, waflow.FlowToken{ID: c.ID, Flow: c.Flow, WAID: c.WAID, UserID: c.UserID, ExpiresAt: c.ExpiresAt}); err != nil {
				t.Fatal(err)
			}
			b.send(fixture(t, "completion_username_no_phone.json", tok, "wamid.invite", b.clock.Now()))
			b.drain()
			b.wantEvent("msg:"+anaCompletion, tc.wantState, tc.wantOutcome)
			want := waflow.TokenIssued
			if tc.wantState == waflow.InboxDone {
				want = waflow.TokenUsed
			}
			if got := b.tokenState(c.ID); got != want {
				t.Fatalf("token %s, want %s", got, want)
			}
		})
	}
}

// The identifiers of a webhook are read leniently: a system part of an
// unexpected shape, or a contact without wa_id, does not make the
// notification a 400, and the phone number and BSUID of a user changing
// number are read from the system message.
func TestUsersOfOddShapes(t *testing.T) {
	t.Parallel()
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
		"messages":[{"id":"wamid.s1","type":"system","system":"not an object","from_user_id":"` + anaBSUID + `"},
		{"id":"wamid.s2","from":"16505550000","type":"system","timestamp":"1730231903","system":{"type":"user_changed_number","wa_id":"` + anaPhone + `",
		"user_id":"` + anaNextBSUID + `","previous_user_id":"` + anaBSUID + `"}}]}}]}]}`)
	evs, err := webhook.Parse(body)
	if err != nil || len(evs) != 2 {
		t.Fatalf("Parse = %d events, %v", len(evs), err)
	}
	e, _ := webhook.DecodeEvent(evs[0].Payload)
	if got := e.Users(time.Unix(1, 0)); len(got) != 1 || got[0].BSUID != anaBSUID || got[0].Phone != "" {
		t.Fatalf("users of a message with an odd system part: %+v", got)
	}
	e, _ = webhook.DecodeEvent(evs[1].Payload)
	got := e.Users(time.Unix(1, 0))
	want := waflow.UserSighting{Phone: anaPhone, BSUID: anaNextBSUID, PreviousBSUID: anaBSUID, At: time.Unix(1730231903, 0).UTC()}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("users of user_changed_number: %+v, want %+v (the new number, not the one left)", got, want)
	}
}
