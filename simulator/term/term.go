// Package term is the terminal of "waflow simulate": it plays a
// [simulator.Session] on a text terminal. It prints each step (what was
// sent, what came back, its latency and verdict) and each screen as text or
// as JSON lines, flow tokens hidden; it plays a scenario, or asks for each
// shown input of each screen and checks every answer as it is typed; it
// shows the completion's answers as readable lines, delivers the
// completion webhook, and ends with a summary and PASS or FAIL.
//
// It uses only the simulator's exported API: the simulator stays a library
// for the preview, the load generator and tests, and this package is one
// way of showing it.
package term

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/simulator"
)

// Options say what Run plays and where it reads and prints.
type Options struct {
	// Scenario, when set, is played; otherwise Run asks for each shown
	// input of each screen on In (an empty answer keeps the shown value,
	// "<" goes back, "." stops) and presses the Footer.
	Scenario *simulator.Scenario
	In       io.Reader
	// Out receives the steps, the screens, the prompts and the summary.
	Out io.Writer
	// JSON prints steps and screens as JSON lines instead of text.
	JSON bool
	// Webhook, when its URL or Handler is set, receives the signed
	// completion webhook once the flow has completed.
	Webhook simulator.WebhookOptions
}

// Run plays one session of c as Options say and prints it. It returns the
// problems found (rules the endpoint broke, scenario expectations that
// failed, a webhook that was refused, a flow stopped before its end), nil
// when the summary says PASS; err is for what stopped the run itself.
func Run(ctx context.Context, c *simulator.Client, o Options) (failures []string, err error) {
	p := &printer{w: o.Out, json: o.JSON}
	s := simulator.NewSession(c)
	spec := c.Flow()
	fmt.Fprintf(o.Out, "simulating %s (Flow JSON %s", c.Name(), spec.Version)
	if spec.DataAPIVersion != "" {
		fmt.Fprintf(o.Out, ", Data API %s) against %s\n", spec.DataAPIVersion, c.URL())
	} else {
		fmt.Fprintln(o.Out, ", no data endpoint: navigate and complete run locally)")
	}
	if o.Scenario != nil {
		rep, err := simulator.Play(ctx, s, o.Scenario, func(_ int, st *simulator.Step) {
			p.step(st)
			if st.Kind != simulator.ActionPing && st.Kind != "error" {
				p.view(s)
			}
		})
		if err != nil {
			return nil, err
		}
		failures = rep.Failures
	} else {
		if failures, err = interact(ctx, o.In, o.Out, s, p); err != nil {
			return nil, err
		}
	}
	if (o.Webhook.URL != "" || o.Webhook.Handler != nil) && s.Completion() != nil {
		st, err := s.DeliverCompletion(ctx, o.Webhook)
		if err != nil {
			return nil, err
		}
		p.step(st)
		if !st.OK() {
			failures = append(failures, "webhook: "+st.Err().Error())
		}
	}
	summary(o.Out, s, failures)
	return failures, nil
}

// summary prints how the flow ended, the steps and their latency, and
// PASS or FAIL with the failures.
func summary(w io.Writer, s *simulator.Session, failures []string) {
	var n int
	var total, worst time.Duration
	for _, st := range s.Steps() {
		if st.Endpoint {
			n++
			total += st.Latency
			worst = max(worst, st.Latency)
		}
	}
	st := s.State()
	end := "the flow did not complete"
	switch {
	case st.Completion != nil:
		end = "the flow completed (" + st.Completion.Via + ")"
	case st.Closed:
		end = fmt.Sprintf("the endpoint closed the flow (427: %q)", st.CloseMessage)
	}
	fmt.Fprintf(w, "\n%s; %s, %s", end, count(len(s.Steps()), "step"), count(n, "request"))
	if n > 0 {
		fmt.Fprintf(w, ", latency mean %s max %s", (total / time.Duration(n)).Round(10*time.Microsecond), worst.Round(10*time.Microsecond))
	}
	fmt.Fprintln(w)
	if len(failures) > 0 {
		fmt.Fprintln(w, "FAIL")
		for _, f := range failures {
			fmt.Fprintln(w, "  "+f)
		}
		return
	}
	fmt.Fprintln(w, "PASS")
}

// count says "1 step", "2 steps".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// printer prints steps and screens as text or JSON lines.
type printer struct {
	w    io.Writer
	json bool
}

func (p *printer) step(st *simulator.Step) {
	if p.json {
		b, _ := json.Marshal(map[string]any{"step": st})
		fmt.Fprintf(p.w, "%s\n", redactTokens(b))
		return
	}
	st.WriteText(p.w)
}

func (p *printer) view(s *simulator.Session) {
	v := s.View()
	if v == nil || s.Done() {
		return
	}
	if p.json {
		b, _ := json.Marshal(map[string]any{"view": v})
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintln(p.w)
	v.WriteText(p.w)
}

// redactTokens hides flow tokens in printed JSON.
func redactTokens(b []byte) []byte {
	var x any
	if json.Unmarshal(b, &x) != nil {
		return b
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				if k == "flow_token" || k == "flow_token_signature" {
					x[k] = "(hidden)"
				} else {
					x[k] = walk(v)
				}
			}
		case []any:
			for i, v := range x {
				x[i] = walk(v)
			}
		}
		return x
	}
	out, _ := json.Marshal(walk(x))
	return out
}

