package endpoint_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
)

// orderSpec is testdata/order.json: PICK (a Dropdown whose options the
// endpoint sends at INIT) → PRICE → DONE, each move by data_exchange.
func orderSpec(tb testing.TB) *flowjson.Flow {
	tb.Helper()
	src, err := os.ReadFile("testdata/order.json")
	if err != nil {
		tb.Fatal(err)
	}
	spec, problems := flowjson.ValidateSource(src)
	if problems.HasErrors() {
		tb.Fatal(problems)
	}
	return spec
}

var products = []map[string]any{{"id": "tea", "title": "Tea"}, {"id": "coffee", "title": "Coffee"}}

// price is the PRICE screen's data as a struct.
type price struct {
	Label string  `json:"label"`
	Price float64 `json:"price"`
}

// orderFlow registers the order flow's handlers on a flow built from its
// Flow JSON. The PICK handler answers according to the product chosen,
// rightly or in one of the ways the Flow JSON forbids.
func orderFlow(spec *flowjson.Flow) *endpoint.Flow {
	f := endpoint.NewFlowFromJSON("booking", spec)
	f.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("PICK", map[string]any{"products": products, "product_error": ""}), nil
	})
	f.HandleDataExchange("PICK", func(_ context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		var in struct {
			Product string `json:"product"`
		}
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		switch in.Product {
		case "forbidden-screen": // PICK may only go to PRICE
			return endpoint.Next("DONE", map[string]any{"order_id": "O-1"}), nil
		case "unknown-screen":
			return endpoint.Next("PAY", nil), nil
		case "mistyped":
			return endpoint.Next("PRICE", map[string]any{"label": "Tea", "price": "2.50"}), nil
		case "undeclared":
			return endpoint.Next("PRICE", map[string]any{"label": "Tea", "price": 2.5, "card_number": "4111"}), nil
		case "not-an-object":
			return endpoint.Next("PRICE", []string{"Tea"}), nil
		case "sold-out":
			return nil, endpoint.Close("Sorry, we are sold out")
		}
		return endpoint.Next("PRICE", price{Label: "Tea", Price: 2.5}), nil
	})
	f.HandleDataExchange("PRICE", func(context.Context, *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Success(struct {
			OrderID string `json:"order_id"`
		}{"O-1"}), nil
	})
	return f
}

