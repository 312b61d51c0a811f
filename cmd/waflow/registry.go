package main

import (
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/flowsdir"
	"github.com/waflow/waflow/registry"
)

// describeFlows returns the registry of the flows waflow knows by name, for
// the commands that read flows without serving them (deploy, status,
// simulate, preview, send, bench): the catalog's, then the flows folder's
// (env.flowsDir) when one is set. Their handlers must not be called: the
// folder's flows are described (flowsdir.Options without Endpoint), so no
// backend secret is read.
func describeFlows(env *Env) (*registry.Registry, error) {
	r, err := catalog.Describe(nil)
	if err != nil {
		return nil, err
	}
	if env.flowsDir != "" {
		if _, err := flowsdir.Load(r, env.flowsDir, flowsdir.Options{}); err != nil {
			return nil, err
		}
	}
	return r, nil
}
