package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText prints the view as the terminal simulator shows a screen: the
// title, then one line per component with its kind, name, label or text,
// current value and rules.
func (v *View) WriteText(w io.Writer) {
	fmt.Fprintf(w, "== %s", v.Screen)
	if v.Title != "" {
		fmt.Fprintf(w, " | %s", v.Title)
	}
	if v.Terminal {
		fmt.Fprint(w, " (terminal)")
	}
	fmt.Fprintln(w)
	if v.ErrorMessage != "" {
		fmt.Fprintf(w, "   ! %s\n", v.ErrorMessage)
	}
	for _, it := range v.Items {
		fmt.Fprintf(w, "   %s\n", it.describe())
		if it.Error != "" {
			fmt.Fprintf(w, "       ! %s\n", it.Error)
		}
	}
}

// describe is the one-line form of an item.
func (it *Item) describe() string {
	var b strings.Builder
	b.WriteString(it.Type)
	if it.Name != "" {
		b.WriteString(" " + it.Name)
	}
	label := it.Label
	if label == "" {
		label = it.Text
	}
	if label == "" && it.StartLabel != "" {
		label = it.StartLabel + " - " + it.EndLabel
	}
	if label != "" {
		fmt.Fprintf(&b, " %q", oneLine(label))
	}
	var rules []string
	if it.Required {
		rules = append(rules, "required")
	}
	if !it.Enabled {
		rules = append(rules, "disabled")
	}
	switch it.Type {
	case "TextInput":
		rules = append(rules, it.InputType, fmt.Sprintf("%d-%d chars", it.MinChars, it.MaxChars))
		if it.Pattern != "" {
			rules = append(rules, "pattern "+it.Pattern)
		}
	case "TextArea":
		rules = append(rules, fmt.Sprintf("up to %d chars", it.MaxChars))
	case "DatePicker", "CalendarPicker":
		if it.MinDate != "" || it.MaxDate != "" {
			rules = append(rules, "from "+orAny(it.MinDate)+" to "+orAny(it.MaxDate))
		}
		if n := len(it.Unavailable); n > 0 {
			rules = append(rules, fmt.Sprintf("%d dates unavailable", n))
		}
		if it.Mode == "range" {
			rules = append(rules, "range")
		}
	case "CheckboxGroup", "ChipsSelector":
		if it.MinSelected > 0 || it.MaxSelected > 0 {
			rules = append(rules, fmt.Sprintf("choose %d-%d", it.MinSelected, it.MaxSelected))
		}
	}
	if it.Helper != "" {
		rules = append(rules, "help: "+it.Helper)
	}
	if len(rules) > 0 {
		b.WriteString(" (" + strings.Join(rules, ", ") + ")")
	}
	if len(it.Options) > 0 {
		var opts []string
		for _, o := range it.Options {
			s := o.ID
			if o.Title != o.ID {
				s += "=" + o.Title
			}
			if !o.Enabled {
				s += "[off]"
			}
			opts = append(opts, s)
		}
		b.WriteString(" [" + strings.Join(opts, " | ") + "]")
	}
	if it.Value != nil {
		b.WriteString(" = " + jsonText(it.Value))
	}
	if it.ActionName != "" {
		b.WriteString(" -> " + it.ActionName)
	}
	return b.String()
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " / ")
	if len(s) > 70 {
		return s[:67] + "..."
	}
	return s
}

// WriteText prints the step: what was sent, what came back (the flow
// token hidden), its latency and the verdict.
func (st *Step) WriteText(w io.Writer) {
	fmt.Fprintf(w, "-> %s", st.Kind)
	if st.From != "" {
		fmt.Fprintf(w, " on %s", st.From)
	}
	if st.Sent != nil {
		fmt.Fprintf(w, " sent %s", redacted(st.Sent))
	}
	fmt.Fprintln(w)
	if len(st.Blocked) > 0 {
		for _, b := range st.Blocked {
			fmt.Fprintf(w, "   phone refuses %s: %s\n", fieldName(b), b.Message)
		}
		fmt.Fprintln(w, "   verdict: blocked by the phone's checks, nothing sent")
		return
	}
	if st.Endpoint {
		fmt.Fprintf(w, "<- HTTP %d in %s", st.Status, st.Latency.Round(10*time.Microsecond))
		if st.Attempts > 1 {
			fmt.Fprintf(w, " (after a 421 and a retry)")
		}
		if st.Answer != nil {
			fmt.Fprintf(w, ": %s", redacted(st.Answer))
		}
		fmt.Fprintln(w)
	}
	switch {
	case st.Closed:
		msg := st.CloseMessage
		if msg == "" {
			msg = "(no message: a generic error)"
		}
		fmt.Fprintf(w, "   flow closed by the endpoint (427): %s\n", msg)
	case st.Completion != nil:
		fmt.Fprintf(w, "   completed (%s): response_json %s\n", st.Completion.Via, redacted(st.Completion.ResponseJSON))
	case st.To != "" && st.To != st.From:
		fmt.Fprintf(w, "   now on %s\n", st.To)
	}
	if st.ErrorMessage != "" {
		fmt.Fprintf(w, "   snackbar: %s\n", st.ErrorMessage)
	}
	if st.OK() {
		fmt.Fprintln(w, "   verdict: ok")
		return
	}
	for _, v := range st.Violations {
		fmt.Fprintf(w, "   violation: %s\n", v.Error())
	}
	fmt.Fprintf(w, "   verdict: %d violation(s)\n", len(st.Violations))
}

// redacted renders JSON with every flow_token and flow_token_signature
// replaced, so printed steps never show a token.
func redacted(m map[string]any) string {
	b, err := json.Marshal(redact(m))
	if err != nil {
		return fmt.Sprint(m)
	}
	return string(b)
}

func redact(x any) any {
	switch x := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			if k == "flow_token" || k == "flow_token_signature" {
				out[k] = "(hidden)"
				continue
			}
			out[k] = redact(v)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = redact(v)
		}
		return out
	}
	return x
}
