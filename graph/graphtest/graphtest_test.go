package graphtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

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

func TestSubscribedAppsClockAndHealth(t *testing.T) {
	g := graphtest.New(t)
	var date string
	opts := g.Options()
	opts.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			date = resp.Header.Get("Date")
		}
		return resp, err
	})}
	c, err := graph.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if apps, err := c.SubscribedApps(ctx, graphtest.WABAID); err != nil || len(apps) != 0 {
		t.Fatalf("SubscribedApps of a new fake = %v, %v", apps, err)
	}
	g.SubscribeApp("42", "ours")
	if apps, err := c.SubscribedApps(ctx, graphtest.WABAID); err != nil || len(apps) != 1 || apps[0].ID != "42" || apps[0].Name != "ours" {
		t.Fatalf("SubscribedApps = %v, %v", apps, err)
	}
	if _, err := c.SubscribedApps(ctx, "1"); err == nil {
		t.Error("SubscribedApps of another WABA succeeded")
	}

	g.SetClock(func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) })
	fl := g.AddFlow("f", "PUBLISHED", []byte(`{}`), "")
	got, err := c.GetFlow(ctx, fl.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if date != "Wed, 02 Jan 2030 03:04:05 GMT" {
		t.Errorf("Date = %q", date)
	}
	if got.HealthStatus == nil || got.HealthStatus.CanSendMessage != "AVAILABLE" {
		t.Errorf("health of a published flow = %+v", got.HealthStatus)
	}
	g.SetFlowHealth("f", "BLOCKED")
	if got, err = c.GetFlow(ctx, fl.ID, nil); err != nil || got.HealthStatus.CanSendMessage != "BLOCKED" || len(got.HealthStatus.Entities) != 1 {
		t.Errorf("health after SetFlowHealth = %+v, %v", got.HealthStatus, err)
	}
	if v := g.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
