package catalog

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
)

// flowHarness serves one catalog flow in process, on a real SQLite store
// and a fixed clock, and plays WhatsApp's client against it.
type flowHarness struct {
	t      *testing.T
	h      *endpoint.Handler
	key    *rsa.PrivateKey
	issuer *flowtoken.Issuer
	store  *sqlite.DB
	now    *time.Time
	cat    *registry.Registry
}

var (
	harnessKeyOnce sync.Once
	harnessKey     *rsa.PrivateKey
)

var harnessSecret = []byte("flow-harness-secret")

func newFlowHarness(t *testing.T, name string, now time.Time) *flowHarness {
	t.Helper()
	return newFlowHarnessWith(t, name, now, nil)
}

// newFlowHarnessWith is newFlowHarness with settings (nil: the defaults).
func newFlowHarnessWith(t *testing.T, name string, now time.Time, settings *Settings) *flowHarness {
	t.Helper()
	return newFlowHarnessBooked(t, name, now, settings, nil)
}

// newFlowHarnessBooked is newFlowHarnessWith with Deps.OnBooked.
func newFlowHarnessBooked(t *testing.T, name string, now time.Time, settings *Settings, onBooked func(context.Context, catalogstore.Booking) error) *flowHarness {
	t.Helper()
	harnessKeyOnce.Do(func() { harnessKey = testkeys.Key(0) })
	clock := now
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), sqlite.Options{Now: func() time.Time { return clock }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := Load(Deps{Store: db, Settings: settings, Now: func() time.Time { return clock }, Logger: quiet, OnBooked: onBooked})
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := flowtoken.NewIssuer([]byte("token-secret-of-the-harness"))
	iss.Now = func() time.Time { return clock }
	pk, _ := envelope.NewPrivateKeys(harnessKey)
	sig, _ := signature.New(harnessSecret)
	h, err := endpoint.New(endpoint.Config{Keys: pk, Signatures: sig, Tokens: endpoint.StoreTokens{Issuer: iss, Store: db}, Logger: quiet, Now: func() time.Time { return clock }}, c.Flow(name).Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return &flowHarness{t: t, h: h, key: harnessKey, issuer: iss, store: db, now: &clock, cat: c}
}

func (f *flowHarness) token(flow, waID string) string {
	f.t.Helper()
	tok, _, err := endpoint.StoreTokens{Issuer: f.issuer, Store: f.store}.Issue(context.Background(), flow, waID)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// send posts one request and returns the status and the decrypted answer.
func (f *flowHarness) send(req map[string]any) (int, map[string]any) {
	f.t.Helper()
	req["version"] = "4.0"
	plain, _ := json.Marshal(req)
	body, sess, err := envelope.EncryptRequest(&f.key.PublicKey, plain, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	r.Header.Set(signature.Header, signature.Sign(harnessSecret, body))
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	var out map[string]any
	if w.Code == 200 || w.Code == 427 {
		p, err := sess.DecryptResponse(w.Body.Bytes())
		if err != nil {
			f.t.Fatalf("status %d: %v", w.Code, err)
		}
		json.Unmarshal(p, &out)
	} else {
		out = map[string]any{"raw": w.Body.String()}
	}
	return w.Code, out
}

func (f *flowHarness) exchange(tok, screen string, data map[string]any) (string, map[string]any) {
	f.t.Helper()
	code, out := f.send(map[string]any{"action": "data_exchange", "screen": screen, "data": data, "flow_token": tok})
	if code != 200 {
		f.t.Fatalf("status %d: %v", code, out)
	}
	d, _ := out["data"].(map[string]any)
	return out["screen"].(string), d
}

func TestBookingSlotsAndCommit(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// Wednesday 2 December 2026, 08:10 in Berlin: 09:00 is too soon (60
	// minutes of notice), 09:30 is the first free slot.
	now := time.Date(2026, 12, 2, 8, 10, 0, 0, berlin)
	f := newFlowHarness(t, "appointment_booking", now)
	tok := f.token("appointment_booking", "1")
	screen, d := f.exchange(tok, "DETAILS", map[string]any{"name": "Ada", "reason": "Check up"})
	if screen != "DATE" || d["min_date"] != "2026-12-02" || d["max_date"] != "2027-01-01" {
		t.Fatalf("DATE = %v", d)
	}
	un := map[string]bool{}
	for _, x := range d["unavailable_dates"].([]any) {
		un[x.(string)] = true
	}
	// Weekends, Christmas closures are unavailable; a Thursday is not.
	for day, want := range map[string]bool{"2026-12-05": true, "2026-12-06": true, "2026-12-25": true, "2026-12-03": false, "2026-12-02": false} {
		if un[day] != want {
			t.Errorf("unavailable[%s] = %v, want %v", day, un[day], want)
		}
	}
	screen, d = f.exchange(tok, "DATE", map[string]any{"date": "2026-12-02"})
	slots := d["slots"].([]any)
	if screen != "TIME" || slots[0].(map[string]any)["id"] != "09:30" || len(slots) != 13 {
		t.Fatalf("TIME slots = %v", slots)
	}
	screen, d = f.exchange(tok, "TIME", map[string]any{"date": "2026-12-02", "time": "09:30", "reminder": false, "name": "Ada", "reason": "Check up"})
	if screen != "SUCCESS" {
		t.Fatalf("book: %s %v", screen, d)
	}
	// The next user does not get 09:30.
	tok2 := f.token("appointment_booking", "2")
	_, d = f.exchange(tok2, "DATE", map[string]any{"date": "2026-12-02"})
	if d["slots"].([]any)[0].(map[string]any)["id"] != "10:00" {
		t.Fatalf("slots after booking = %v", d["slots"])
	}
	screen, d = f.exchange(tok2, "TIME", map[string]any{"date": "2026-12-02", "time": "09:30", "reminder": false, "name": "Bo", "reason": "Check up"})
	if screen != "TIME" || d["error_message"] != msgSlotTaken {
		t.Fatalf("taken slot: %s %v", screen, d)
	}
}

func TestBookingReplayAfterTheSlotFilled(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f := newFlowHarness(t, "appointment_booking", time.Date(2026, 12, 2, 8, 10, 0, 0, berlin))
	tok := f.token("appointment_booking", "1")
	submit := map[string]any{"date": "2026-12-02", "time": "10:00", "reminder": true, "name": "Ada", "reason": "Check up"}
	_, first := f.exchange(tok, "TIME", submit)
	_, again := f.exchange(tok, "TIME", submit)
	ref := first["extension_message_response"].(map[string]any)["params"].(map[string]any)["booking_ref"]
	if ref == nil || again["extension_message_response"].(map[string]any)["params"].(map[string]any)["booking_ref"] != ref {
		t.Fatalf("replay: %v then %v", first, again)
	}
	// Too soon, outside the hours, or not on the grid: the user picks again.
	for _, tm := range []string{"09:00", "12:00", "10:15"} {
		screen, d := f.exchange(f.token("appointment_booking", "2"), "TIME", map[string]any{"date": "2026-12-02", "time": tm, "reminder": false, "name": "Bo", "reason": "Check up"})
		if screen != "TIME" || d["error_message"] == nil {
			t.Fatalf("time %s: %s %v", tm, screen, d)
		}
	}
}

// A completion confirms only the session's own booking: a changed client
// that names another user's booking_ref gets no message with its details.
func TestBookingCompletionOfAnotherSession(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f := newFlowHarness(t, "appointment_booking", time.Date(2026, 12, 2, 8, 10, 0, 0, berlin))
	tok := f.token("appointment_booking", "1")
	screen, d := f.exchange(tok, "TIME", map[string]any{"date": "2026-12-02", "time": "10:00", "reminder": false, "name": "Ada", "reason": "Check up"})
	params, _ := d["extension_message_response"].(map[string]any)["params"].(map[string]any)
	ref, _ := params["booking_ref"].(string)
	if screen != "SUCCESS" || ref == "" {
		t.Fatalf("book: %s %v", screen, d)
	}
	_, other, err := endpoint.StoreTokens{Issuer: f.issuer, Store: f.store}.Issue(context.Background(), "appointment_booking", "2")
	if err != nil {
		t.Fatal(err)
	}
	c := registry.Completion{Completion: waflow.Completion{MessageID: "wamid.other", TokenID: other.ID, Flow: "appointment_booking", WAID: "2"},
		Values: map[string]any{"booking_ref": ref}, Token: other}
	err = f.cat.Flow("appointment_booking").Complete(context.Background(), c)
	if !errors.Is(err, waflow.ErrRejected) {
		t.Fatalf("Complete with another session's booking_ref = %v, want ErrRejected", err)
	}
	if _, err := f.store.OutboxMessageByKey(context.Background(), "booking:"+ref); !errors.Is(err, waflow.ErrNotFound) {
		t.Fatalf("a confirmation was queued for another session's booking: %v", err)
	}
}

// A booking made by a user known only by their business-scoped user id (a
// user with a username, no phone number: protocol.md 4.2) is confirmed
// through the outbox with recipient, the BSUID, and no to.
func TestBookingConfirmedToBSUID(t *testing.T) {
	const bsuid = "US.13491208655302741918"
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f := newFlowHarness(t, "appointment_booking", time.Date(2026, 12, 2, 8, 10, 0, 0, berlin))
	tok, rec, err := endpoint.StoreTokens{Issuer: f.issuer, Store: f.store}.Issue(context.Background(), "appointment_booking", bsuid)
	if err != nil {
		t.Fatal(err)
	}
	if rec.UserID != bsuid || rec.WAID != "" {
		t.Fatalf("token issued to a BSUID: %+v", rec)
	}
	screen, d := f.exchange(tok, "TIME", map[string]any{"date": "2026-12-02", "time": "10:00", "reminder": false, "name": "Ada", "reason": "Check up"})
	params, _ := d["extension_message_response"].(map[string]any)["params"].(map[string]any)
	ref, _ := params["booking_ref"].(string)
	if screen != "SUCCESS" || ref == "" {
		t.Fatalf("book: %s %v", screen, d)
	}
	// The booking keeps the BSUID: its reminder goes there (package reminders).
	if bk, err := f.store.BookingByRef(context.Background(), ref); err != nil || bk.UserID != bsuid || bk.WAID != "" {
		t.Fatalf("BookingByRef(%s) = %+v, %v; want UserID %s and no WAID", ref, bk, err, bsuid)
	}
	c := registry.Completion{Completion: waflow.Completion{MessageID: "wamid.done", TokenID: rec.ID, Flow: "appointment_booking", UserID: bsuid},
		Values: map[string]any{"booking_ref": ref}, Token: rec}
	if err := f.cat.Flow("appointment_booking").Complete(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	m, err := f.store.OutboxMessageByKey(context.Background(), "booking:"+ref)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(m.Payload, &body); err != nil {
		t.Fatal(err)
	}
	if m.To != bsuid || body["recipient"] != bsuid || body["to"] != nil {
		t.Fatalf("confirmation %+v, body %s: want recipient %s and no to", m, m.Payload, bsuid)
	}
}
