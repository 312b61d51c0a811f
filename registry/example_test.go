package registry_test

import (
	"context"
	"fmt"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/registry"
)

// A flow of one's own is a value: its Flow JSON, its endpoint handlers (nil
// for a static flow) and what its completion does.
func ExampleRegistry_Add() {
	r := registry.New()
	err := r.Add(&registry.Flow{
		Name:   "sign_up",
		Origin: registry.OriginFile,
		Source: []byte(static),
		Complete: func(ctx context.Context, c registry.Completion) error {
			// Store c.Values, keyed by c.MessageID: the worker may run it again.
			return nil
		},
	})
	fmt.Println(err)
	f := r.Flow("sign_up")
	fmt.Println(f.Name, f.UsesEndpoint(), f.ScreenIDs(), len(r.Endpoints()))

	// A flow with a data endpoint registers its handlers under its name.
	ep := endpoint.NewFlow("quote")
	fmt.Println(r.Add(&registry.Flow{Name: "quote", Source: []byte(static), Endpoint: ep}), len(r.Endpoints()))
	// Output:
	// <nil>
	// sign_up false [ONE] 0
	// <nil> 1
}
