// Command benchserver serves one flow, "bench", exactly as "waflow serve"
// would serve it (endpoint.New with the same configuration, behind
// internal/server), so docs/performance.sh can measure the data endpoint
// before the catalog gives "waflow serve" flows of its own. Its INIT answers
// a screen with a greeting, like Meta's example endpoint.
//
// It lives under testdata so "go build ./..." leaves it out; build it with
// "go build ./internal/loadgen/testdata/benchserver" (add -tags openssl for
// the OpenSSL backend).
//
// On first run it writes a development key pair, app secret and flow-token
// secret into DATA_DIR/dev, the files "waflow serve" writes and "waflow
// bench" reads by default.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/server"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	dataDir := flag.String("data-dir", "./waflow-data", "data folder; keys and secrets in DATA_DIR/dev")
	rsaConcurrency := flag.Int("rsa-concurrency", 0, "RSA decryptions at once: 0 for the default (GOMAXPROCS), -1 for no bound")
	flag.Parse()
	if err := run(*addr, filepath.Join(*dataDir, "dev"), *rsaConcurrency); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(1)
	}
}

func run(addr, dir string, rsaConcurrency int) error {
	priv, appSecret, tokenSecret, err := devSecrets(dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)) // info, as waflow serve
	unwrapper, err := envelope.NewPrivateKeys(priv)
	if err != nil {
		return err
	}
	if rsaConcurrency != 0 {
		unwrapper = unwrapper.WithMaxConcurrent(rsaConcurrency)
	}
	verifier, err := signature.New(appSecret)
	if err != nil {
		return err
	}
	issuer, err := flowtoken.NewIssuer(tokenSecret)
	if err != nil {
		return err
	}
	flow := endpoint.NewFlow("bench")
	flow.HandleInit(func(ctx context.Context, req *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("MY_SCREEN", map[string]any{"greeting": "Hey there! 👋"}), nil
	})
	h, err := endpoint.New(endpoint.Config{
		Keys:       unwrapper,
		Signatures: verifier,
		Tokens:     endpoint.IssuerTokens{Issuer: issuer},
		AppSecrets: [][]byte{appSecret},
		Timeout:    3 * time.Second,
		Logger:     log.With("component", "endpoint"),
	}, flow)
	if err != nil {
		return err
	}
	srv := server.New(server.Config{Addr: addr, Flows: map[string]http.Handler{"bench": h}, Logger: log})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("benchserver: http://%s/flows/bench pid %d rsa=%s\n", ln.Addr(), os.Getpid(), envelope.Backend)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return srv.Serve(ctx, ln)
}

// devSecrets reads the development key and secrets from dir, writing them
// first if absent.
func devSecrets(dir string) (priv *rsa.PrivateKey, appSecret, tokenSecret []byte, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, nil, err
	}
	privPath := filepath.Join(dir, "private.pem")
	pemData, err := os.ReadFile(privPath)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := keys.Generate()
		if err != nil {
			return nil, nil, nil, err
		}
		if pemData, err = keys.MarshalPrivateKey(k, nil); err != nil {
			return nil, nil, nil, err
		}
		pub, err := keys.MarshalPublicKey(&k.PublicKey)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "public.pem"), pub, 0o644); err != nil {
			return nil, nil, nil, err
		}
		if err := os.WriteFile(privPath, pemData, 0o600); err != nil {
			return nil, nil, nil, err
		}
	} else if err != nil {
		return nil, nil, nil, err
	}
	if priv, err = keys.ParsePrivateKey(pemData, nil); err != nil {
		return nil, nil, nil, err
	}
	secret := func(name string) ([]byte, error) {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			var r [32]byte
			rand.Read(r[:])
			b = []byte(hex.EncodeToString(r[:]))
			err = os.WriteFile(p, b, 0o600)
		}
		return b, err
	}
	if appSecret, err = secret("app-secret"); err != nil {
		return nil, nil, nil, err
	}
	if tokenSecret, err = secret("token-secret"); err != nil {
		return nil, nil, nil, err
	}
	return priv, appSecret, tokenSecret, nil
}
