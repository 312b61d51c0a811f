package graphtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
)

func TestFlowLifecycleAndInjectedFailure(t *testing.T) {
	g := graphtest.New(t)
	c, err := graph.New(g.Options())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cf, err := c.CreateFlow(ctx, graphtest.WABAID, graph.FlowCreate{Name: "contact", Categories: []graph.Category{graph.CategoryOther}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadFlowJSON(ctx, cf.ID, []byte(`{"version": "7.3", "screens": []}`)); err != nil {
		t.Fatal(err)
	}
	g.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/publish", Status: 400, Code: 139002, UserMsg: "not today"})
	if err := c.PublishFlow(ctx, cf.ID); !graph.IsPublishRefused(err) {
		t.Fatalf("publish with an injected refusal: %v", err)
	}
	if err := c.PublishFlow(ctx, cf.ID); err != nil {
		t.Fatalf("publish after the injected failure: %v", err)
	}
	if fl := g.Flow("contact"); fl == nil || fl.Status != "PUBLISHED" || fl.Uploads != 1 {
		t.Fatalf("flow %+v, want published after one upload", fl)
	}
	want := []string{"POST /" + graphtest.WABAID + "/flows", "POST /" + cf.ID + "/assets", "POST /" + cf.ID + "/publish", "POST /" + cf.ID + "/publish"}
	if got := g.Requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests %q, want %q", got, want)
	}
	if v := g.Violations(); len(v) != 0 {
		t.Fatalf("violations %q from the real client", v)
	}
}

// A request of the wrong shape is answered 400 and listed.
func TestViolations(t *testing.T) {
	g := graphtest.New(t)
	c, _ := graph.New(g.Options())
	if _, err := c.GetFlow(context.Background(), "9100001", nil); err == nil {
		t.Fatal("get of a missing flow succeeded")
	}
	if len(g.Violations()) != 0 {
		t.Fatalf("a missing flow is not a wrong shape: %q", g.Violations())
	}
	opts := g.Options()
	opts.Version = "v1.0"
	old, _ := graph.New(opts)
	old.ListFlows(context.Background(), graphtest.WABAID)
	if v := g.Violations(); len(v) != 1 || !strings.Contains(v[0], "no /v25.0/ version prefix") {
		t.Fatalf("violations %q, want the missing version prefix", v)
	}
}
