package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/console/consolestore"
	"github.com/waflow/waflow/responses"
	"github.com/waflow/waflow/webhook"
)

// span is one of the overview's time ranges.
type span struct {
	Key   string
	Label string
	Len   time.Duration
	Step  time.Duration
}

var spans = []span{
	{"hour", "Last hour", time.Hour, time.Minute},
	{"day", "Last day", 24 * time.Hour, time.Hour},
	{"week", "Last week", 7 * 24 * time.Hour, time.Hour},
}

// Meta's first alert thresholds (protocol.md, flows health): p90 latency
// 1 s, endpoint error rate 5 %.
const (
	alertP90       = time.Second
	alertErrorRate = 5.0
)

// totals sums a range.
type totals struct {
	Requests, Err421, Err427, Err432, Handler, Forward, Completions int64
	PerMin                                                          string
	P50, P90, P99                                                   string
	P90Over                                                         bool
	ErrorRate                                                       float64
	ErrorOver                                                       bool
}

type overviewFlow struct {
	Name, Title string
	Endpoint    bool
	Totals      totals
	Charts      []figure
}

// figure is a chart and its caption.
type figure struct {
	Caption string
	SVG     template.HTML
}

func fig(c chart) figure { return figure{Caption: c.Title + " (" + c.Unit + ")", SVG: c.svg()} }

type flowEventRow struct {
	At                           time.Time
	Event, FlowID, State, Detail string
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	sp := spans[0]
	for _, s := range spans {
		if s.Key == r.URL.Query().Get("range") {
			sp = s
		}
	}
	if c.cfg.Recorder != nil {
		if err := c.cfg.Recorder.Flush(r.Context()); err != nil {
			c.log.Warn("console: flush before the overview failed", "error", err)
		}
	}
	now := c.cfg.Now().UTC()
	until := now.Truncate(sp.Step).Add(sp.Step)
	since := until.Add(-sp.Len)
	var flows []overviewFlow
	for _, f := range c.cfg.Flows {
		ms, err := c.cfg.Store.Minutes(r.Context(), f.Name, since, until, sp.Step)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		flows = append(flows, buildOverview(f, ms, since, sp))
	}
	evs, err := c.cfg.Store.FlowEvents(r.Context(), 10)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var rows []flowEventRow
	for _, e := range evs {
		row := flowEventRow{At: e.ReceivedAt}
		if ev, err := webhook.DecodeEvent(e.Payload); err == nil {
			if fe, err := ev.DecodeFlowsEvent(); err == nil {
				row.Event, row.FlowID = fe.Event, fe.FlowID
				row.State = fe.AlertState
				if fe.NewStatus != "" {
					row.State = fe.OldStatus + " → " + fe.NewStatus
				}
				row.Detail = fe.Message
				if !fe.Time.IsZero() {
					row.At = fe.Time
				}
			}
		}
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "overview", map[string]any{"Spans": spans, "Span": sp, "Flows": flows, "Events": rows,
		"Since": since, "Until": until})
}

