package loadgen_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/loadgen"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
)

// Example sends 40 health checks from 4 clients to a data endpoint.
func Example() {
	// The endpoint: any URL will do; this one runs in the process.
	priv, _ := keys.Generate()
	unwrapper, _ := envelope.NewPrivateKeys(priv)
	verifier, _ := signature.New([]byte("the-app-secret"))
	issuer, _ := flowtoken.NewIssuer([]byte("the-flow-token-secret"))
	h, _ := endpoint.New(endpoint.Config{
		Keys: unwrapper, Signatures: verifier, Tokens: endpoint.IssuerTokens{Issuer: issuer},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, endpoint.NewFlow("demo"))
	srv := httptest.NewServer(h)
	defer srv.Close()

	// The clients: what they know of the endpoint is its public key and
	// the app secret.
	src, err := loadgen.NewPing(loadgen.EndpointOptions{PublicKey: &priv.PublicKey, AppSecret: []byte("the-app-secret")})
	if err != nil {
		panic(err)
	}
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL + "/flows/demo", Source: src, Concurrency: 4, Requests: 40,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d ok, %d failed\n", res.Mode, res.OK, res.Failed)
	// Output: ping: 40 ok, 0 failed
}
