package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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

// slowStore holds its first Book until the test releases it, and then
// commits whatever the caller's context says, as SQLite's group commit does
// with a write it has granted. mode says what that Book then returns:
// "commit" the booking, "commit-then-fail" an error although the booking is
// committed (a PostgreSQL commit cut off by the deadline), "refuse" an error
// and no booking (a write refused because its caller gave up while queued).
type slowStore struct {
	*sqlite.DB
	mode    string
	entered chan struct{} // closed when the first Book is waiting
	release chan struct{} // closed by the test to let it go on
	first   sync.Once
}

func (s *slowStore) Book(ctx context.Context, b catalogstore.Booking, capacity int) (catalogstore.Booking, bool, error) {
	held := false
	s.first.Do(func() { held = true })
	if !held {
		return s.DB.Book(ctx, b, capacity)
	}
	close(s.entered)
	<-s.release
	if s.mode == "refuse" {
		return catalogstore.Booking{}, false, fmt.Errorf("book: %w", context.Cause(ctx))
	}
	bk, created, err := s.DB.Book(context.WithoutCancel(ctx), b, capacity)
	if s.mode == "commit-then-fail" && err == nil {
		return catalogstore.Booking{}, false, fmt.Errorf("commit: %w", context.Cause(ctx))
	}
	return bk, created, err
}

// lateHarness serves appointment_booking (capacity 2) on a slowStore and
// tells when each handler has returned.
type lateHarness struct {
	t        *testing.T
	h        *endpoint.Handler
	store    *slowStore
	cat      *registry.Registry
	issuer   *flowtoken.Issuer
	returned chan struct{} // one value per handler that returned
	enqueued atomic.Int32  // messages the catalog put in the outbox
}

