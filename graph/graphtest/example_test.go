package graphtest_test

import (
	"context"
	"fmt"

	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
)

// A graph.Client pointed at the fake creates a flow, sends it, and meets
// the failures a test injects; the fake remembers what it received. Tests
// call graphtest.New(t), which closes it when the test ends.
func ExampleNewServer() {
	fake := graphtest.NewServer()
	defer fake.Close()
	client, err := graph.New(fake.Options())
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	created, err := client.CreateFlow(ctx, graphtest.WABAID, graph.FlowCreate{Name: "hello", Categories: []graph.Category{graph.CategoryOther}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(created.ID, fake.Flow("hello").Status)

	fake.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/publish", Status: 400, Code: 139001, UserMsg: "Publishing failed"})
	fmt.Println(client.PublishFlow(ctx, created.ID) != nil, fake.Flow("hello").Status)
	fmt.Println(fake.Requests(), len(fake.Violations()))
	// Output:
	// 9100001 DRAFT
	// true DRAFT
	// [POST /102290129340398/flows POST /9100001/publish] 0
}