// interact asks for each shown input of each screen on in and presses the
// Footer, until the flow ends or the input does.
func interact(ctx context.Context, in io.Reader, w io.Writer, s *simulator.Session, out *printer) ([]string, error) {
	lines := bufio.NewScanner(in)
	ask := func(prompt string) (string, bool) {
		fmt.Fprint(w, prompt)
		if !lines.Scan() {
			fmt.Fprintln(w)
			return "", false
		}
		return strings.TrimSpace(lines.Text()), true
	}
	st, err := s.Start(ctx)
	if err != nil {
		return nil, err
	}
	out.step(st)
	var failures []string
	titles := map[string]map[string]string{} // input name -> option id -> title
	for !s.Done() && s.Screen() != nil {
		out.view(s)
		v := s.View()
		back := false
		for _, it := range v.Items {
			if len(it.Options) > 0 {
				titles[it.Name] = map[string]string{}
				for _, o := range it.Options {
					titles[it.Name][o.ID] = o.Title
				}
			}
			if !flowjson.IsInput(it.Type) || !it.Enabled || it.Type == "PhotoPicker" || it.Type == "DocumentPicker" {
				continue
			}
			for {
				ans, ok := ask(fmt.Sprintf("%s %s%s: ", it.Type, it.Name, hint(it)))
				if !ok || ans == "." {
					return append(failures, "stopped before the flow ended"), nil
				}
				if ans == "<" {
					back = true
					break
				}
				if ans == "" {
					break
				}
				// Checked as it is typed, as the phone checks it at the
				// Footer: a wrong answer is asked again at once.
				val, err := parseAnswer(s, it, ans)
				if err == nil {
					err = s.Try(it.Name, val)
				}
				if err != nil {
					fmt.Fprintf(w, "   refused: %v%s\n", err, optionList(it))
					continue
				}
				break
			}
			if back {
				break
			}
		}
		if back {
			st, err = s.Back(ctx)
		} else {
			st, err = s.Submit(ctx)
		}
		if err != nil {
			fmt.Fprintf(w, "   %v\n", err)
			if back || errors.Is(err, simulator.ErrClosed) {
				continue
			}
			return failures, err
		}
		out.step(st)
		if len(st.Violations) > 0 {
			failures = append(failures, st.Err().Error())
			return failures, nil // the client shows an error and stops here
		}
	}
	if c := s.Completion(); c != nil {
		writeAnswers(w, c.ResponseJSON, titles)
	}
	return failures, nil
}

// optionList lists the valid answers of a choice input, for a refusal.
func optionList(it *simulator.Item) string {
	var ids []string
	for _, o := range it.Options {
		if o.Enabled {
			ids = append(ids, fmt.Sprintf("%s (%s)", o.ID, o.Title))
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return "; the options are: " + strings.Join(ids, ", ")
}

// writeAnswers prints what the completion sends as readable lines, one
// field each, with the titles of chosen options; the flow token stays
// hidden.
func writeAnswers(w io.Writer, resp map[string]any, titles map[string]map[string]string) {
	keys := slices.Sorted(maps.Keys(resp))
	width := 0
	for _, k := range keys {
		width = max(width, len(k))
	}
	fmt.Fprintln(w, "\nanswers:")
	for _, k := range keys {
		v := resp[k]
		if k == "flow_token" || k == "flow_token_signature" {
			v = "(hidden)"
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, k, readable(v, titles[k]))
	}
}

// readable formats a submitted value for people: text as is, yes/no,
// lists joined with commas, an option id with its title.
func readable(v any, titles map[string]string) string {
	switch v := v.(type) {
	case nil:
		return "(empty)"
	case string:
		if t, ok := titles[v]; ok && t != v {
			return fmt.Sprintf("%s (%s)", v, t)
		}
		if v == "" {
			return "(empty)"
		}
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = readable(x, titles)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, k+": "+readable(v[k], titles))
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// hint describes what an answer may be.
func hint(it *simulator.Item) string {
	var parts []string
	switch it.Type {
	case "CheckboxGroup", "ChipsSelector":
		parts = append(parts, "ids separated by commas")
	case "OptIn":
		parts = append(parts, "yes/no")
	case "DatePicker", "CalendarPicker":
		if it.Mode == "range" {
			parts = append(parts, "YYYY-MM-DD..YYYY-MM-DD")
		} else {
			parts = append(parts, "YYYY-MM-DD")
		}
	}
	switch it.Type {
	case "RadioButtonsGroup", "Dropdown", "CheckboxGroup", "ChipsSelector", "DatePicker", "CalendarPicker":
		parts = append(parts, "$first picks")
	}
	if it.Value != nil {
		b, _ := json.Marshal(it.Value)
		parts = append(parts, "now "+string(b))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// parseAnswer turns a typed answer into the input's value.
func parseAnswer(s *simulator.Session, it *simulator.Item, ans string) (any, error) {
	if ans == "$first" || ans == "$last" {
		return s.Pick(it.Name, ans == "$last")
	}
	switch it.Type {
	case "CheckboxGroup", "ChipsSelector":
		var ids []any
		for _, id := range strings.Split(ans, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		return ids, nil
	case "OptIn":
		switch strings.ToLower(ans) {
		case "y", "yes", "true", "1":
			return true, nil
		case "n", "no", "false", "0":
			return false, nil
		}
		return nil, errors.New("answer yes or no")
	case "CalendarPicker":
		if a, b, ok := strings.Cut(ans, ".."); ok && it.Mode == "range" {
			return map[string]any{"start-date": strings.TrimSpace(a), "end-date": strings.TrimSpace(b)}, nil
		}
	}
	return ans, nil
}
