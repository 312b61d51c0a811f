package simulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtest"
	"github.com/waflow/waflow/simulator"
)

// catalogSpec parses one of the catalog's Flow JSON files: real flows to
// simulate against endpoints written here.
func catalogSpec(t *testing.T, name string) *flowjson.Flow {
	t.Helper()
	src, err := catalog.Source(name)
	if err != nil {
		t.Fatal(err)
	}
	f, problems := flowjson.ValidateSource(src)
	if problems.HasErrors() {
		t.Fatalf("%s: %v", name, problems.Err())
	}
	return f
}

// bookingRequests records what a test endpoint received, by action and
// screen.
type bookingRequests struct {
	mu   sync.Mutex
	seen []string
	data map[string]map[string]any
}

func (r *bookingRequests) add(req *endpoint.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, req.Action+" "+req.Screen)
	v, _ := req.Values()
	if r.data == nil {
		r.data = map[string]map[string]any{}
	}
	r.data[req.Action+" "+req.Screen] = v
}

// bookingEndpoint is a well-behaved endpoint for the appointment_booking
// Flow JSON: fixed dates and slots.
func bookingEndpoint(rec *bookingRequests) *endpoint.Flow {
	f := endpoint.NewFlow("appointment_booking")
	dates := map[string]any{"min_date": "2026-12-01", "max_date": "2026-12-31", "unavailable_dates": []any{"2026-12-01", "2026-12-25"}}
	slots := func(date string) map[string]any {
		return map[string]any{"date": date, "date_label": "Day " + date, "slots": []any{
			map[string]any{"id": "09:00", "title": "09:00", "enabled": false},
			map[string]any{"id": "10:00", "title": "10:00", "enabled": true},
			map[string]any{"id": "11:00", "title": "11:00", "enabled": true},
		}}
	}
	f.HandleInit(func(_ context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		rec.add(r)
		return endpoint.Next("DETAILS", nil), nil
	})
	f.HandleDataExchange("DETAILS", func(_ context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		rec.add(r)
		return endpoint.Next("DATE", dates), nil
	})
	f.HandleDataExchange("DATE", func(_ context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		rec.add(r)
		var in struct{ Date string }
		r.Decode(&in)
		return endpoint.Next("TIME", slots(in.Date)), nil
	})
	f.HandleBack("TIME", func(_ context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		rec.add(r)
		return endpoint.Next("DATE", dates), nil
	})
	f.HandleDataExchange("TIME", func(_ context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		rec.add(r)
		var in struct{ Date, Time string }
		r.Decode(&in)
		if in.Time == "11:00" {
			return endpoint.ErrorOn("TIME", slots(in.Date), "That time was just taken."), nil
		}
		return endpoint.Success(map[string]any{"booking_ref": "BK-1", "date": in.Date, "time": in.Time}), nil
	})
	return f
}

const bookingScenario = `{"steps": [
  {"do": "ping"},
  {"screen": "DETAILS", "fill": {"name": "Ada Lovelace", "reason": "Annual check up"}, "expect": {"screen": "DATE", "data": {"min_date": "2026-12-01"}}},
  {"screen": "DATE", "fill": {"date": "$first"}, "expect": {"screen": "TIME", "data": {"date": "2026-12-02"}}},
  {"do": "back", "expect": {"screen": "DATE"}},
  {"fill": {"date": "$last"}, "expect": {"screen": "TIME", "data": {"date": "2026-12-31"}}},
  {"fill": {"time": "$last"}, "expect": {"screen": "TIME", "error_message": "just taken"}},
  {"fill": {"time": "$first", "reminder": true}, "expect": {"screen": "SUCCESS", "complete": {"booking_ref": "BK-1", "time": "10:00"}}}
]}`