func buildOverview(f Flow, ms []consolestore.Minute, since time.Time, sp span) overviewFlow {
	n := int(sp.Len / sp.Step)
	byStep := make([]consolestore.Minute, n)
	var sum consolestore.Minute
	for _, m := range ms {
		i := int(m.Start.Sub(since) / sp.Step)
		if i >= 0 && i < n {
			byStep[i].Add(m)
			sum.Add(m)
		}
	}
	xs := make([]time.Time, n)
	rpm, p50, p90, p99, errRate, comp := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	perStep := sp.Step.Minutes()
	for i, m := range byStep {
		xs[i] = since.Add(time.Duration(i) * sp.Step)
		rpm[i] = float64(m.Requests) / perStep
		p50[i], p90[i], p99[i] = ms3(m, 0.5), ms3(m, 0.9), ms3(m, 0.99)
		if m.Requests > 0 {
			errRate[i] = 100 * float64(m.Errors()) / float64(m.Requests)
		}
		comp[i] = float64(m.Completions)
	}
	t := totals{Requests: sum.Requests, Err421: sum.Err421, Err427: sum.Err427, Err432: sum.Err432,
		Handler: sum.HandlerFailures - sum.ForwardFailures, Forward: sum.ForwardFailures, Completions: sum.Completions,
		PerMin: formatFloat(float64(sum.Requests)/sp.Len.Minutes(), 2)}
	if sum.Requests > 0 {
		t.P50, t.P90, t.P99 = msText(sum, 0.5), msText(sum, 0.9), msText(sum, 0.99)
		t.P90Over = Percentile(sum, 0.9) > alertP90
		t.ErrorRate = 100 * float64(sum.Errors()) / float64(sum.Requests)
		t.ErrorOver = t.ErrorRate >= alertErrorRate
	}
	o := overviewFlow{Name: f.Name, Title: f.Title, Endpoint: f.Endpoint, Totals: t}
	if f.Endpoint {
		o.Charts = append(o.Charts,
			fig(chart{Title: "Requests per minute", Unit: "req/min", X: xs, Series: []series{{"requests", "s1", rpm}}}),
			fig(chart{Title: "Latency p50, p90, p99", Unit: "ms", X: xs, Alert: float64(alertP90.Milliseconds()),
				AlertLabel: "Meta alert: p90 1 s", Series: []series{{"p50", "s1", p50}, {"p90", "s2", p90}, {"p99", "s3", p99}}}),
			fig(chart{Title: "Error rate", Unit: "%", X: xs, Alert: alertErrorRate, AlertLabel: "Meta alert: 5 %",
				Series: []series{{"errors", "s4", errRate}}}),
		)
	}
	o.Charts = append(o.Charts, fig(chart{Title: "Completions", Unit: "per " + stepText(sp.Step), X: xs,
		Series: []series{{"completions", "s5", comp}}}))
	return o
}

func stepText(d time.Duration) string {
	if d >= time.Hour {
		return strconv.Itoa(int(d.Hours())) + " h"
	}
	return strconv.Itoa(int(d.Minutes())) + " min"
}

