package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where the browser test saves a screenshot of each step
// (named in the README; git-ignored).
const screenshotDir = "../../artifacts/screenshots"

// browser starts headless Chromium for the test. Without Chromium the test
// skips, except in CI (WAFLOW_TEST_BROWSER=1, set by .ci/run), where it
// fails. It skips in -short mode, the fast path.
func browser(t *testing.T) context.Context {
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
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// The machine's network is closed: without these Chromium keeps
		// trying to reach Google's services.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// serveForBrowser runs "waflow serve" in-process as a development server
// and returns its address.
func serveForBrowser(t *testing.T) string {
	t.Helper()
	cfg := baseServeConfig(t.TempDir())
	cfg.logLevel = "error"
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, env, cfg, ready) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return ""
}

// shot saves a full-page screenshot as NAME.png under screenshotDir.
func shot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tab) // quality 100 means PNG
		if err != nil {
			return err
		}
		if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
			return err
		}
		p := filepath.Join(screenshotDir, name+".png")
		t.Logf("screenshot %s", p)
		return os.WriteFile(p, png, 0o644)
	})
}

// into runs an action that returns a value and keeps the value in dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		v, err := a(ctx, tab)
		*dst = v
		return err
	})
}

// clickFirstFreeDay clicks the first selectable day of a calendar, moving
// to the next month when the shown one has none.
const clickFirstFreeDay = `(function (name) {
  for (let i = 0; i < 3; i++) {
    const b = document.querySelector("#in-" + name + " button.day:not([disabled])");
    if (b) { b.click(); return b.id; }
    document.getElementById("next-" + name).click();
  }
  return "";
})`

// TestBrowserPreview drives the preview of a real "waflow serve" in
// headless Chromium: it books an appointment (name, reason, a date on the
// calendar, a time, submit) through the encrypted endpoint and finds the
// confirmation; and it enters an invalid amount in the expense form and sees
// the endpoint's error on the field. Each step is saved as a screenshot.
func TestBrowserPreview(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	ctx := browser(t)
	base := serveForBrowser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// A change may re-render the screen from the server (or run its
	// on-select action); the next click waits for that.
	settled := chromedp.WaitNotPresent(chromedp.CSS("#app.busy"))
	var day, confirmation string
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/preview/"),
		chromedp.WaitVisible(chromedp.CSS("#flow-appointment_booking")),
		shot(t, "01-index"),
		chromedp.Click(chromedp.CSS("#flow-appointment_booking")),
		chromedp.WaitVisible(chromedp.CSS("#in-name")),
		chromedp.SendKeys(chromedp.CSS("#in-name"), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS("#in-reason"), "Annual check up"),
		shot(t, "02-booking-details"),
		chromedp.Click(chromedp.CSS("#footer-button")),
		chromedp.WaitVisible(chromedp.CSS("#open-date")),
		chromedp.Click(chromedp.CSS("#open-date")),
		chromedp.WaitVisible(chromedp.CSS("#in-date button.day")),
		into(&day, chromedp.Evaluate[string](clickFirstFreeDay+`("date")`)),
		settled,
		shot(t, "03-booking-date"),
		chromedp.Click(chromedp.CSS("#footer-button")),
		chromedp.WaitVisible(chromedp.CSS(`#in-time input[type=radio]:not([disabled])`)),
		chromedp.Click(chromedp.CSS(`#in-time input[type=radio]:not([disabled])`)),
		settled,
		chromedp.Click(chromedp.CSS("#in-reminder")),
		settled,
		shot(t, "04-booking-time"),
		chromedp.Click(chromedp.CSS("#footer-button")),
		chromedp.WaitVisible(chromedp.CSS("#completion")),
		into(&confirmation, chromedp.Text(chromedp.CSS("#completion"))),
		shot(t, "05-booking-confirmation"),
	)
	if err != nil {
		t.Fatalf("booking in the browser: %v", err)
	}
	if day == "" {
		t.Fatal("the calendar offered no free day")
	}
	date := strings.TrimPrefix(day, "day-date-")
	for _, want := range []string{`"booking_ref": "BK-`, `"date": "` + date + `"`, `"flow_token"`} {
		if !strings.Contains(confirmation, want) {
			t.Errorf("confirmation %s does not contain %s", confirmation, want)
		}
	}

	var amountError, steps string
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/preview/flow/expense_entry"),
		chromedp.WaitVisible(chromedp.CSS("#in-amount")),
		chromedp.SendKeys(chromedp.CSS("#in-amount"), "12.345"),
		chromedp.SetValue(chromedp.CSS("#in-category"), "food"),
		settled,
		chromedp.SendKeys(chromedp.CSS("#in-description"), "Team lunch"),
		shot(t, "06-expense-form"),
		chromedp.Click(chromedp.CSS("#footer-button")),
		chromedp.WaitVisible(chromedp.CSS("#error-amount")),
		into(&amountError, chromedp.Text(chromedp.CSS("#error-amount"))),
		into(&steps, chromedp.Text(chromedp.CSS("#log"))),
		shot(t, "07-expense-invalid-amount"),
	)
	if err != nil {
		t.Fatalf("expense in the browser: %v", err)
	}
	if amountError != "At most 2 decimals" {
		t.Errorf("the amount field shows %q, want the endpoint's error", amountError)
	}
	if !strings.Contains(steps, "data_exchange on EXPENSE") || strings.Contains(steps, "violation") {
		t.Errorf("the step log does not show a clean data_exchange: %s", steps)
	}
}
