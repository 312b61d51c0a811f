package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/sqlite"
)

// TestOrder plays the flow as a WhatsApp client does, INIT to SUCCESS,
// against the example's handlers on flowtest's harness, then delivers the
// completion webhook to the example's routes and runs the worker.
func TestOrder(t *testing.T) {
	ctx := t.Context()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	spec, problems := flowjson.ValidateSource(flowJSON)
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "orders.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s := &shop{orders: map[string]bool{}}

	// The harness serves the flow's handlers with its own key, app secret
	// and token issuer; tokens are recorded in the store, as in main.
	var tokens endpoint.StoreTokens
	h := flowtest.NewHarness(t, spec, s.flow(), flowtest.HarnessOptions{Logger: quiet,
		Tokens: func(iss *flowtoken.Issuer) endpoint.TokenValidator {
			tokens = endpoint.StoreTokens{Issuer: iss, Store: store}
			return tokens
		}})
	token, _, err := tokens.Issue(ctx, flowName, "15550000001")
	if err != nil {
		t.Fatal(err)
	}
	c, err := simulator.NewClient(h.Config(token))
	if err != nil {
		t.Fatal(err)
	}
	sess := simulator.NewSession(c)

	// INIT: the Dropdown is filled with the menu.
	step(t, "INIT", "PRODUCT")(sess.Start(ctx))
	if got := len(sess.Data()["products"].([]any)); got != len(menu) {
		t.Fatalf("the Dropdown has %d options, want %d", got, len(menu))
	}
	// PRODUCT: the price of the coffee picked.
	if err := sess.Set("product", "latte"); err != nil {
		t.Fatal(err)
	}
	step(t, "PRODUCT", "CONFIRM")(sess.Submit(ctx))
	if got, want := sess.Data()["price"], "Caffè latte: 3.80 EUR"; got != want {
		t.Errorf("price = %q, want %q", got, want)
	}
	// CONFIRM: the order is placed, SUCCESS carries its id.
	st := step(t, "CONFIRM", "SUCCESS")(sess.Submit(ctx))
	id, _ := st.Completion.ResponseJSON["order_id"].(string)
	if confirmed, ok := s.order(id); !ok || confirmed {
		t.Fatalf("order %q: placed %v, confirmed %v; want placed, not confirmed", id, ok, confirmed)
	}

	// The completion webhook, signed with the app secret, goes to the
	// example's /webhook; the worker confirms the order.
	key, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	unwrap, _ := envelope.NewPrivateKeys(key)
	verifier, _ := signature.New(h.AppSecret)
	routes, worker, err := s.server(store, unwrap, h.Issuer, verifier, "verify-me")
	if err != nil {
		t.Fatal(err)
	}
	hook := simulator.WebhookOptions{Handler: routes, AppSecret: h.AppSecret, MessageID: "wamid.order-1"}
	step(t, "webhook", "")(sess.DeliverCompletion(ctx, hook))
	if n, err := worker.ProcessBatch(ctx); err != nil || n != 1 {
		t.Fatalf("worker: %d events, %v; want 1", n, err)
	}
	if confirmed, _ := s.order(id); !confirmed {
		t.Errorf("order %q is not confirmed after its completion webhook", id)
	}
	// WhatsApp delivers at least once: a repeat is answered 200, stored once.
	step(t, "webhook again", "")(sess.DeliverCompletion(ctx, hook))
	if n, err := worker.ProcessBatch(ctx); err != nil || n != 0 {
		t.Fatalf("worker after a repeat: %d events, %v; want none", n, err)
	}
}

// order reports whether the order id was placed and whether it is confirmed.
func (s *shop) order(id string) (confirmed, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	confirmed, ok = s.orders[id]
	return confirmed, ok
}

// step returns a check of a session step: no error, no violation of the
// client's rules, and (unless to is "") the screen it ends on.
func step(t *testing.T, what, to string) func(*simulator.Step, error) *simulator.Step {
	t.Helper()
	return func(st *simulator.Step, err error) *simulator.Step {
		t.Helper()
		if err == nil {
			err = st.Err()
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if to != "" && st.To != to {
			t.Fatalf("%s: ended on %q, want %q", what, st.To, to)
		}
		return st
	}
}