// Percentile estimates the q-quantile of m's latencies from its buckets,
// interpolating linearly inside the bucket it falls in (the last bucket,
// past 10 s, counts as 10 s).
func Percentile(m consolestore.Minute, q float64) time.Duration {
	var total int64
	for _, n := range m.Latency {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var cum float64
	lower := time.Duration(0)
	for i, n := range m.Latency {
		upper := consolestore.LatencyBounds[min(i, len(consolestore.LatencyBounds)-1)]
		if i == len(consolestore.LatencyBounds) {
			lower = upper
		}
		if n > 0 && cum+float64(n) >= rank {
			frac := (rank - cum) / float64(n)
			return lower + time.Duration(frac*float64(upper-lower))
		}
		cum += float64(n)
		lower = upper
	}
	return consolestore.LatencyBounds[len(consolestore.LatencyBounds)-1]
}

func ms3(m consolestore.Minute, q float64) float64 {
	return float64(Percentile(m, q).Microseconds()) / 1000
}

func msText(m consolestore.Minute, q float64) string {
	d := Percentile(m, q)
	if d >= time.Second {
		return formatFloat(d.Seconds(), 2) + " s"
	}
	return formatFloat(float64(d.Microseconds())/1000, 1) + " ms"
}

// ---- answers

type answerRow struct {
	MessageID, WAID, Status, Summary string
	ReceivedAt                       time.Time
}

// dateParam parses a YYYY-MM-DD form value (UTC); end moves it to the end
// of the day.
func dateParam(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, fmt.Errorf("the date %q is not YYYY-MM-DD", v)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// TextScan is how many of the newest answers (of the filter's dates, from
// the page on) a text search reads: a search costs the same whatever the
// table holds; narrowing the dates or paging reaches older ones.
const TextScan = 5000

// answerQuery reads the answers page's filter.
func (c *Console) answerQuery(r *http.Request) (consolestore.AnswerQuery, Flow, error) {
	v := r.URL.Query()
	q := consolestore.AnswerQuery{Flow: v.Get("flow"), Text: v.Get("q"), Limit: 50, ScanLimit: TextScan}
	if q.Flow == "" && len(c.cfg.Flows) > 0 {
		q.Flow = c.cfg.Flows[0].Name
	}
	f, ok := c.flowByNm[q.Flow]
	if !ok {
		return q, f, fmt.Errorf("no flow is named %q", q.Flow)
	}
	var err error
	if q.Since, err = dateParam(v.Get("from"), false); err != nil {
		return q, f, err
	}
	if q.Until, err = dateParam(v.Get("to"), true); err != nil {
		return q, f, err
	}
	if b := v.Get("before"); b != "" {
		us, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			return q, f, errors.New("the page cursor is not a number")
		}
		q.Before, q.BeforeID = time.UnixMicro(us).UTC(), v.Get("before_id")
	}
	if len(q.Text) > 200 {
		return q, f, errors.New("the text filter is longer than 200 characters")
	}
	return q, f, q.Validate()
}

func (c *Console) answers(w http.ResponseWriter, r *http.Request) {
	q, f, err := c.answerQuery(r)
	if err != nil {
		c.message(w, r, http.StatusBadRequest, "Bad filter", err.Error())
		return
	}
	cs, err := c.cfg.Store.Answers(r.Context(), q)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows := make([]answerRow, len(cs))
	for i, cm := range cs {
		rows[i] = answerRow{MessageID: cm.MessageID, WAID: cm.WAID, Status: string(cm.Status), ReceivedAt: cm.ReceivedAt,
			Summary: summary(cm.Response, 120)}
	}
	v := r.URL.Query()
	filter := url.Values{"flow": {q.Flow}}
	for _, k := range []string{"from", "to", "q"} {
		if v.Get(k) != "" {
			filter.Set(k, v.Get(k))
		}
	}
	next := ""
	if len(cs) == q.Limit {
		nv := url.Values{}
		for k, vs := range filter {
			nv[k] = vs
		}
		last := cs[len(cs)-1]
		nv.Set("before", strconv.FormatInt(last.ReceivedAt.UnixMicro(), 10))
		nv.Set("before_id", last.MessageID)
		next = nv.Encode()
	}
	c.render(w, r, http.StatusOK, "answers", map[string]any{"Flows": c.cfg.Flows, "Flow": f, "Rows": rows,
		"From": v.Get("from"), "To": v.Get("to"), "Q": q.Text, "CSV": filter.Encode(), "Next": next, "Scan": TextScan})
}

// summary shortens a response object to its submitted values, for the
// table (flow_token left out).
func summary(resp []byte, n int) string {
	var parts []string
	for _, f := range responseFields(resp) {
		parts = append(parts, f.Name+": "+f.Value)
	}
	s := strings.Join(strings.Fields(strings.Join(parts, " · ")), " ")
	if s == "" {
		s = strings.Join(strings.Fields(string(resp)), " ")
	}
	if len([]rune(s)) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}

type field struct{ Name, Value string }

func (c *Console) answer(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	cm, err := c.cfg.Store.Completion(r.Context(), id)
	if errors.Is(err, waflow.ErrNotFound) {
		c.message(w, r, http.StatusNotFound, "No such answer", "No completion has the message id "+strconv.Quote(id)+".")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	fields := responseFields(cm.Response)
	var pretty strings.Builder
	if _, err := responses.Export(&pretty, responses.JSON, nil, func(yield func(waflow.Completion, error) bool) {
		yield(cm, nil)
	}); err != nil {
		pretty.Reset()
		pretty.Write(cm.Response)
	}
	var indented bytes.Buffer
	if json.Indent(&indented, []byte(pretty.String()), "", "  ") == nil {
		pretty.Reset()
		pretty.Write(indented.Bytes())
	}
	c.render(w, r, http.StatusOK, "answer", map[string]any{"C": cm, "Fields": fields, "JSON": pretty.String()})
}

// answersCSV is the export of "waflow responses" (package responses) for
// the flow and dates of the page's filter; the text filter applies too.
func (c *Console) answersCSV(w http.ResponseWriter, r *http.Request) {
	q, f, err := c.answerQuery(r)
	if err != nil {
		c.message(w, r, http.StatusBadRequest, "Bad filter", err.Error())
		return
	}
	rng := waflow.CompletionRange{Flow: q.Flow, Since: q.Since, Until: q.Until}
	seq := c.cfg.Store.EachCompletion(r.Context(), rng)
	if q.Text != "" {
		inner := seq
		seq = func(yield func(waflow.Completion, error) bool) {
			for cm, err := range inner {
				if err != nil || strings.Contains(string(cm.Response), q.Text) || strings.Contains(cm.WAID, q.Text) {
					if !yield(cm, err) {
						return
					}
				}
			}
		}
	}
	var fields []string
	if f.Spec != nil {
		fields = responses.Fields(f.Spec)
	} else if fields, err = responses.DiscoverFields(c.cfg.Store.EachCompletion(r.Context(), rng)); err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+f.Name+`-answers.csv"`)
	if _, err := responses.Export(w, responses.CSV, fields, seq); err != nil {
		// The header is sent: the truncated file is all that can be done;
		// the log says why.
		c.log.Error("console: CSV export failed", "flow", f.Name, "error", err)
	}
}

// ---- bookings

type slotRow struct {
	Start    time.Time
	Label    string
	Booked   int
	Capacity int
	Free     int
	Bookings []catalogstore.Booking
}

type dayCol struct {
	Day   time.Time
	Label string
	Slots []slotRow
}

func (c *Console) bookings(w http.ResponseWriter, r *http.Request) {
	cal := c.cfg.Calendar
	if cal == nil {
		c.message(w, r, http.StatusNotFound, "No bookings", "The appointment booking flow is not served.")
		return
	}
	loc := cal.Location()
	v := r.URL.Query()
	view := v.Get("view")
	if view != "week" {
		view = "day"
	}
	now := c.cfg.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if d := v.Get("date"); d != "" {
		t, err := time.ParseInLocation(time.DateOnly, d, loc)
		if err != nil {
			c.message(w, r, http.StatusBadRequest, "Bad date", fmt.Sprintf("The date %q is not YYYY-MM-DD.", d))
			return
		}
		day = t
	}
	days := 1
	if view == "week" {
		day = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // Monday
		days = 7
	}
	end := day.AddDate(0, 0, days)
	bs, err := c.cfg.Store.Bookings(r.Context(), day, end)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	bySlot := map[int64][]catalogstore.Booking{}
	for _, b := range bs {
		bySlot[b.Start.Unix()] = append(bySlot[b.Start.Unix()], b)
	}
	var cols []dayCol
	booked, capTotal := 0, 0
	for d := day; d.Before(end); d = d.AddDate(0, 0, 1) {
		col := dayCol{Day: d, Label: d.Format("Mon 2 Jan")}
		for _, s := range cal.Slots(d) {
			b := bySlot[s.Unix()]
			row := slotRow{Start: s, Label: s.In(loc).Format("15:04"), Booked: len(b), Capacity: cal.Capacity(),
				Free: max(0, cal.Capacity()-len(b)), Bookings: b}
			booked += len(b)
			capTotal += cal.Capacity()
			col.Slots = append(col.Slots, row)
		}
		cols = append(cols, col)
	}
	step := 1
	if view == "week" {
		step = 7
	}
	c.render(w, r, http.StatusOK, "bookings", map[string]any{"View": view, "Days": cols, "Booked": booked, "Capacity": capTotal,
		"Date": day.Format(time.DateOnly), "Prev": day.AddDate(0, 0, -step).Format(time.DateOnly),
		"Next": day.AddDate(0, 0, step).Format(time.DateOnly), "Zone": loc.String(), "Done": v.Get("cancelled")})
}

func (c *Console) cancelBooking(w http.ResponseWriter, r *http.Request) {
	ref := r.PostForm.Get("ref")
	// A booking cancelled before is not cancelled again: a second click
	// emits no second event.
	b, err := c.cfg.Store.BookingByRef(r.Context(), ref)
	if err == nil && !b.CancelledAt.IsZero() {
		err = waflow.ErrNotFound
	}
	if err == nil {
		b, err = c.cfg.Store.CancelBooking(r.Context(), ref, c.cfg.Now())
	}
	if errors.Is(err, waflow.ErrNotFound) {
		c.message(w, r, http.StatusNotFound, "No such booking", "No booking has the reference "+strconv.Quote(ref)+" (cancelled already?).")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	s := sessionOf(r)
	c.log.Info("console: booking cancelled", "ref", b.Ref, "user", s.User)
	if c.cfg.Events != nil {
		if err := c.cfg.Events.Emit(r.Context(), EventBookingChanged, BookingChange{Change: "cancelled", By: s.User, Booking: b}); err != nil {
			c.log.Error("console: booking.changed not emitted", "ref", b.Ref, "error", err)
		}
	}
	loc := time.UTC
	if c.cfg.Calendar != nil {
		loc = c.cfg.Calendar.Location()
	}
	back := url.Values{"view": {r.PostForm.Get("view")}, "date": {b.Start.In(loc).Format(time.DateOnly)}, "cancelled": {b.Ref}}
	http.Redirect(w, r, Prefix+"bookings?"+back.Encode(), http.StatusSeeOther)
}

// ---- flows

type flowRow struct {
	Flow
	Deployed   bool
	FlowID     string
	UpdatedAt  time.Time
	Current    bool   // the deployed Flow JSON is this one
	MetaStatus string // the newest FLOW_STATUS_CHANGE Meta sent for it
}

func (c *Console) flows(w http.ResponseWriter, r *http.Request) {
	deps := map[string]waflow.FlowDeployment{}
	if c.cfg.WABAID != "" {
		ds, err := c.cfg.Store.FlowDeployments(r.Context(), c.cfg.WABAID)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, d := range ds {
			deps[d.Flow] = d
		}
	}
	// Meta tells status changes by webhook; the newest per flow id wins.
	status := map[string]string{}
	evs, err := c.cfg.Store.FlowEvents(r.Context(), 200)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, e := range evs {
		if ev, err := webhook.DecodeEvent(e.Payload); err == nil {
			if fe, err := ev.DecodeFlowsEvent(); err == nil && fe.NewStatus != "" && status[fe.FlowID] == "" {
				status[fe.FlowID] = fe.NewStatus
			}
		}
	}
	var rows []flowRow
	for _, f := range c.cfg.Flows {
		row := flowRow{Flow: f}
		if d, ok := deps[f.Name]; ok {
			row.Deployed, row.FlowID, row.UpdatedAt = true, d.FlowID, d.UpdatedAt
			row.Current = d.ContentHash == f.ContentHash
			row.MetaStatus = status[d.FlowID]
		}
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "flows", map[string]any{"Flows": rows, "WABA": c.cfg.WABAID, "Send": c.cfg.Send != nil,
		"Sent": r.URL.Query().Get("sent")})
}

// sendFlow enqueues a flow's message to a number typed in the form.
func (c *Console) sendFlow(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Send == nil {
		c.message(w, r, http.StatusNotFound, "Not available", "Sending flows from the console is not configured.")
		return
	}
	flow, to := r.PostForm.Get("flow"), strings.TrimPrefix(strings.Join(strings.Fields(r.PostForm.Get("to")), ""), "+")
	if _, ok := c.flowByNm[flow]; !ok {
		c.message(w, r, http.StatusBadRequest, "No such flow", "No flow is named "+strconv.Quote(flow)+".")
		return
	}
	if len(to) < 8 || len(to) > 15 || strings.Trim(to, "0123456789") != "" {
		c.message(w, r, http.StatusBadRequest, "Bad number", "A WhatsApp number is 8 to 15 digits with its country code, e.g. 4915112345678.")
		return
	}
	id, err := c.cfg.Send(r.Context(), flow, to)
	if err != nil {
		c.log.Error("console: sending a flow failed", "flow", flow, "error", err)
		c.message(w, r, http.StatusBadGateway, "Not sent", "The message could not be queued; the server's log says why.")
		return
	}
	c.log.Info("console: flow message queued", "flow", flow, "outbox_id", id, "user", sessionOf(r).User)
	http.Redirect(w, r, Prefix+"flows?sent="+url.QueryEscape(flow), http.StatusSeeOther)
}

// ---- deliveries

type deliveryList struct {
	Title string
	Retry bool
	Rows  []Delivery
	Error string
}

func (c *Console) deliveries(w http.ResponseWriter, r *http.Request) {
	var lists []deliveryList
	for _, st := range []waflow.OutboxState{waflow.OutboxPending, waflow.OutboxDead, waflow.OutboxUnknown} {
		ms, err := c.cfg.Store.OutboxMessages(r.Context(), st, 100)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		l := deliveryList{Title: "Outbox: " + string(st), Retry: st == waflow.OutboxDead}
		for _, m := range ms {
			l.Rows = append(l.Rows, Delivery{ID: strconv.FormatInt(m.ID, 10), To: m.To, State: string(m.State),
				Attempts: m.Attempts, LastError: m.LastError, At: m.CreatedAt})
		}
		lists = append(lists, l)
	}
	for _, src := range c.cfg.Deliveries {
		l := deliveryList{Title: src.Title()}
		rows, err := src.Deliveries(r.Context(), "", 100)
		if err != nil {
			c.log.Error("console: reading deliveries failed", "list", src.Title(), "error", err)
			l.Error = "could not be read; the server's log says why"
		}
		l.Rows = rows
		lists = append(lists, l)
	}
	c.render(w, r, http.StatusOK, "deliveries", map[string]any{"Lists": lists, "Done": r.URL.Query().Get("retried")})
}

func (c *Console) retryDelivery(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
	if err != nil {
		c.message(w, r, http.StatusBadRequest, "Bad message id", "The message id is not a number.")
		return
	}
	switch err := c.cfg.Store.RetryOutboxMessage(r.Context(), id, c.cfg.Now()); {
	case errors.Is(err, waflow.ErrNotFound):
		c.message(w, r, http.StatusNotFound, "No such message", "No outbox message has that id.")
		return
	case errors.Is(err, waflow.ErrConflict):
		c.message(w, r, http.StatusConflict, "Not retried", "Only a dead message can be retried: "+err.Error())
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	c.log.Info("console: outbox message retried", "id", id, "user", sessionOf(r).User)
	http.Redirect(w, r, Prefix+"deliveries?retried="+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// responseFields lists a response object's members in their order, each
// value as its JSON text (a string unquoted); flow_token is left out.
func responseFields(resp []byte) []field {
	dec := json.NewDecoder(bytes.NewReader(resp))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []field
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out
		}
		name, _ := k.(string)
		if name == "flow_token" {
			continue
		}
		text := string(v)
		var s string
		if json.Unmarshal(v, &s) == nil {
			text = s
		}
		out = append(out, field{name, text})
	}
	return out
}
