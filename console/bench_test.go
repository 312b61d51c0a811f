package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console"
	"github.com/waflow/waflow/console/consolestore"
	"github.com/waflow/waflow/sqlite"
)

const (
	benchAnswers = 100_000
	benchDays    = 30
)

var benchFlows = []string{"appointment_booking", "expense_entry", "feedback_survey", "calendar_preferences", "budget_setup", "multi_day_schedule"}

// benchStore fills a store with benchAnswers completions of one flow and
// benchDays days of per-minute figures for every flow (busy minutes: every
// count and bucket set), and a week of bookings.
func benchStore(b *testing.B, now time.Time) *sqlite.DB {
	b.Helper()
	db := openStore(b)
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	const workers = 32
	for w := range workers {
		wg.Go(func() {
			for i := w; i < benchAnswers; i += workers {
				at := now.Add(-time.Duration(i) * 20 * time.Second)
				_, err := db.KeepCompletion(ctx, waflow.Completion{MessageID: fmt.Sprintf("wamid.%07d", i), Flow: "feedback_survey",
					WAID: fmt.Sprintf("49151%08d", i%5000), Status: waflow.CompletionRejected, Result: "bench",
					Response:    []byte(fmt.Sprintf(`{"rating":"%d","comments":"comment number %d about the service","follow_up":false}`, i%5+1, i)),
					CompletedAt: at, ReceivedAt: at})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var batch []consolestore.Minute
	for _, f := range benchFlows {
		for m := range benchDays * 24 * 60 {
			mm := consolestore.Minute{Flow: f, Start: now.Add(-time.Duration(m) * time.Minute), Requests: 60, Err427: 1, HandlerFailures: 1, Completions: 2}
			for i := range mm.Latency {
				mm.Latency[i] = int64(i % 5)
			}
			batch = append(batch, mm)
			if len(batch) == 2000 {
				if err := db.AddMinutes(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if err := db.AddMinutes(ctx, batch); err != nil {
		b.Fatal(err)
	}
	for d := range 7 {
		for h := range 8 {
			slot := time.Date(now.Year(), now.Month(), now.Day()+d, 9+h, 0, 0, 0, time.UTC)
			db.Book(ctx, catalogstore.Booking{Ref: fmt.Sprintf("BK-%d-%d", d, h), TokenID: fmt.Sprintf("t-%d-%d", d, h), Start: slot, Name: "N"}, 1)
		}
	}
	b.Logf("filled the store in %s: %d answers, %d days of minutes for %d flows", time.Since(start).Round(time.Millisecond), benchAnswers, benchDays, len(benchFlows))
	return db
}

// BenchmarkPages serves each console page, signed in, from a store with
// 100,000 answers and 30 days of per-minute figures. The target is under
// 100 ms a page (docs/console.md).
func BenchmarkPages(b *testing.B) {
	now := time.Now().UTC()
	db := benchStore(b, now)
	addUser(b, db, "ada")
	settings, _ := catalog.DefaultSettings()
	var flows []console.Flow
	for _, f := range benchFlows {
		flows = append(flows, console.Flow{Name: f, Title: f, Endpoint: f != "feedback_survey"})
	}
	c, err := console.New(console.Config{Store: db, Flows: flows, Calendar: settings.BookingCalendar(), Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	s := &server{url: srv.URL}
	cl := client()
	if resp := signInB(b, s, cl); resp != http.StatusSeeOther {
		b.Fatalf("sign-in: %d", resp)
	}
	day := now.Format(time.DateOnly)
	pages := []string{
		"/console/?range=hour", "/console/?range=day", "/console/?range=week",
		"/console/answers?flow=feedback_survey",
		"/console/answers?flow=feedback_survey&q=number+99999",
		"/console/answers?flow=feedback_survey&from=" + now.AddDate(0, 0, -7).Format(time.DateOnly) + "&to=" + day,
		"/console/answers/view?id=wamid.0050000",
		"/console/bookings?view=week&date=" + day,
		"/console/flows", "/console/deliveries",
	}
	for _, p := range pages {
		name := strings.NewReplacer("/console/", "", "?", " ", "&", " ").Replace(p)
		if len(name) > 60 {
			name = name[:60]
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				resp, err := cl.Get(srv.URL + p)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %s", p, resp.Status)
				}
			}
		})
	}
}

func signInB(b *testing.B, s *server, c *http.Client) int {
	resp, err := c.Get(s.url + "/console/signin")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindStringSubmatch(string(body))
	if m == nil {
		b.Fatal("no csrf token")
	}
	resp, err = c.PostForm(s.url+"/console/signin", map[string][]string{"csrf": {m[1]}, "name": {"ada"}, "password": {password}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
