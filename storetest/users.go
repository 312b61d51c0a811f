package storetest

import (
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// testUsersMerge checks the users table (protocol.md 4.2): a user with a
// username seen first by BSUID alone, the same user seen by phone number
// alone, then both together, is one user, with every identifier, the
// newest username and the span of sightings.
func testUsersMerge(t *testing.T, s waflow.Store, clock *Clock) {
	const phone, bsuid, parent = "15551234567", "US.13491208655302741918", "US.ENT.11815799212886844830"
	_, err := s.UserByBSUID(ctx, bsuid)
	WantErr(t, "UserByBSUID before any sighting", err, waflow.ErrNotFound)
	_, err = s.UserByPhone(ctx, "")
	WantErr(t, "UserByPhone(empty)", err, waflow.ErrNotFound)

	byID, err := s.SeeUser(ctx, waflow.UserSighting{BSUID: bsuid, ParentBSUID: parent, Username: "@ana"})
	WantErr(t, "SeeUser(BSUID only)", err, nil)
	want := waflow.User{ID: byID.ID, BSUID: bsuid, ParentBSUID: parent, Username: "@ana", FirstSeen: Epoch, LastSeen: Epoch}
	Diff(t, "user seen by BSUID", want, byID)
	got, err := s.UserByBSUID(ctx, parent)
	WantErr(t, "UserByBSUID(parent)", err, nil)
	Diff(t, "user found by parent BSUID", want, got)

	clock.Advance(time.Minute)
	byPhone, err := s.SeeUser(ctx, waflow.UserSighting{Phone: phone})
	WantErr(t, "SeeUser(phone only)", err, nil)
	if byPhone.ID == byID.ID {
		t.Fatalf("a phone number never seen with the BSUID joined its user: %+v", byPhone)
	}

	// Both in one webhook: one user, the older, with both identifiers.
	clock.Advance(time.Minute)
	both, err := s.SeeUser(ctx, waflow.UserSighting{Phone: phone, BSUID: bsuid, Username: "@ana_b", At: clock.Now()})
	WantErr(t, "SeeUser(both)", err, nil)
	want = waflow.User{ID: byID.ID, Phone: phone, BSUID: bsuid, ParentBSUID: parent, Username: "@ana_b",
		FirstSeen: Epoch, LastSeen: Epoch.Add(2 * time.Minute)}
	Diff(t, "merged user", want, both)
	for name, find := range map[string]func() (waflow.User, error){
		"UserByPhone": func() (waflow.User, error) { return s.UserByPhone(ctx, phone) },
		"UserByBSUID": func() (waflow.User, error) { return s.UserByBSUID(ctx, bsuid) },
	} {
		got, err := find()
		WantErr(t, name, err, nil)
		Diff(t, name+" after the merge", want, got)
	}

	// A late webhook (older than what is stored) changes no username.
	late, err := s.SeeUser(ctx, waflow.UserSighting{BSUID: bsuid, Username: "@old", At: Epoch.Add(-time.Hour)})
	WantErr(t, "SeeUser(late)", err, nil)
	want.FirstSeen = Epoch.Add(-time.Hour)
	Diff(t, "user after a late sighting", want, late)

	// The BSUID changes (a system message with previous_user_id): same user.
	clock.Advance(time.Minute)
	const next = "US.99999999999999999999"
	moved, err := s.SeeUser(ctx, waflow.UserSighting{BSUID: next, PreviousBSUID: bsuid})
	WantErr(t, "SeeUser(changed BSUID)", err, nil)
	if moved.ID != want.ID || moved.BSUID != next || moved.Phone != phone {
		t.Fatalf("after a BSUID change: %+v, want user %d with BSUID %s and phone %s", moved, want.ID, next, phone)
	}
	_, err = s.UserByBSUID(ctx, bsuid)
	WantErr(t, "UserByBSUID(previous BSUID)", err, waflow.ErrNotFound)

	// LastSeen moves to the hour (waflow.LastSeenResolution): a frequent
	// user costs a read.
	clock.Advance(10 * time.Minute)
	again, err := s.SeeUser(ctx, waflow.UserSighting{Phone: phone, BSUID: next})
	WantErr(t, "SeeUser(10 minutes later)", err, nil)
	Diff(t, "user seen again within the hour", moved, again)
	clock.Advance(waflow.LastSeenResolution)
	later, err := s.SeeUser(ctx, waflow.UserSighting{Phone: phone, BSUID: next})
	WantErr(t, "SeeUser(an hour later)", err, nil)
	if !later.LastSeen.Equal(clock.Now()) {
		t.Fatalf("LastSeen an hour later: %v, want %v", later.LastSeen, clock.Now())
	}
	if got, _ := s.UserByPhone(ctx, phone); !got.LastSeen.Equal(clock.Now()) {
		t.Fatalf("stored LastSeen an hour later: %v, want %v", got.LastSeen, clock.Now())
	}

	for name, bad := range map[string]waflow.UserSighting{
		"nothing":            {Username: "@x"},
		"a BSUID as phone":   {Phone: bsuid},
		"a phone as BSUID":   {BSUID: phone},
		"a malformed parent": {BSUID: next, ParentBSUID: "ENT"},
	} {
		_, err := s.SeeUser(ctx, bad)
		WantErr(t, "SeeUser("+name+")", err, waflow.ErrInvalid)
	}
}

// testUsersRecycledNumber checks that a phone number seen with a new BSUID
// does not join the user kept under another BSUID: a BSUID names one user
// (a change of it comes as a system message with the previous one), so a
// number now seen with another BSUID was passed on to someone else
// (protocol.md 4.2). The number moves to the new user; the former owner
// keeps their BSUID.
func testUsersRecycledNumber(t *testing.T, s waflow.Store, clock *Clock) {
	const phone, former, owner = "15557654321", "US.11111111111111111111", "US.22222222222222222222"
	first, err := s.SeeUser(ctx, waflow.UserSighting{Phone: phone, BSUID: former, Username: "@first"})
	WantErr(t, "SeeUser(former owner)", err, nil)
	clock.Advance(time.Minute)
	second, err := s.SeeUser(ctx, waflow.UserSighting{BSUID: owner, Username: "@second"})
	WantErr(t, "SeeUser(new owner by BSUID)", err, nil)
	clock.Advance(time.Minute)
	both, err := s.SeeUser(ctx, waflow.UserSighting{Phone: phone, BSUID: owner})
	WantErr(t, "SeeUser(new owner with the number)", err, nil)
	if both.ID != second.ID || both.BSUID != owner || both.Phone != phone || both.Username != "@second" {
		t.Fatalf("new owner of the number: %+v, want user %d with BSUID %s, phone %s, @second", both, second.ID, owner, phone)
	}
	got, err := s.UserByBSUID(ctx, former)
	WantErr(t, "UserByBSUID(former owner)", err, nil)
	if got.ID != first.ID || got.Phone != "" || got.Username != "@first" {
		t.Fatalf("former owner after the number moved: %+v, want user %d without a phone, @first", got, first.ID)
	}
	got, err = s.UserByPhone(ctx, phone)
	WantErr(t, "UserByPhone", err, nil)
	if got.ID != second.ID {
		t.Fatalf("UserByPhone after the number moved: user %d, want %d", got.ID, second.ID)
	}
	// Neither seen before: the number is taken from its first owner all the
	// same.
	const third = "US.33333333333333333333"
	clock.Advance(time.Minute)
	fresh, err := s.SeeUser(ctx, waflow.UserSighting{Phone: phone, BSUID: third})
	WantErr(t, "SeeUser(a third owner)", err, nil)
	if fresh.ID == second.ID || fresh.BSUID != third || fresh.Phone != phone {
		t.Fatalf("third owner of the number: %+v, want a new user (not %d) with BSUID %s", fresh, second.ID, third)
	}
	if got, _ := s.UserByBSUID(ctx, owner); got.Phone != "" || got.ID != second.ID {
		t.Fatalf("second owner after the number moved again: %+v", got)
	}
}

// testUserIDsKept checks that a flow token keeps the BSUID it was issued
// to and a completion its user's parent BSUID and username.
func testUserIDsKept(t *testing.T, s waflow.Store, clock *Clock) {
	tok := waflow.FlowToken{ID: "b", Flow: "book_table", UserID: "US.13491208655302741918", IssuedAt: Epoch, ExpiresAt: Epoch.Add(time.Hour)}
	WantErr(t, "CreateToken(BSUID only)", s.CreateToken(ctx, tok), nil)
	got := mustToken(t, s, "b")
	if got.UserID != tok.UserID || got.WAID != "" {
		t.Fatalf("token issued to a BSUID: %+v", got)
	}
	c := waflow.Completion{MessageID: "wamid.B", TokenID: "b", Flow: "book_table", UserID: tok.UserID,
		ParentUserID: "US.ENT.11815799212886844830", Username: "@ana", Response: []byte(`{"a":1}`), CompletedAt: Epoch.Add(time.Minute)}
	rec, err := s.RecordCompletion(ctx, c)
	WantErr(t, "RecordCompletion", err, nil)
	stored, err := s.Completion(ctx, "wamid.B")
	WantErr(t, "Completion", err, nil)
	if stored.WAID != "" || stored.UserID != c.UserID || stored.ParentUserID != c.ParentUserID || stored.Username != "@ana" || rec.Username != "@ana" {
		t.Fatalf("completion of a user without a phone number: %+v", stored)
	}
	kept, err := s.KeepCompletion(ctx, waflow.Completion{MessageID: "wamid.K", UserID: tok.UserID, Username: "@ana",
		ParentUserID: c.ParentUserID, Response: []byte(`{}`), CompletedAt: Epoch, Status: waflow.CompletionRejected, Result: "x"})
	WantErr(t, "KeepCompletion", err, nil)
	if kept.Username != "@ana" || kept.ParentUserID != c.ParentUserID {
		t.Fatalf("kept completion lost the username or parent BSUID: %+v", kept)
	}
}

// testFlowHealthPausesOutbox checks that the messages of a flow Meta
// reported BLOCKED or THROTTLED stay pending until it is healthy again,
// that other messages go on, and that a late event changes nothing.
func testFlowHealthPausesOutbox(t *testing.T, s waflow.Store, clock *Clock) {
	_, err := s.FlowHealth(ctx, "survey")
	WantErr(t, "FlowHealth before any event", err, waflow.ErrNotFound)
	WantErr(t, "SetFlowHealth(no status)", s.SetFlowHealth(ctx, waflow.FlowHealth{Flow: "survey"}), waflow.ErrInvalid)

	blocked := waflow.FlowHealth{Flow: "survey", FlowID: "42", Status: "BLOCKED", Paused: true, Message: "blocked", UpdatedAt: Epoch}
	WantErr(t, "SetFlowHealth(BLOCKED)", s.SetFlowHealth(ctx, blocked), nil)
	got, err := s.FlowHealth(ctx, "survey")
	WantErr(t, "FlowHealth", err, nil)
	Diff(t, "stored flow health", blocked, got)

	flowMsg := outMsg("invite:1", "")
	flowMsg.Flow = "survey"
	other := outMsg("confirm:2", "")
	otherFlow := outMsg("invite:3", "")
	otherFlow.Flow = "booking"
	for _, m := range []waflow.OutboxMessage{flowMsg, other, otherFlow} {
		if _, _, err := s.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimOutbox(ctx, "s1", 10, time.Hour)
	WantErr(t, "ClaimOutbox while survey is blocked", err, nil)
	if len(claimed) != 2 || claimed[0].IdempotencyKey != "confirm:2" || claimed[1].Flow != "booking" {
		t.Fatalf("claimed while the flow is blocked: %+v, want confirm:2 and invite:3", claimed)
	}

	// An event older than the stored one (delivered late) changes nothing.
	WantErr(t, "SetFlowHealth(late)", s.SetFlowHealth(ctx, waflow.FlowHealth{Flow: "survey", Status: "PUBLISHED", UpdatedAt: Epoch.Add(-time.Hour)}), nil)
	if got, _ := s.FlowHealth(ctx, "survey"); !got.Paused {
		t.Fatalf("a late PUBLISHED event unpaused the flow: %+v", got)
	}
	none, err := s.ClaimOutbox(ctx, "s1", 10, time.Hour)
	WantErr(t, "ClaimOutbox after a late event", err, nil)
	if len(none) != 0 {
		t.Fatalf("claimed after a late event: %+v", none)
	}

	clock.Advance(time.Minute)
	WantErr(t, "SetFlowHealth(PUBLISHED)", s.SetFlowHealth(ctx, waflow.FlowHealth{Flow: "survey", Status: "PUBLISHED"}), nil)
	again, err := s.ClaimOutbox(ctx, "s1", 10, time.Hour)
	WantErr(t, "ClaimOutbox once healthy", err, nil)
	if len(again) != 1 || again[0].IdempotencyKey != "invite:1" || again[0].Flow != "survey" {
		t.Fatalf("claimed once the flow is healthy: %+v, want invite:1", again)
	}
}
