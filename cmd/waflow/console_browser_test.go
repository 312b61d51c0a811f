package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleShots is where TestBrowserConsole saves a screenshot of every
// console page when WAFLOW_CONSOLE_SCREENSHOTS=1 (committed: the README
// shows them); other runs save them in a temporary folder, so that a test
// run leaves the checkout as it was.
const consoleShots = "../../docs/console"

// consoleShotDir is the folder this run's screenshots go to.
var consoleShotDir string

// axePath is axe-core, installed by "npm ci" in console/testdata/axe
// (.ci/run does it).
const axePath = "../../console/testdata/axe/node_modules/axe-core/axe.min.js"

const consolePassword = "correct horse battery staple"

// consoleShot saves a full-page screenshot of the current page.
func consoleShot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		t.Logf("%s screenshot %s", time.Now().Format("15:04:05"), name)
		png, err := chromedp.FullScreenshot(100)(ctx, tab)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(consoleShotDir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(consoleShotDir, name+".png"), png, 0o644)
	})
}

// axeCheck runs axe-core on the current page and fails the test on a
// serious or critical violation.
func axeCheck(t *testing.T, page string, axe string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		if _, err := chromedp.Evaluate[any](axe+";0")(ctx, tab); err != nil {
			return err
		}
		res, err := chromedp.Evaluate[string](`axe.run(document).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 3)}))))`,
			chromedp.EvalAwaitPromise)(ctx, tab)
		if err != nil {
			return err
		}
		var vs []struct {
			ID, Impact, Help string
			Nodes            []string
		}
		if err := json.Unmarshal([]byte(res), &vs); err != nil {
			return err
		}
		for _, v := range vs {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("axe on %s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
			} else {
				t.Logf("axe on %s: %s (%s): %s", page, v.ID, v.Impact, v.Help)
			}
		}
		return nil
	})
}

