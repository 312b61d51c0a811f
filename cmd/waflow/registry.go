package main

import (
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/registry"
)

// describeFlows returns the registry of the flows waflow knows by name, for
// the commands that read flows without serving them (deploy, status,
// simulate, preview, send): their handlers must not be called.
func describeFlows() (*registry.Registry, error) {
	return catalog.Describe(nil)
}
