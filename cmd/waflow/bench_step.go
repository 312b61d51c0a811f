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

// stepSource plays a simulator scenario once against the endpoint, then
// returns a Source that repeats its n-th endpoint request (1-based): the
// same screen and submitted values, encrypted afresh -pool times, each
// answer checked as the simulator checks it.
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
		token, _, err = tokens.Issue(ctx, name, waID(0))
		closeStore()
		if err != nil {
			return nil, fmt.Errorf("issuing a flow token: %w", err)
		}
	}
	c, err := simulator.NewClient(simulator.Config{Flow: spec, Name: name, URL: o.url, PublicKey: pub, AppSecret: []byte(appSecret), FlowToken: token})
	if err != nil {
		return nil, err
	}
	rep, err := simulator.Play(ctx, simulator.NewSession(c), sc, nil)
	if err != nil {
		return nil, fmt.Errorf("playing %s: %w", o.scenario, err)
	}
	if len(rep.Failures) > 0 {
		return nil, fmt.Errorf("the scenario fails against %s: %s", o.url, rep.Failures[0])
	}
	var reqs []simulator.Request
	for _, st := range rep.Steps {
		if r, ok := st.Request(); ok {
			reqs = append(reqs, r)
		}
	}
	if o.step > len(reqs) {
		return nil, usagef("bench", "-step %d: the scenario sends %d requests", o.step, len(reqs))
	}
	r := reqs[o.step-1]
	pool := make([]*loadgen.Request, max(o.pool, 1))
	for i := range pool {
		p, err := c.Prepare(r)
		if err != nil {
			return nil, err
		}
		pool[i] = &loadgen.Request{Body: p.Body, Header: p.Header, Check: p.Check}
	}
	label := r.Action
	if r.Screen != "" {
		label += " " + r.Screen
	}
	return &preparedSource{name: "step " + label, reqs: pool}, nil
}

// preparedSource sends requests prepared up front, in turn.
type preparedSource struct {
	name string
	reqs []*loadgen.Request
}

func (p *preparedSource) Name() string { return p.name }

func (p *preparedSource) Request(i int64) (*loadgen.Request, error) {
	if len(p.reqs) == 0 {
		return nil, errors.New("no request prepared")
	}
	return p.reqs[i%int64(len(p.reqs))], nil
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