// consoleClient signs in to the console with a cookie jar, as a browser
// does, and returns the client and the CSRF token of its session.
func consoleClient(t *testing.T, base, password string) (*http.Client, string, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if tok == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", body)
	}
	resp, err = c.PostForm(base+"/console/signin", url.Values{"csrf": {string(tok[1])}, "name": {"ada"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return c, "", resp.StatusCode
	}
	resp, err = c.Get(base + "/console/flows")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	tok = regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if tok == nil {
		t.Fatalf("no CSRF token on a signed-in page:\n%s", body)
	}
	return c, string(tok[1]), http.StatusSeeOther
}

// TestBrowserConsole drives the console of a real production "waflow
// serve" (the binary, real keys) in headless Chromium: an account added
// with "waflow console users add", data-endpoint requests and completions
// that appear on the overview and in the answers, the CSV export, a
// booking cancelled and its slot offered again; a wrong password, a form
// without its CSRF token and a signed-out request are refused. Every page
// is checked with axe-core and saved as a screenshot in docs/console.
func TestBrowserConsole(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	bctx := browser(t)
	axe, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("WAFLOW_TEST_BROWSER") == "" {
			t.Skipf("axe-core is not installed (cd console/testdata/axe && npm ci): %v", err)
		}
		t.Fatalf("WAFLOW_TEST_BROWSER is set but axe-core is not installed (cd console/testdata/axe && npm ci): %v", err)
	}
	consoleShotDir = t.TempDir()
	if os.Getenv("WAFLOW_CONSOLE_SCREENSHOTS") == "1" {
		consoleShotDir = consoleShots
	}
	env := newE2EEnv(t, "")
	// The account, as an operator adds it.
	add := exec.Command(waflowBinary(t), "console", "users", "add", "-name", "ada")
	add.Env = append(os.Environ(), "WAFLOW_DATA_DIR="+env.dir, "WAFLOW_DATABASE_URL="+env.dbURL)
	add.Stdin = strings.NewReader(consolePassword + "\n")
	if out, err := add.CombinedOutput(); err != nil || !strings.Contains(string(out), `console account added "ada"`) {
		t.Fatalf("waflow console users add: %v\n%s", err, out)
	}
	s := env.start()
	base := s.base
	ctx := context.Background()

	// Traffic: an appointment booked and completed, survey completions,
	// expense requests, a refused (used) token and a request that does not
	// decrypt.
	tok := env.issue("appointment_booking", e2eUser)
	mustScreen(t, s.step("appointment_booking", tok, "INIT", "", nil), "DETAILS")
	a := s.step("appointment_booking", tok, "data_exchange", "DETAILS", map[string]any{"name": "Ada Lovelace", "reason": "Annual check up"})
	day := firstFreeDate(t, a)
	a = s.step("appointment_booking", tok, "data_exchange", "DATE", map[string]any{"date": day})
	slot := a.Data["slots"].([]any)[0].(map[string]any)["id"].(string)
	params := successParams(t, s.step("appointment_booking", tok, "data_exchange", "TIME",
		map[string]any{"date": day, "time": slot, "reminder": false, "name": "Ada Lovelace", "reason": "Annual check up"}))
	ref := str(params["booking_ref"])
	completeAndWait(t, s, tok, params)
	if a := s.step("appointment_booking", tok, "INIT", "", nil); a.Status != 427 {
		t.Fatalf("a used token: %d, want 427", a.Status)
	}
	var surveyIDs []string
	for _, comment := range []string{"Quick and friendly", "Parking was hard to find"} {
		st := env.issue("feedback_survey", e2eUser)
		c := completeAndWait(t, s, st, map[string]any{"rating": "4", "comments": comment, "follow_up": false})
		surveyIDs = append(surveyIDs, c.MessageID)
	}
	for range 5 {
		et := env.issue("expense_entry", e2eUser)
		mustScreen(t, s.step("expense_entry", et, "INIT", "", nil), "EXPENSE")
	}
	if resp, err := http.Post(base+"/flows/expense_entry", "application/json", strings.NewReader(`{"encrypted_flow_data":"AAAA","encrypted_aes_key":"AAAA","initial_vector":"AAAA"}`)); err == nil {
		resp.Body.Close() // unsigned: 432
	}

	// Refused without a session: a download and a form.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := anon.Get(base + "/console/answers.csv?flow=feedback_survey")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("signed-out CSV download: %s to %q, want 303 to the sign-in", resp.Status, resp.Header.Get("Location"))
	}
	resp, err = anon.PostForm(base+"/console/bookings/cancel", url.Values{"ref": {ref}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed-out cancel: %s, want 401", resp.Status)
	}
	// A wrong password gets no session.
	if _, _, code := consoleClient(t, base, "not the password at all"); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d, want 401", code)
	}
	// Signed in, a form without the session's CSRF token is refused and
	// changes nothing.
	hc, csrf, _ := consoleClient(t, base, consolePassword)
	resp, err = hc.PostForm(base+"/console/bookings/cancel", url.Values{"ref": {ref}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cancel without a CSRF token: %s, want 403", resp.Status)
	}
	if _, err := env.store.BookingByRef(ctx, ref); err != nil {
		t.Fatalf("the refused form cancelled the booking: %v", err)
	}
	// The CSV download is the "waflow responses" export of the answers.
	resp, err = hc.Get(base + "/console/answers.csv?flow=feedback_survey")
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range append([]string{"Quick and friendly", "Parking was hard to find", "comments"}, surveyIDs...) {
		if !strings.Contains(string(csv), want) {
			t.Errorf("the CSV does not hold %q:\n%s", want, csv)
		}
	}
	_ = csrf

	bctx, cancel := context.WithTimeout(bctx, 240*time.Second)
	defer cancel()
	var problem, overview, answersText, answerText, bookingsText, afterCancel, flowsText, deliveriesText, signedOut string
	err = chromedp.Do(bctx,
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		consoleShot(t, "01-signin"),
		axeCheck(t, "sign-in", string(axe)),
		chromedp.SendKeys(chromedp.CSS("#name"), "ada"),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong password here"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".problem")),
		into(&problem, chromedp.Text(chromedp.CSS(".problem"))),
		consoleShot(t, "02-signin-refused"),
		chromedp.SendKeys(chromedp.CSS("#name"), "ada"),
		chromedp.SendKeys(chromedp.CSS("#password"), consolePassword),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("section.flow")),
		into(&overview, chromedp.Text(chromedp.CSS("main"))),
		consoleShot(t, "03-overview"),
		axeCheck(t, "overview", string(axe)),
		chromedp.Navigate(base+"/console/answers?flow=feedback_survey"),
		chromedp.WaitVisible(chromedp.CSS("table.answers")),
		into(&answersText, chromedp.Text(chromedp.CSS("table.answers"))),
		consoleShot(t, "04-answers"),
		axeCheck(t, "answers", string(axe)),
		chromedp.Click(chromedp.CSS("table.answers tbody a")),
		chromedp.WaitVisible(chromedp.CSS("dl.answer")),
		into(&answerText, chromedp.Text(chromedp.CSS("main"))),
		consoleShot(t, "05-answer"),
		axeCheck(t, "answer", string(axe)),
		chromedp.Navigate(base+"/console/bookings?view=week&date="+day),
		chromedp.WaitVisible(chromedp.CSS(".calendar")),
		consoleShot(t, "06-bookings-week"),
		axeCheck(t, "bookings (week)", string(axe)),
		chromedp.Navigate(base+"/console/bookings?view=day&date="+day),
		chromedp.WaitVisible(chromedp.CSS(".calendar")),
		into(&bookingsText, chromedp.Text(chromedp.CSS(".calendar"))),
		consoleShot(t, "07-bookings-day"),
		axeCheck(t, "bookings (day)", string(axe)),
		chromedp.Click(chromedp.CSS(`button[aria-label="Cancel booking `+ref+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(".done")),
		into(&afterCancel, chromedp.Text(chromedp.CSS("main"))),
		consoleShot(t, "08-booking-cancelled"),
		chromedp.Navigate(base+"/console/flows"),
		chromedp.WaitVisible(chromedp.CSS("table")),
		into(&flowsText, chromedp.Text(chromedp.CSS("main"))),
		consoleShot(t, "09-flows"),
		axeCheck(t, "flows", string(axe)),
		chromedp.SendKeys(chromedp.CSS(`input[aria-label="WhatsApp number to send feedback_survey to"]`), "4915100000009"),
		chromedp.Click(chromedp.CSS(`form.send:has(input[aria-label="WhatsApp number to send feedback_survey to"]) button`)),
		chromedp.WaitVisible(chromedp.CSS(".done")),
		chromedp.Navigate(base+"/console/deliveries"),
		chromedp.WaitVisible(chromedp.CSS("table")),
		into(&deliveriesText, chromedp.Text(chromedp.CSS("main"))),
		consoleShot(t, "10-deliveries"),
		axeCheck(t, "deliveries", string(axe)),
	)
	if err != nil {
		t.Fatalf("console in the browser: %v\n%s", err, s.Logs())
	}
	checkTotals(t, bctx, base)
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(".signout button")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.Navigate(base+"/console/answers"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		into(&signedOut, chromedp.Text(chromedp.CSS("h1"))),
	)
	if err != nil {
		t.Fatalf("signing out in the browser: %v", err)
	}
	if !strings.Contains(problem, "Wrong name or password") {
		t.Errorf("a wrong password shows %q", problem)
	}
	// The overview: the booking flow's requests and completion, the
	// survey's completions, the refusals by kind.
	for _, want := range []string{"Appointment Booking", "Meta alert: p90 1 s", "Latest flows events from Meta"} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview does not show %q", want)
		}
	}
	for _, want := range []string{"Quick and friendly", "Parking was hard to find", e2eUser} {
		if !strings.Contains(answersText, want) {
			t.Errorf("the answers table does not show %q:\n%s", want, answersText)
		}
	}
	if !strings.Contains(answerText, "comments") || !strings.Contains(answerText, "Parking was hard to find") {
		t.Errorf("the answer in full does not show its values:\n%s", answerText)
	}
	if !strings.Contains(bookingsText, ref) || !strings.Contains(bookingsText, "Ada Lovelace") {
		t.Errorf("the day view does not show booking %s:\n%s", ref, bookingsText)
	}
	if !strings.Contains(afterCancel, "Booking "+ref+" cancelled") || strings.Contains(afterCancel, ref+" · ") {
		t.Errorf("after the cancel:\n%s", afterCancel)
	}
	if b, err := env.store.BookingByRef(ctx, ref); err != nil || b.CancelledAt.IsZero() {
		t.Errorf("the cancelled booking is not kept as cancelled: %+v, %v", b, err)
	}
	// The slot is offered again by the booking flow's endpoint.
	tok2 := env.issue("appointment_booking", "4915100000002")
	a = s.step("appointment_booking", tok2, "data_exchange", "DATE", map[string]any{"date": day})
	offered := false
	for _, o := range a.Data["slots"].([]any) {
		offered = offered || o.(map[string]any)["id"] == slot
	}
	if !offered {
		t.Errorf("the cancelled slot %s is not offered again: %v", slot, a.Data["slots"])
	}
	if !strings.Contains(flowsText, "appointment_booking") || !strings.Contains(flowsText, "data endpoint /flows/appointment_booking") {
		t.Errorf("the flows page:\n%s", flowsText)
	}
	if !strings.Contains(deliveriesText, "Outbox: pending") || !strings.Contains(deliveriesText, e2eUser) || !strings.Contains(deliveriesText, "4915100000009") {
		t.Errorf("the deliveries page does not list the pending confirmation:\n%s", deliveriesText)
	}
	if signedOut != "Sign in" {
		t.Errorf("after signing out /console/answers shows %q, want the sign-in", signedOut)
	}
	// The session ended in the database: its cookie is refused too.
	resp, err = hc.Get(base + "/console/answers.csv?flow=feedback_survey")
	if err == nil {
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the other session (not signed out) downloads: %v %v", resp.Status, err)
	}
	resp, err = hc.PostForm(base+"/console/signout", url.Values{"csrf": {csrf}})
	if err == nil {
		resp.Body.Close()
	}
	resp, err = hc.Get(base + "/console/answers.csv?flow=feedback_survey")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after sign-out the download answers %s, want 303 to the sign-in", resp.Status)
	}
}

// checkTotals reads the overview's totals of two flows.
func checkTotals(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	var booking, survey, expense []string
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/console/?range=hour"),
		chromedp.WaitVisible(chromedp.CSS("section.flow")),
		into(&booking, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#f-appointment_booking ~ table.totals td")].map(td => td.textContent.trim())`)),
		into(&survey, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#f-feedback_survey ~ table.totals td")].map(td => td.textContent.trim())`)),
		into(&expense, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#f-expense_entry ~ table.totals td")].map(td => td.textContent.trim())`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Columns: requests, per minute, p50, p90, p99, error rate, 421, 427,
	// 432, handler failures, forward failures, completions.
	if len(booking) != 12 || booking[0] != "5" || booking[7] != "1" || booking[11] != "1" {
		t.Errorf("appointment_booking totals = %v, want 5 requests, one 427, one completion", booking)
	}
	if len(survey) != 12 || survey[11] != "2" {
		t.Errorf("feedback_survey totals = %v, want 2 completions", survey)
	}
	if len(expense) != 12 || expense[0] != "6" || expense[8] != "1" {
		t.Errorf("expense_entry totals = %v, want 6 requests, one 432", expense)
	}
}
