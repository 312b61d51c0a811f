package preview_test

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/preview"
)

// TestBrowserSignIn signs in to a preview with a secret as a person does,
// in headless Chromium: the page without the secret is a 401; the link
// with ?key= leaves the browser on the page without the key, signed in by a
// cookie the page's script cannot read, and the page's API calls (start,
// then an action with the session's sealed token) go through.
func TestBrowserSignIn(t *testing.T) {
	ctx := chromium(t)
	src, err := os.ReadFile("../simulator/testdata/components.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, problems := flowjson.ValidateSource(src)
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	h, err := preview.New(preview.Config{Flows: []preview.Flow{{Name: "components", Spec: spec, Source: src}}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, h)
	var refused, location, cookies, screen string
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv+"/preview/flow/components"),
		keep(&refused, chromedp.Text(chromedp.CSS("body"))),
		chromedp.Navigate(srv+"/preview/flow/components?key="+url.QueryEscape(secret)),
		chromedp.WaitVisible(chromedp.CSS("h2.heading")),
		keep(&location, chromedp.Location()),
		keep(&cookies, chromedp.Evaluate[string](`document.cookie`)),
		chromedp.WaitNotPresent(chromedp.CSS("#app.busy")),
		chromedp.Click(chromedp.CSS("#footer-button")),
		chromedp.WaitVisible(chromedp.CSS(".rich table")),
		keep(&screen, chromedp.Text(chromedp.CSS("#screen"))),
	)
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if !strings.Contains(refused, "the preview needs its secret") {
		t.Errorf("without the secret the page shows %q", refused)
	}
	if location != srv+"/preview/flow/components" {
		t.Errorf("after signing in the browser is at %q, want the page without the key", location)
	}
	if cookies != "" {
		t.Errorf("the page's script can read cookies: %q", cookies)
	}
	if screen == "" {
		t.Error("the action after signing in showed no screen")
	}
}
