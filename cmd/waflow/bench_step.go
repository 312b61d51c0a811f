package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/internal/loadgen"
	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/simulator"
)

// recorder issues flow tokens as the server would and records them in its
// database, so the server's token check accepts them.
func (o *benchOptions) recorder(ctx context.Context) (endpoint.StoreTokens, func(), error) {
	iss, err := o.issuer()
	if err != nil {
		return endpoint.StoreTokens{}, nil, err
	}
	dbURL := o.databaseURL
	if dbURL == "" {
		dbURL = filepath.Join(o.dataDir, "waflow.db")
		if _, err := os.Stat(dbURL); err != nil {
			return endpoint.StoreTokens{}, nil, fmt.Errorf("no database at %s to record flow tokens in: start the server first, or set -database-url or -flow-token", dbURL)
		}
	}
	store, err := storage.Open(ctx, dbURL, storage.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return endpoint.StoreTokens{}, nil, fmt.Errorf("opening %s: %w", storage.Describe(dbURL), err)
	}
	return endpoint.StoreTokens{Issuer: iss, Store: store}, func() { store.Close() }, nil
}

// stepSource plays the -scenario once against the endpoint and repeats its
// -step-th request (loadgen.NewStep).
func (o *benchOptions) stepSource(ctx context.Context, env *Env, u *url.URL, appSecret string) (loadgen.Source, error) {
	if o.scenario == "" || o.step < 1 {
		return nil, usagef("bench", "-mode step needs -scenario FILE and -step N (the N-th request the scenario sends, from 1)")
	}
	b, err := os.ReadFile(o.scenario)
	if err != nil {
		return nil, err
	}
	sc, err := simulator.ParseScenario(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.scenario, err)
	}
	flow := o.flow
	if flow == "" {
		flow = path.Base(u.Path)
	}
	name, spec, _, err := loadFlow(env, flow)
	if err != nil {
		return nil, err
	}
	pub, err := endpointPublicKey(o.publicKey, o.dataDir)
	if err != nil {
		return nil, err
	}
	token := o.flowToken
	if token == "" {
		tokens, closeStore, err := o.recorder(ctx)
		if err != nil {
			return nil, err
		}
		token, _, err = tokens.Issue(ctx, name, loadgen.WAID(0))
		closeStore()
		if err != nil {
			return nil, fmt.Errorf("issuing a flow token: %w", err)
		}
	}
	src, err := loadgen.NewStep(ctx, loadgen.StepOptions{
		Client:   simulator.Config{Flow: spec, Name: name, URL: o.url, PublicKey: pub, AppSecret: []byte(appSecret), FlowToken: token},
		Scenario: sc, Name: o.scenario, Step: o.step, Pool: o.pool,
	})
	if e := (*loadgen.StepRangeError)(nil); errors.As(err, &e) {
		return nil, usagef("bench", "-step %d: the scenario sends %d requests", e.Step, e.Requests)
	}
	return src, err
}

// databaseOrDefault names the server database bench writes into, for
// people: -database-url (described without its password) or the development
// server's DATA_DIR/waflow.db.
func (o *benchOptions) databaseOrDefault() string {
	if o.databaseURL != "" {
		return storage.Describe(o.databaseURL)
	}
	return filepath.Join(o.dataDir, "waflow.db")
}