func newLateHarness(t *testing.T, mode string, now time.Time) *lateHarness {
	t.Helper()
	harnessKeyOnce.Do(func() { harnessKey = testkeys.Key(0) })
	clock := func() time.Time { return now }
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), sqlite.Options{Now: clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lh := &lateHarness{t: t, store: &slowStore{DB: db, mode: mode, entered: make(chan struct{}), release: make(chan struct{})},
		returned: make(chan struct{}, 10)}
	settings, err := DefaultSettings()
	if err != nil {
		t.Fatal(err)
	}
	settings.AppointmentBooking.Capacity = 2
	lh.cat, err = Load(Deps{Store: lh.store, Settings: settings, Now: clock, Logger: quiet, OnEnqueue: func() { lh.enqueued.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	flow := lh.cat.Flow("appointment_booking").Endpoint
	flow.Use(func(next endpoint.HandlerFunc) endpoint.HandlerFunc {
		return func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
			defer func() { lh.returned <- struct{}{} }()
			return next(ctx, r)
		}
	})
	lh.issuer, _ = flowtoken.NewIssuer([]byte("token-secret-of-the-harness"))
	lh.issuer.Now = clock
	pk, _ := envelope.NewPrivateKeys(harnessKey)
	sig, _ := signature.New(harnessSecret)
	lh.h, err = endpoint.New(endpoint.Config{Keys: pk, Signatures: sig, Tokens: endpoint.StoreTokens{Issuer: lh.issuer, Store: db},
		Logger: quiet, Now: clock}, flow)
	if err != nil {
		t.Fatal(err)
	}
	return lh
}

// send posts one data_exchange of screen under ctx and returns the status
// and the decrypted answer (nil unless 200).
func (lh *lateHarness) send(ctx context.Context, tok, screen string, data map[string]any) (int, map[string]any) {
	plain, _ := json.Marshal(map[string]any{"version": "4.0", "action": "data_exchange", "screen": screen, "data": data, "flow_token": tok})
	body, sess, err := envelope.EncryptRequest(&harnessKey.PublicKey, plain, nil)
	if err != nil {
		lh.t.Error(err)
		return 0, nil
	}
	r := httptest.NewRequest("POST", "/", bytes.NewReader(body)).WithContext(ctx)
	r.Header.Set(signature.Header, signature.Sign(harnessSecret, body))
	w := httptest.NewRecorder()
	lh.h.ServeHTTP(w, r)
	if w.Code != 200 {
		return w.Code, nil
	}
	p, err := sess.DecryptResponse(w.Body.Bytes())
	if err != nil {
		lh.t.Error(err)
		return w.Code, nil
	}
	var out map[string]any
	json.Unmarshal(p, &out)
	return w.Code, out
}

// A TIME submission whose booking the store commits after the request's
// deadline (WhatsApp answered 504): the user's retry of the same screen gets
// that booking, no second seat; and whether or not they retry, they are told
// by one message what they hold. When nothing was committed, nothing is held
// and nothing is sent.
func TestBookingCommittedAfterTheDeadline(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 12, 2, 8, 10, 0, 0, berlin)
	slot := time.Date(2026, 12, 2, 10, 0, 0, 0, berlin).UTC()
	submit := map[string]any{"date": "2026-12-02", "time": "10:00", "reminder": false, "name": "Ada", "reason": "Check up"}
	for _, mode := range []string{"commit", "commit-then-fail", "refuse"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			lh := newLateHarness(t, mode, now)
			tok, claims, err := endpoint.StoreTokens{Issuer: lh.issuer, Store: lh.store.DB}.Issue(ctx, "appointment_booking", "15550001111")
			if err != nil {
				t.Fatal(err)
			}

			// The request's context ends while the store holds the booking:
			// the endpoint answers 504 at once.
			rctx, cancel := context.WithCancel(ctx)
			status := make(chan int, 1)
			go func() {
				code, _ := lh.send(rctx, tok, "TIME", submit)
				status <- code
			}()
			<-lh.store.entered
			cancel()
			if code := <-status; code != 504 {
				t.Fatalf("status %d while the store held the booking, want 504", code)
			}
			close(lh.store.release)
			<-lh.returned // the first handler is done with what it does after the 504

			counts, err := lh.store.BookingCounts(ctx, slot, slot.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			held := counts[slot] == 1
			if (mode != "refuse") != held || counts[slot] > 1 {
				t.Fatalf("after the 504: %d bookings in the slot", counts[slot])
			}
			if n := lh.enqueued.Load(); held != (n == 1) || n > 1 {
				t.Fatalf("after the 504 (booking held: %v): %d messages queued", held, n)
			}

			// The user tries the same screen again.
			code, out := lh.send(ctx, tok, "TIME", submit)
			<-lh.returned
			if code != 200 || out["screen"] != "SUCCESS" {
				t.Fatalf("retry: status %d, %v", code, out)
			}
			params, _ := out["data"].(map[string]any)["extension_message_response"].(map[string]any)["params"].(map[string]any)
			ref, _ := params["booking_ref"].(string)
			bk, err := lh.store.BookingByRef(ctx, ref)
			if err != nil || bk.TokenID != claims.ID || !bk.Start.Equal(slot) {
				t.Fatalf("the retry confirmed %q: %+v, %v", ref, bk, err)
			}
			counts, _ = lh.store.BookingCounts(ctx, slot, slot.Add(time.Minute))
			if counts[slot] != 1 {
				t.Fatalf("after the retry: %d bookings in the slot (capacity 2), want 1", counts[slot])
			}
			heldRef := ref

			// The user was told "error" first; a message tells them what they
			// hold, whether or not they try again.
			m, err := lh.store.OutboxMessageByKey(ctx, "booking:"+heldRef)
			if held {
				if err != nil || m.To != "15550001111" || !strings.Contains(string(m.Payload), heldRef) {
					t.Fatalf("no confirmation of the booking committed after the 504: %+v, %v", m, err)
				}
			} else if err == nil {
				t.Fatalf("a confirmation was queued before the retry booked: %s", m.Payload)
			}

			// The completion of the retry confirms the booking once in all.
			c := registry.Completion{Completion: waflow.Completion{MessageID: "wamid.c", TokenID: claims.ID, Flow: "appointment_booking", WAID: "15550001111"},
				Values: map[string]any{"booking_ref": heldRef}, Token: claims}
			if err := lh.cat.Flow("appointment_booking").Complete(ctx, c); err != nil {
				t.Fatal(err)
			}
			if n := lh.enqueued.Load(); n != 1 {
				t.Fatalf("%d confirmations queued, want 1", n)
			}
			if _, err := lh.store.OutboxMessageByKey(ctx, "booking:"+heldRef); err != nil {
				t.Fatalf("confirmation after the completion: %v", err)
			}
		})
	}
}

// OnBooked hears of each booking the flow makes, and again of the same one
// when its submission is replayed (so that a lost notification is made up);
// a failing OnBooked does not undo the booking.
func TestBookingOnBooked(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	var got []catalogstore.Booking
	f := newFlowHarnessBooked(t, "appointment_booking", time.Date(2026, 12, 2, 8, 10, 0, 0, berlin), nil,
		func(ctx context.Context, b catalogstore.Booking) error {
			got = append(got, b)
			return errors.New("events store down")
		})
	tok := f.token("appointment_booking", "1")
	book := map[string]any{"date": "2026-12-02", "time": "09:30", "reminder": false, "name": "Ada", "reason": "Check up"}
	for range 2 {
		if screen, d := f.exchange(tok, "TIME", book); screen != "SUCCESS" {
			t.Fatalf("book: %s %v", screen, d)
		}
	}
	if len(got) != 2 || got[0].Ref == "" || got[1].Ref != got[0].Ref || got[0].WAID != "1" || got[0].Name != "Ada" {
		t.Fatalf("OnBooked got %+v", got)
	}
}
