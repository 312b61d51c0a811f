package flowtest

import (
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/simulator"
)

// testKey returns the harness's RSA key, a fixed test key (package
// internal/testkeys): generating a 2048-bit key would cost more than most
// tests.
func testKey() (*rsa.PrivateKey, error) {
	return testkeys.Key(0), nil
}

// Harness serves a flow's endpoint handlers on an httptest server, with a
// key, an app secret and a flow-token issuer of its own, as waflow serve
// would; its sessions talk to it over HTTP like WhatsApp does.
type Harness struct {
	// URL is the data endpoint.
	URL       string
	PublicKey *rsa.PublicKey
	AppSecret []byte
	// Issuer signs flow tokens; the endpoint accepts its tokens (unless
	// the endpoint.Flow has a validator of its own).
	Issuer *flowtoken.Issuer
	Spec   *flowjson.Flow
	Name   string
}

// HarnessOptions adjust a Harness.
type HarnessOptions struct {
	// Logger receives the endpoint's logs; discarded when nil.
	Logger *slog.Logger
	// Tokens, when set, makes the endpoint's token validator from the
	// harness's issuer (for example an endpoint.StoreTokens that also
	// checks the recorded state); endpoint.IssuerTokens by default.
	Tokens func(*flowtoken.Issuer) endpoint.TokenValidator
}

// NewHarness starts the endpoint of f for the Flow JSON spec; it stops
// when the test ends.
func NewHarness(tb testing.TB, spec *flowjson.Flow, f *endpoint.Flow, opts HarnessOptions) *Harness {
	tb.Helper()
	k, err := testKey()
	if err != nil {
		tb.Fatal(err)
	}
	h := &Harness{PublicKey: &k.PublicKey, AppSecret: []byte("flowtest-app-secret"), Spec: spec, Name: f.Name()}
	if h.Issuer, err = flowtoken.NewIssuer([]byte("flowtest-token-secret")); err != nil {
		tb.Fatal(err)
	}
	unwrap, err := envelope.NewPrivateKeys(k)
	if err != nil {
		tb.Fatal(err)
	}
	verifier, err := signature.New(h.AppSecret)
	if err != nil {
		tb.Fatal(err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var tokens endpoint.TokenValidator = endpoint.IssuerTokens{Issuer: h.Issuer}
	if opts.Tokens != nil {
		tokens = opts.Tokens(h.Issuer)
	}
	ep, err := endpoint.New(endpoint.Config{
		Keys: unwrap, Signatures: verifier, Tokens: tokens, Logger: log,
	}, f)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(ep)
	tb.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// Token issues a flow token for the user waID (signed, not recorded).
func (h *Harness) Token(tb testing.TB, waID string) string {
	tb.Helper()
	tok, _, err := h.Issuer.Issue(h.Name, waID)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// Config returns a client configuration for the harness's endpoint with
// flowToken.
func (h *Harness) Config(flowToken string) simulator.Config {
	return simulator.Config{Flow: h.Spec, Name: h.Name, URL: h.URL, PublicKey: h.PublicKey, AppSecret: h.AppSecret, FlowToken: flowToken}
}

// Session returns a new session with a fresh flow token.
func (h *Harness) Session(tb testing.TB) *simulator.Session {
	tb.Helper()
	c, err := simulator.NewClient(h.Config(h.Token(tb, "15550000001")))
	if err != nil {
		tb.Fatal(err)
	}
	return simulator.NewSession(c)
}
