package deploy_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"

	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
	"github.com/waflow/waflow/sqlite"
)

// Deploying twice: the first run creates, uploads, points the flow at its
// data endpoint and publishes; the second changes nothing. Here the Graph
// API is graphtest's fake; a program passes the *graph.Client of its
// WhatsApp Business Account.
func ExampleDeployer_Deploy() {
	ctx := context.Background()
	meta := graphtest.NewServer()
	defer meta.Close()
	client, err := graph.New(meta.Options())
	if err != nil {
		log.Fatal(err)
	}
	store, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	d := &deploy.Deployer{
		Client:    client,
		Store:     store, // the deployment records
		WABAID:    graphtest.WABAID,
		PublicURL: "https://flows.example.com",
		Publish:   true,
		Progress: func(e deploy.Event) {
			if e.Step != deploy.StepUploaded { // its hash would make the output long
				fmt.Printf("%s: %s\n", e.Flow, e)
			}
		},
	}
	flows := []deploy.Flow{{Name: "booking", Source: []byte(endpointFlow), UsesEndpoint: true}}
	for range 2 {
		c := deploy.Count(d.Deploy(ctx, flows))
		fmt.Printf("%d created, %d uploaded, %d unchanged, %d failed\n", c.Created, c.Uploaded, c.Unchanged, c.Failed)
	}
	// Output:
	// booking: created flow 9100001
	// booking: endpoint_uri set to https://flows.example.com/flows/booking
	// booking: published
	// 1 created, 1 uploaded, 0 unchanged, 0 failed
	// booking: unchanged (flow 9100001, PUBLISHED)
	// 0 created, 0 uploaded, 1 unchanged, 0 failed
}

// Compare says how each flow on Meta and each local flow stand.
func ExampleCompare() {
	local := []deploy.Flow{{Name: "booking", Source: []byte(endpointFlow)}, {Name: "contact", Source: []byte(staticFlow)}}
	remote := []graph.Flow{{ID: "9100001", Name: "booking", Status: graph.StatusPublished}}
	for _, s := range deploy.Compare(remote, nil, local) {
		fmt.Printf("%s on Meta: %t; local: %s\n", s.Name, s.Remote != nil, s.LocalText())
	}
	// Output:
	// booking on Meta: true; local: not deployed
	// contact on Meta: false; local: not deployed
}