// serveFlow serves flow as newFixture does and records the observations.
func serveFlow(t *testing.T, flow *endpoint.Flow) (*fixture, func() []endpoint.Observation) {
	t.Helper()
	k, _ := testKeys(t)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	iss.Now = func() time.Time { return now }
	f := &fixture{issuer: iss, pub: &k.PublicKey, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	f.token, _, _ = iss.Issue("booking", "4915112345678")
	var mu sync.Mutex
	var obs []endpoint.Observation
	h, err := endpoint.New(endpoint.Config{
		Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss}, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(lockedWriter{f.logMu, f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observe: func(o endpoint.Observation) {
			mu.Lock()
			defer mu.Unlock()
			obs = append(obs, o)
		},
	}, flow)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /flows/booking", h)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f, func() []endpoint.Observation {
		mu.Lock()
		defer mu.Unlock()
		return append([]endpoint.Observation(nil), obs...)
	}
}

func (f *fixture) exchange(t *testing.T, action, screen string, data map[string]any) reply {
	t.Helper()
	return f.send(t, map[string]any{"version": "3.0", "action": action, "screen": screen, "data": data, "flow_token": f.token})
}

// A server built with the library refuses to send an answer that breaks
// the Flow JSON: it answers 500 (an endpoint failure), logs the rule
// without the values and counts it.
func TestAnswerCheckedAgainstFlowJSON(t *testing.T) {
	f, observed := serveFlow(t, orderFlow(orderSpec(t)))

	// A right session: INIT, PICK → PRICE with a struct, SUCCESS with the
	// request's token added.
	r := f.exchange(t, "INIT", "", nil)
	if r.status != 200 || r.body["screen"] != "PICK" {
		t.Fatalf("INIT: %d %v", r.status, r.body)
	}
	r = f.exchange(t, "data_exchange", "PICK", map[string]any{"product": "tea"})
	if r.status != 200 || r.body["screen"] != "PRICE" || get(r.body, "data", "price") != 2.5 {
		t.Fatalf("PICK: %d %v", r.status, r.body)
	}
	r = f.exchange(t, "data_exchange", "PRICE", nil)
	if r.status != 200 || r.body["screen"] != "SUCCESS" ||
		get(r.body, "data", "extension_message_response", "params", "flow_token") != f.token ||
		get(r.body, "data", "extension_message_response", "params", "order_id") != "O-1" {
		t.Fatalf("PRICE: %d %v", r.status, r.body)
	}

	for _, tt := range []struct{ product, rule, pointer string }{
		{"forbidden-screen", flowjson.RuleTransition, "/screen"},
		{"unknown-screen", flowjson.RuleUnknownScreen, "/screen"},
		{"mistyped", flowjson.RuleWrongType, "/data/price"},
		{"undeclared", flowjson.RuleUndeclaredField, "/data/card_number"},
	} {
		t.Run(tt.product, func(t *testing.T) {
			r := f.exchange(t, "data_exchange", "PICK", map[string]any{"product": tt.product})
			if r.status != http.StatusInternalServerError || r.body != nil {
				t.Fatalf("status %d, body %v: want 500 and no answer", r.status, r.body)
			}
			obs := observed()
			if last := obs[len(obs)-1]; last.AnswerRule != tt.rule || last.Status != 500 {
				t.Errorf("observation %+v, want rule %s", last, tt.rule)
			}
			logs := f.logText()
			if want := tt.rule + " at " + tt.pointer; !strings.Contains(logs, want) || !strings.Contains(logs, `reason="answer refused"`) {
				t.Errorf("the log lacks %q:\n%s", want, logs)
			}
		})
	}
	logs := f.logText()
	for _, v := range []string{f.token, "2.50", "4111", "O-1\""} {
		if strings.Contains(logs, v) {
			t.Errorf("the log holds the value %q:\n%s", v, logs)
		}
	}
	// A value that is not a JSON object is an encoding failure.
	if r := f.exchange(t, "data_exchange", "PICK", map[string]any{"product": "not-an-object"}); r.status != 500 {
		t.Errorf("data not an object: %d", r.status)
	}
}

// UncheckedAnswers sends what the handler answers, as a flow without Flow
// JSON does.
func TestUncheckedAnswers(t *testing.T) {
	flow := orderFlow(orderSpec(t))
	flow.UncheckedAnswers = true
	f, observed := serveFlow(t, flow)
	r := f.exchange(t, "data_exchange", "PICK", map[string]any{"product": "forbidden-screen"})
	if r.status != 200 || r.body["screen"] != "DONE" {
		t.Fatalf("%d %v", r.status, r.body)
	}
	if o := observed(); o[0].AnswerRule != "" {
		t.Errorf("observation %+v", o[0])
	}
}

func TestNewReportsMissingHandlers(t *testing.T) {
	spec := orderSpec(t)
	flow := endpoint.NewFlowFromJSON("booking", spec)
	flow.HandleInit(func(context.Context, *endpoint.Request) (*endpoint.Response, error) { return nil, nil })
	flow.HandleDataExchange("PICK", func(context.Context, *endpoint.Request) (*endpoint.Response, error) { return nil, nil })
	flow.HandleDataExchange("PRCE", func(context.Context, *endpoint.Request) (*endpoint.Response, error) { return nil, nil })
	flow.HandleBack("DONE", func(context.Context, *endpoint.Request) (*endpoint.Response, error) { return nil, nil })
	k, _ := testKeys(t)
	pk, _ := envelope.NewPrivateKeys(k)
	sig, _ := signature.New(appSecret)
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	cfg := endpoint.Config{Keys: pk, Signatures: sig, Tokens: endpoint.IssuerTokens{Issuer: iss}}
	_, err := endpoint.New(cfg, flow)
	if !errors.Is(err, endpoint.ErrMissingHandler) {
		t.Fatalf("New: %v, want ErrMissingHandler", err)
	}
	for _, want := range []string{
		`no handler for data_exchange on screen "PRICE" (on-click-action of Footer sends it)`,
		`a handler for data_exchange on screen "PRCE", which the Flow JSON does not have`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
	// A catch-all data_exchange handler takes every screen.
	flow = endpoint.NewFlowFromJSON("booking", spec)
	flow.HandleDataExchange("", func(context.Context, *endpoint.Request) (*endpoint.Response, error) { return nil, nil })
	if _, err := endpoint.New(cfg, flow); err != nil {
		t.Errorf("catch-all handler: %v", err)
	}
	// A flow without Flow JSON is not checked, as before.
	if _, err := endpoint.New(cfg, endpoint.NewFlow("booking")); err != nil {
		t.Errorf("NewFlow: %v", err)
	}
}

// Close ends the flow with a message: 427 with the encrypted error_msg,
// logged as closed by the handler, not as a token problem.
func TestClose(t *testing.T) {
	f, _ := serveFlow(t, orderFlow(orderSpec(t)))
	r := f.exchange(t, "data_exchange", "PICK", map[string]any{"product": "sold-out"})
	if r.status != endpoint.StatusTokenInvalid || r.body["error_msg"] != "Sorry, we are sold out" {
		t.Fatalf("%d %v", r.status, r.body)
	}
	if logs := f.logText(); !strings.Contains(logs, `reason="flow closed by the handler"`) {
		t.Errorf("log:\n%s", logs)
	}
	var ce *endpoint.CloseError
	if !errors.As(endpoint.Close("x"), &ce) || ce.Msg != "x" {
		t.Errorf("Close: %#v", ce)
	}
}

// The answers' constructors take any value that marshals to a JSON object.
func TestAnswerData(t *testing.T) {
	spec := orderSpec(t)
	flow := endpoint.NewFlowFromJSON("booking", spec)
	flow.HandleDataExchange("PICK", func(_ context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		var in struct{ Product string }
		r.Decode(&in)
		switch in.Product {
		case "struct-error":
			return endpoint.ErrorOn("PICK", struct {
				Products     []map[string]any `json:"products"`
				ProductError string           `json:"product_error"`
			}{products, "Choose again"}, "Please check"), nil
		case "bad-struct":
			return endpoint.ErrorOn("PICK", 42, "x"), nil
		case "complete":
			return endpoint.Complete("given-token", map[string]any{"n": 1}), nil
		}
		return endpoint.Success(nil), nil
	})
	flow.HandleDataExchange("PRICE", func(context.Context, *endpoint.Request) (*endpoint.Response, error) { return nil, nil })
	flow.UncheckedAnswers = true // Complete's token is not the request's
	f, _ := serveFlow(t, flow)
	r := f.exchange(t, "data_exchange", "PICK", map[string]any{"Product": "struct-error"})
	if r.status != 200 || get(r.body, "data", "product_error") != "Choose again" || get(r.body, "data", "error_message") != "Please check" {
		t.Errorf("ErrorOn with a struct: %d %v", r.status, r.body)
	}
	if r := f.exchange(t, "data_exchange", "PICK", map[string]any{"Product": "bad-struct"}); r.status != 500 {
		t.Errorf("ErrorOn with a number: %d %v", r.status, r.body)
	}
	r = f.exchange(t, "data_exchange", "PICK", map[string]any{"Product": "complete"})
	if get(r.body, "data", "extension_message_response", "params", "flow_token") != "given-token" {
		t.Errorf("Complete: %v", r.body)
	}
	r = f.exchange(t, "data_exchange", "PICK", map[string]any{"Product": "success"})
	if get(r.body, "data", "extension_message_response", "params", "flow_token") != f.token {
		t.Errorf("Success(nil): %v", r.body)
	}
}

// CheckValues rejects a submission the screen could not have produced and
// answers the screen again with the field's error; without the screen's
// data, a dynamic option is left to the handler.
func TestCheckValues(t *testing.T) {
	spec := orderSpec(t)
	pickData := func(context.Context, *endpoint.Request, map[string]any) (map[string]any, error) {
		return map[string]any{"products": products, "product_error": ""}, nil
	}
	for _, withData := range []bool{true, false} {
		flow := orderFlow(spec)
		vc := endpoint.ValueCheck{Spec: spec, Logger: slog.New(slog.DiscardHandler)}
		if withData {
			vc.Data = map[string]endpoint.ScreenData{"PICK": pickData}
		}
		flow.Use(endpoint.CheckValues(vc))
		f, _ := serveFlow(t, flow)
		r := f.exchange(t, "data_exchange", "PICK", map[string]any{"product": "milk"})
		switch {
		case withData && (r.status != 200 || r.body["screen"] != "PICK" || get(r.body, "data", "product_error") != "Choose a listed option"):
			t.Errorf("with data: an unlisted option: %d %v", r.status, r.body)
		case !withData && (r.status != 200 || r.body["screen"] != "PRICE"):
			t.Errorf("without data: the handler did not get the value: %d %v", r.status, r.body)
		}
		// A number for a Dropdown (a forged request) is rejected: the screen
		// again when its data is known, else a failure.
		r = f.exchange(t, "data_exchange", "PICK", map[string]any{"product": 3})
		switch {
		case withData && (r.status != 200 || r.body["screen"] != "PICK" || get(r.body, "data", "product_error") != "Choose one option"):
			t.Errorf("with data: a number for a Dropdown: %d %v", r.status, r.body)
		case !withData && r.status != 500:
			t.Errorf("without data: a number for a Dropdown: %d %v", r.status, r.body)
		}
	}
}
