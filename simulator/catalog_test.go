package simulator_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
	"github.com/waflow/waflow/webhook"
)

// TestCatalogFlows plays every catalog flow from start to completion
// against its real handlers and a real SQLite store, from the scenario in
// testdata/scenarios/NAME.json, with flow tokens recorded as waflow serve
// records them; then delivers the completion webhook to the real receiver
// and checks the completion as the webhook worker will.
func TestCatalogFlows(t *testing.T) {
	ctx := t.Context()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(ctx, sqlitetest.Path(t), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cat, err := catalog.Load(catalog.Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatalf("catalog.Load: %v", err)
	}
	for _, name := range catalog.Names {
		t.Run(name, func(t *testing.T) {
			f := cat.Flow(name)
			src, err := os.ReadFile(filepath.Join("testdata", "scenarios", name+".json"))
			if err != nil {
				t.Fatalf("every catalog flow needs a scenario: %v", err)
			}
			sc, err := simulator.ParseScenario(src)
			if err != nil {
				t.Fatal(err)
			}
			// The endpoint refuses tokens the store never recorded, as in
			// waflow serve: the harness's issuer signs, the store records.
			var tokens endpoint.StoreTokens
			ep := f.Endpoint
			if ep == nil {
				ep = endpoint.NewFlow(name) // a static flow: only for the issuer
			}
			h := flowtest.NewHarness(t, f.Spec, ep, flowtest.HarnessOptions{Logger: quiet,
				Tokens: func(iss *flowtoken.Issuer) endpoint.TokenValidator {
					tokens = endpoint.StoreTokens{Issuer: iss, Store: store}
					return tokens
				}})
			tok, _, err := tokens.Issue(ctx, name, "15550000001")
			if err != nil {
				t.Fatal(err)
			}
			cfg := h.Config(tok)
			c, err := simulator.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			s := simulator.NewSession(c)
			rep, err := simulator.Play(ctx, s, sc, func(_ int, st *simulator.Step) {
				if testing.Verbose() {
					var b strings.Builder
					st.WriteText(&b)
					t.Log("\n" + b.String())
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Err(); err != nil {
				t.Fatal(err)
			}
			comp := rep.Completion
			if comp == nil {
				t.Fatal("the scenario ended without completing the flow")
			}
			if comp.ResponseJSON["flow_token"] != cfg.FlowToken {
				t.Error("the completion does not carry the session's flow token")
			}
			values := map[string]any{}
			for k, v := range comp.ResponseJSON {
				if k != "flow_token" {
					values[k] = v
				}
			}
			if err := cat.ValidateCompletion(context.Background(), name, values); err != nil {
				t.Errorf("the completion the phone produced is refused by the catalog: %v", err)
			}
			// WhatsApp then delivers the completion webhook.
			verifier, _ := signature.New([]byte("flowtest-app-secret"))
			recv, err := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: verifier, VerifyToken: "v", Inbox: store, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			st, err := s.DeliverCompletion(ctx, simulator.WebhookOptions{Handler: recv, AppSecret: []byte("flowtest-app-secret")})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Err(); err != nil {
				t.Error(err)
			}
		})
	}
}
