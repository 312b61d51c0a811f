package preview_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/preview"
)

// chromium starts headless Chromium, or skips the test when it is not
// installed (except under .ci/run, which sets WAFLOW_TEST_BROWSER), and in
// -short mode, the fast path.
func chromium(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped in -short mode")
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("WAFLOW_TEST_BROWSER") != "" {
			t.Fatalf("WAFLOW_TEST_BROWSER is set but chromium is not installed: %v", err)
		}
		t.Skip("chromium is not installed (apt-get install chromium); .ci/run installs it and runs this test")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

func keep[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		v, err := a(ctx, tab)
		*dst = v
		return err
	})
}

func snap(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tab) // quality 100 means PNG
		if err != nil {
			return err
		}
		dir := "../artifacts/screenshots"
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// TestBrowserComponents renders every component of protocol.md 6.7 in
// headless Chromium (simulator/testdata/components.json, a static flow that
// opens with its __example__ data) and goes through every screen: If and
// Switch, Form init values and error messages, the phone's checks shown on
// the fields, the calendar, the pickers, the navigation list and the
// completion payload.
func TestBrowserComponents(t *testing.T) {
	ctx := chromium(t)
	src, err := os.ReadFile("../simulator/testdata/components.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, problems := flowjson.ValidateSource(src)
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	h, err := preview.New(preview.Config{Flows: []preview.Flow{{Name: "components", Spec: spec, Source: src}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, h)

	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// The app ignores taps while an action is in flight, as the phone does
	// while it waits for the endpoint.
	settled := chromedp.WaitNotPresent(css("#app.busy"))
	// tap waits for the action in flight to end (a tap on the "Next" of a
	// screen being replaced would be ignored: the 60 s hangs seen, when
	// ".media" of PHOTO stood for DOCS), then clicks what sel finds at that
	// moment. chromedp.Click resolves the node and clicks it in a later
	// round trip; the calendar and the footer are redrawn on every change,
	// and a node replaced in between fails the click ("Could not find node
	// with given id", seen in CI).
	tap := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
			if _, err := settled(ctx, tab); err != nil {
				return err
			}
			if _, err := chromedp.WaitVisible(css(sel))(ctx, tab); err != nil {
				return err
			}
			found, err := chromedp.Evaluate[bool](`(s => { const e = document.querySelector(s); if (e) e.click(); return !!e; })(`+strconv.Quote(sel)+`)`)(ctx, tab)
			if err == nil && !found {
				err = fmt.Errorf("tap: nothing matches %s", sel)
			}
			return err
		})
	}
	var texts, emailValue, emailError, calendarChosen, completion, restartLabel, radioColour, dateField string
	var images, rows int
	var footerOffWhileEmpty, footerOnWhenFilled, calendarShutBeforeOpen bool
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv+"/preview/flow/components"),
		chromedp.WaitVisible(css("h2.heading")),
		keep(&texts, chromedp.Text(css("#screen"))),
		keep(&images, chromedp.Evaluate[int](`document.querySelectorAll("#screen img.image").length`)),
		snap(t, "components-1-texts"),
		tap("#footer-button"),
		chromedp.WaitVisible(css(".rich table")),
		tap("#footer-button"),
		chromedp.WaitVisible(css("#in-email")),
		keep(&emailValue, chromedp.Value(css("#in-email"))),
		keep(&emailError, chromedp.Text(css("#error-email"))),
		// The Footer stays disabled while a required input is empty.
		keep(&footerOffWhileEmpty, chromedp.Evaluate[bool](`document.getElementById("footer-button").disabled`)),
		keep(&restartLabel, chromedp.Evaluate[string](`document.getElementById("restart").getAttribute("aria-label") || ""`)),
		keep(&radioColour, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("opt-size-m")).accentColor`)),
		snap(t, "components-2-inputs-refused"),
		tap("#opt-size-m"),
		tap("#in-terms"),
		tap("#opt-tags-t2"),
		keep(&footerOnWhenFilled, chromedp.Evaluate[bool](`!document.getElementById("footer-button").disabled`)),
		tap("#footer-button"),
		// A DatePicker is a field that opens its calendar.
		chromedp.WaitVisible(css("#open-day")),
		keep(&calendarShutBeforeOpen, chromedp.Evaluate[bool](`document.getElementById("in-day").hidden`)),
		tap("#open-day"),
		tap("#day-day-2026-12-24"),
		keep(&dateField, chromedp.Text(css("#open-day"))),
		tap("#day-stay-2026-12-01"),
		tap("#day-stay-2026-12-03"),
		keep(&calendarChosen, chromedp.Text(css("#in-stay .chosen"))),
		snap(t, "components-3-dates"),
		tap("#footer-button"),
		chromedp.WaitVisible(css(".carousel img")),
		tap("#footer-button"),
		chromedp.WaitVisible(css(`#screen[data-screen="DOCS"] .media`)), // PHOTO has a .media too
		tap("#footer-button"),
		chromedp.WaitVisible(css("#nav-menu-a")),
		keep(&rows, chromedp.Evaluate[int](`document.querySelectorAll(".navlist li").length`)),
		tap("#nav-menu-a"),
		chromedp.WaitVisible(css("#footer-button")),
		tap("#footer-button"),
		chromedp.WaitVisible(css("#completion")),
		keep(&completion, chromedp.Text(css("#completion"))),
		snap(t, "components-4-completed"),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Heading", "Subheading", "Bold struck body", "bold and italic", "Caption", "Shown by If", "Case a", "Skip to the form"} {
		if !strings.Contains(texts, want) {
			t.Errorf("first screen lacks %q:\n%s", want, texts)
		}
	}
	if strings.Contains(texts, "Shown by else") || strings.Contains(texts, "Case b") || images != 1 {
		t.Errorf("If/Switch or Image wrong (%d images):\n%s", images, texts)
	}
	if emailValue != "ada@example.com" || emailError != "Check this address" {
		t.Errorf("Form init-values and error-messages: %q %q", emailValue, emailError)
	}
	if !footerOffWhileEmpty || !footerOnWhenFilled {
		t.Errorf("Footer disabled while required inputs are empty: %v; enabled once filled: %v; want both", footerOffWhileEmpty, footerOnWhenFilled)
	}
	if restartLabel == "" {
		t.Error("the refresh icon has no aria-label")
	}
	if radioColour != "rgb(0, 128, 105)" {
		t.Errorf("radio buttons are %q, want WhatsApp's green rgb(0, 128, 105)", radioColour)
	}
	if !calendarShutBeforeOpen || dateField != "2026-12-24" {
		t.Errorf("DatePicker: calendar hidden before the field is opened: %v; field shows %q, want the picked 2026-12-24", calendarShutBeforeOpen, dateField)
	}
	if calendarChosen != "2026-12-01 – 2026-12-03" {
		t.Errorf("range calendar chose %q", calendarChosen)
	}
	if rows != 2 {
		t.Errorf("%d navigation rows", rows)
	}
	for _, want := range []string{`"size": "m"`, `"terms": true`, `"flow_token": "(hidden)"`} {
		if !strings.Contains(completion, want) {
			t.Errorf("completion lacks %s:\n%s", want, completion)
		}
	}
	if strings.Contains(completion, `"preview"`) {
		t.Errorf("the completion view shows the flow token:\n%s", completion)
	}
}

func newServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