// TestPlayScenario plays a whole booking against a well-behaved endpoint:
// INIT, pings, data_exchange on each screen, BACK from a refresh_on_back
// screen, an error_message answer, and SUCCESS; and checks what the
// endpoint received, which is what the phone sends.
func TestPlayScenario(t *testing.T) {
	rec := &bookingRequests{}
	h := flowtest.NewHarness(t, catalogSpec(t, "appointment_booking"), bookingEndpoint(rec), flowtest.HarnessOptions{})
	sc, err := simulator.ParseScenario([]byte(bookingScenario))
	if err != nil {
		t.Fatal(err)
	}
	s := h.Session(t)
	rep, err := simulator.Play(t.Context(), s, sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	wantSeen := []string{"INIT ", "data_exchange DETAILS", "data_exchange DATE", "BACK TIME", "data_exchange DATE", "data_exchange TIME", "data_exchange TIME"}
	if diff := cmp.Diff(wantSeen, rec.seen); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	// The Footer of TIME sends ${data.date}, ${form.time}, an OptIn and two
	// values of another screen's form.
	want := map[string]any{"date": "2026-12-31", "time": "10:00", "reminder": true, "name": "Ada Lovelace", "reason": "Annual check up"}
	if diff := cmp.Diff(want, rec.data["data_exchange TIME"]); diff != "" {
		t.Errorf("TIME payload (-want +got):\n%s", diff)
	}
	c := rep.Completion
	if c == nil || c.Via != "SUCCESS" || c.ResponseJSON["flow_token"] == "" || c.ResponseJSON["booking_ref"] != "BK-1" {
		t.Fatalf("completion = %+v", c)
	}
	kinds := []string{}
	for _, st := range rep.Steps {
		kinds = append(kinds, st.Kind)
		if st.Endpoint && st.Latency <= 0 {
			t.Errorf("step %s has no latency", st.Kind)
		}
	}
	wantKinds := []string{"INIT", "ping", "data_exchange", "data_exchange", "BACK", "data_exchange", "data_exchange", "data_exchange"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if !s.Done() {
		t.Error("the session is not done after SUCCESS")
	}
	if _, err := s.Submit(t.Context()); err == nil || !strings.Contains(err.Error(), "ended") {
		t.Errorf("Submit after the end = %v, want ErrClosed", err)
	}
}

// TestPhoneChecks: the phone refuses a form that breaks the screen's own
// rules, and nothing reaches the endpoint.
func TestPhoneChecks(t *testing.T) {
	rec := &bookingRequests{}
	h := flowtest.NewHarness(t, catalogSpec(t, "appointment_booking"), bookingEndpoint(rec), flowtest.HarnessOptions{})
	tests := []struct {
		name string
		fill map[string]any
		want map[string]string // component → message
	}{
		{"required fields", map[string]any{}, map[string]string{"name": "Required", "reason": "Required"}},
		{"min-chars", map[string]any{"name": "A", "reason": "Check up"}, map[string]string{"name": "Use at least 2 characters"}},
		{"pattern", map[string]any{"name": "Ada", "reason": "Check-up!"}, map[string]string{"reason": "Invalid format"}},
		{"max-chars", map[string]any{"name": strings.Repeat("a", 61), "reason": "Check up"}, map[string]string{"name": "Use at most 60 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.Session(t)
			if _, err := s.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := s.Fill(tt.fill); err != nil {
				t.Fatal(err)
			}
			before := len(rec.seen)
			st, err := s.Submit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, b := range st.Blocked {
				got[b.Component] = b.Message
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("blocked (-want +got):\n%s", diff)
			}
			if st.Endpoint || len(rec.seen) != before {
				t.Error("a refused form reached the endpoint")
			}
			if s.State().Screen != "DETAILS" {
				t.Errorf("on %s after a refused submit", s.State().Screen)
			}
		})
	}
}

// TestStaticFlow plays the feedback survey, a flow without an endpoint:
// navigate and complete run on the phone, an If shows inputs when the
// OptIn is ticked, back keeps what was typed, and the completion is the
// complete action's payload with the flow token.
func TestStaticFlow(t *testing.T) {
	c, err := simulator.NewClient(simulator.Config{Flow: catalogSpec(t, "feedback_survey"), Name: "feedback_survey", FlowToken: "tok-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := simulator.NewSession(c)
	ctx := t.Context()
	must := func(st *simulator.Step, err error) *simulator.Step {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		return st
	}
	must(s.Start(ctx))
	if st, _ := s.Submit(ctx); len(st.Blocked) != 1 || st.Blocked[0].Component != "rating" {
		t.Fatalf("submit without a rating: blocked %v", st.Blocked)
	}
	s.Set("rating", "4")
	must(s.Submit(ctx))
	s.Set("comments", "Friendly staff")
	must(s.Back(ctx))
	if got := s.Form()["rating"]; got != "4" {
		t.Errorf("rating after back = %v, want 4", got)
	}
	must(s.Submit(ctx))
	if got := s.Form()["comments"]; got != nil {
		t.Errorf("a screen shown anew starts empty; comments = %v", got)
	}
	s.Set("comments", "Friendly staff")
	must(s.Submit(ctx))
	if err := s.Set("contact_method", "email"); err == nil {
		t.Error("an input inside a false If could be set")
	}
	names := func() []string {
		var out []string
		for _, it := range s.View().Items {
			if it.Name != "" {
				out = append(out, it.Name)
			}
		}
		return out
	}
	if diff := cmp.Diff([]string{"follow_up"}, names()); diff != "" {
		t.Errorf("inputs shown before the OptIn (-want +got):\n%s", diff)
	}
	s.Set("follow_up", true)
	if diff := cmp.Diff([]string{"follow_up", "contact_method", "contact_value", "contact_time"}, names()); diff != "" {
		t.Errorf("inputs shown after the OptIn (-want +got):\n%s", diff)
	}
	st, _ := s.Submit(ctx)
	if len(st.Blocked) != 2 {
		t.Errorf("required inputs of the If branch: blocked %v, want contact_method and contact_time", st.Blocked)
	}
	s.Fill(map[string]any{"contact_method": "email", "contact_value": "ada@example.com", "contact_time": "morning"})
	must(s.Submit(ctx))
	st = must(s.Submit(ctx))
	if st.Completion == nil {
		t.Fatal("no completion")
	}
	want := map[string]any{"flow_token": "tok-1", "rating": "4", "comments": "Friendly staff", "follow_up": true,
		"contact_method": "email", "contact_value": "ada@example.com", "contact_time": "morning"}
	if diff := cmp.Diff(want, st.Completion.ResponseJSON); diff != "" {
		t.Errorf("response_json (-want +got):\n%s", diff)
	}
	// The server's own check of a completion accepts what the phone sent.
	if err := c.Flow().CheckCompletion(flowjson.Submission{Values: st.Completion.ResponseJSON}).Err(); err != nil {
		t.Errorf("CheckCompletion: %v", err)
	}
}

// TestStateRoundTrip: a session resumed from its JSON state goes on as the
// original would (the browser preview keeps the state in the page).
func TestStateRoundTrip(t *testing.T) {
	c, err := simulator.NewClient(simulator.Config{Flow: catalogSpec(t, "feedback_survey"), FlowToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	s := simulator.NewSession(c)
	s.Start(t.Context())
	s.Set("rating", "5")
	s.Submit(t.Context())
	b, err := json.Marshal(s.State())
	if err != nil {
		t.Fatal(err)
	}
	var st simulator.State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	r, err := simulator.Resume(c, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Back(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r.State().Screen != "RATING" || r.Form()["rating"] != "5" {
		t.Errorf("resumed session after back: screen %s, rating %v", r.State().Screen, r.Form()["rating"])
	}
	if _, err := simulator.Resume(c, simulator.State{Screen: "NOPE"}); err == nil {
		t.Error("Resume accepted a state on an unknown screen")
	}
}

// TestReplaySteps: the requests of a played scenario, prepared again, are
// answered as before; this is how a load generator replays a scenario.
func TestReplaySteps(t *testing.T) {
	rec := &bookingRequests{}
	h := flowtest.NewHarness(t, catalogSpec(t, "appointment_booking"), bookingEndpoint(rec), flowtest.HarnessOptions{})
	sc, _ := simulator.ParseScenario([]byte(bookingScenario))
	s := h.Session(t)
	rep, err := simulator.Play(t.Context(), s, sc, nil)
	if err != nil || !rep.OK() {
		t.Fatal(err, rep.Err())
	}
	c, _ := simulator.NewClient(h.Config(h.Token(t, "15550000002")))
	n := 0
	for _, st := range rep.Steps {
		req, ok := st.Request()
		if !ok {
			continue
		}
		p, err := c.Prepare(req)
		if err != nil {
			t.Fatal(err)
		}
		hreq, _ := http.NewRequest(http.MethodPost, h.URL, bytes.NewReader(p.Body))
		hreq.Header = p.Header
		resp, err := http.DefaultClient.Do(hreq)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := p.Check(resp.StatusCode, body); err != nil {
			t.Errorf("replayed %s on %s: %v", req.Action, req.Screen, err)
		}
		if err := p.Check(200, []byte("bm90IGZvciB0aGlzIHJlcXVlc3Q=")); err == nil {
			t.Error("Check accepted an answer sealed for nothing")
		}
		n++
	}
	if n != 8 {
		t.Errorf("%d steps replayed, want 8", n)
	}
}
