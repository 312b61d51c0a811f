package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/graph"
)

// What the commands that talk to Meta (send, flows, keys) share.

// graphSession is what a command that talks to Meta runs with.
type graphSession struct {
	cfg    *appConfig
	log    *slog.Logger
	client *graph.Client
	store  waflow.Store // nil unless opened (openGraphSession)
}

// newGraphSession builds the logger and the Graph API client. CLI commands
// log warnings and errors only unless -log-level says otherwise.
func newGraphSession(env *Env, cfg *appConfig) (*graphSession, error) {
	log, err := cfg.logger(env)
	if err != nil {
		return nil, err
	}
	c, err := cfg.graph.client(log)
	if err != nil {
		return nil, err
	}
	return &graphSession{cfg: cfg, log: log, client: c}, nil
}

// openGraphSession is newGraphSession with the store open too (deployment
// records, tokens, the outbox). Close it.
func openGraphSession(ctx context.Context, env *Env, cfg *appConfig) (*graphSession, error) {
	s, err := newGraphSession(env, cfg)
	if err != nil {
		return nil, err
	}
	if s.store, err = cfg.openStore(ctx, s.log); err != nil {
		return nil, err
	}
	return s, nil
}

// deployer returns a deployer of the configured WABA, with the session's
// client, store and logger.
func (s *graphSession) deployer() *deploy.Deployer {
	return &deploy.Deployer{Client: s.client, Store: s.store, WABAID: s.cfg.graph.wabaID, PublicURL: s.cfg.graph.publicURL, Logger: s.log}
}

func (s *graphSession) Close() {
	if s.store != nil {
		s.store.Close()
	}
}

// declareCLI declares appConfig on s for a command-line tool: the same
// settings as serve, logging warnings only by default. They are shared
// settings: the command's -h lists its own flags and points to
// "waflow help settings" for these.
func declareCLI(cfg *appConfig, s *settings) {
	s.shared = true
	cfg.declare(s)
	s.shared = false
	cfg.logLevel = "warn"
}

// flowSource is a flow to deploy, send or preview: a registered flow by
// name, or a Flow JSON file whose name (without .json) is the flow's name.
type flowSource struct {
	Name       string // the flow's name on Meta
	File       string // what messages call it: NAME.json for a registered flow, else the path
	Src        []byte
	Categories []graph.Category // a registered flow's; none for a file
	Catalog    bool             // a registered flow (the catalog's or the flows folder's), not a file
}

// loadFlowSource reads arg: a path to a .json file, or a registered flow's
// name (the catalog's or the flows folder's).
func loadFlowSource(env *Env, arg string) (*flowSource, error) {
	if strings.HasSuffix(arg, ".json") || strings.ContainsRune(arg, os.PathSeparator) || strings.ContainsRune(arg, '/') {
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, err
		}
		return &flowSource{Name: strings.TrimSuffix(filepath.Base(arg), ".json"), File: arg, Src: b}, nil
	}
	flows, err := describeFlows(env)
	if err != nil {
		return nil, err
	}
	f := flows.Flow(arg)
	if f == nil {
		return nil, fmt.Errorf("no flow named %q (flows: %s); or give a Flow JSON file (NAME.json)", arg, strings.Join(flows.Names(), ", "))
	}
	return &flowSource{Name: arg, File: arg + ".json", Src: f.Source, Categories: f.Categories, Catalog: true}, nil
}

// deployFlow is f as package deploy takes it.
func (f *flowSource) deployFlow() deploy.Flow {
	return deploy.Flow{Name: f.Name, File: f.File, Source: f.Src, Categories: f.Categories, UsesEndpoint: usesEndpoint(f.Src)}
}

// usesEndpoint reports whether the Flow JSON talks to a data endpoint: it
// declares data_api_version (protocol.md 6.2).
func usesEndpoint(src []byte) bool {
	f, err := flowjson.Parse(src)
	return err == nil && f.DataAPIVersion != ""
}

// flowIDOf returns Meta's id of the named flow: the deployment record's, or
// found by name in the WABA.
func (s *graphSession) flowIDOf(ctx context.Context, name string) (string, error) {
	if s.store != nil && s.cfg.graph.wabaID != "" {
		d, err := s.store.FlowDeployment(ctx, s.cfg.graph.wabaID, name)
		if err == nil {
			return d.FlowID, nil
		}
		if !errors.Is(err, waflow.ErrNotFound) {
			return "", err
		}
	}
	if err := s.cfg.graph.needWABA(); err != nil {
		return "", err
	}
	f, err := s.client.FindFlowByName(ctx, s.cfg.graph.wabaID, name)
	if errors.Is(err, graph.ErrFlowNotFound) {
		return "", fmt.Errorf("flow %q is not on Meta (WABA %s): deploy it first with waflow flows deploy %s", name, s.cfg.graph.wabaID, name)
	}
	if err != nil {
		return "", err
	}
	return f.ID, nil
}
