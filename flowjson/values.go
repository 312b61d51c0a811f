package flowjson

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validation of submitted values: what a data_exchange request or a
// completion carries, checked as the phone would have produced it.
//
// A request's data is the resolved payload of the action that fired, so its
// keys are payload keys, not component names: {"amount": "${form.amount}"}
// sends the TextInput "amount" under the key "amount", but
// {"total": "${form.amount}"} sends it under "total". Each key is mapped
// through its binding to the component (or literal, or screen data) it
// came from, and the value is checked against that component's rules.

// Submission is a set of submitted values to check.
type Submission struct {
	// Screen is the screen the values come from: the request's "screen"
	// for a data_exchange request. For a completion it may be empty, and
	// then every terminal screen's complete action is tried.
	Screen string
	// Values is the request's "data", or the completion's response_json
	// (its "flow_token" is ignored).
	Values map[string]any
	// ScreenData is the dynamic data the screen was last given (by the
	// endpoint, a navigate payload or the message), needed to check values
	// against ${data.x} data sources and limits. Without it (nil), such a
	// value is only checked for its type and listed in the check's
	// Unverified: data that arrives from the endpoint at runtime (a dynamic
	// Dropdown's options) is the endpoint's to check. With it, a value
	// whose constraint it lacks fails.
	ScreenData map[string]any
	// OtherScreens optionally gives the data of other screens, by id, for
	// values bound through ${screen.ID.form.x} to components whose
	// constraints come from that screen's data; a screen left out is
	// treated as ScreenData nil is.
	OtherScreens map[string]map[string]any
	// EndpointCompletes says, for CheckCompletion, that the flow's data
	// endpoint may close it with SUCCESS too, in a flow that also has
	// complete actions: values that fit no complete action are then
	// accepted as the endpoint's params (ByEndpoint). A flow with a data
	// endpoint and no complete action is always completed by it.
	EndpointCompletes bool
}

// FieldError is one submitted value the screen could not have produced.
type FieldError struct {
	// Key is the payload key ("a.b" inside nested objects).
	Key string `json:"key"`
	// Component is the name of the component the key is bound to ("" for
	// keys bound to a literal or screen data, or bound to nothing).
	Component string `json:"component,omitempty"`
	// Screen is the screen of that component.
	Screen string `json:"screen,omitempty"`
	// Message is short enough for the component's error-message (at most
	// 30 characters for text inputs, 80 for pickers).
	Message string `json:"message"`
}

// SubmissionCheck is the result of checking a submission.
type SubmissionCheck struct {
	// Screen is the screen of the action the values were matched to.
	Screen string
	// Action is that action (nil when the screen has none that fits).
	Action *ActionRef
	// Errors lists every bad value; empty when the submission is valid.
	Errors []FieldError
	// Unverified lists the values that were only checked for their type,
	// because their constraints (options, limits) come from screen data
	// the submission did not give (see Submission.ScreenData): a caller
	// that knows the data it sent checks them, or passes the data. They
	// are not errors.
	Unverified []FieldError
	// ByEndpoint is set by CheckCompletion when the values are the data
	// endpoint's SUCCESS params (protocol.md 2.4), which the Flow JSON
	// does not describe: nothing was checked, the endpoint produced them.
	ByEndpoint bool
}

// OK reports whether every value is one the screen could have produced.
func (c *SubmissionCheck) OK() bool { return len(c.Errors) == 0 }

// Err returns nil for a valid submission, else a *SubmissionError.
func (c *SubmissionCheck) Err() error {
	if c.OK() {
		return nil
	}
	return &SubmissionError{Check: c}
}

// ErrorMessages returns the message of each bad value by component name,
// ready to bind to the components' error-message (or a Form's
// error-messages) when answering the same screen again.
func (c *SubmissionCheck) ErrorMessages() map[string]string {
	out := map[string]string{}
	for _, e := range c.Errors {
		if e.Component != "" && e.Screen == c.Screen {
			if _, dup := out[e.Component]; !dup {
				out[e.Component] = e.Message
			}
		}
	}
	return out
}

// Summary returns one line for the response's data.error_message (the
// snackbar), or "" when the submission is valid.
func (c *SubmissionCheck) Summary() string {
	switch len(c.Errors) {
	case 0:
		return ""
	case 1:
		e := c.Errors[0]
		return fieldLabel(e) + ": " + e.Message
	}
	var names []string
	for _, e := range c.Errors {
		if n := fieldLabel(e); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return fmt.Sprintf("Please check %d fields: %s", len(names), strings.Join(names, ", "))
}

func fieldLabel(e FieldError) string {
	if e.Component != "" {
		return e.Component
	}
	if e.Key != "" {
		return e.Key
	}
	return "form"
}

// SubmissionError is the error form of a failed check. It never includes
// the submitted values, which may be personal data.
type SubmissionError struct{ Check *SubmissionCheck }

// Error lists each bad field with its message, never its value.
func (e *SubmissionError) Error() string {
	var parts []string
	for _, f := range e.Check.Errors {
		parts = append(parts, fieldLabel(f)+": "+f.Message)
	}
	return fmt.Sprintf("flowjson: submitted values for screen %q rejected: %s", e.Check.Screen, strings.Join(parts, "; "))
}

// CheckRequest checks the data of a data_exchange request fired on
// sub.Screen against every action of that screen that could have sent it
// (the Footer, on-select/on-unselect actions, links and navigation items
// of type data_exchange) and returns the check of the best match.
func (f *Flow) CheckRequest(sub Submission) *SubmissionCheck {
	s := f.Screen(sub.Screen)
	if s == nil {
		return &SubmissionCheck{Screen: sub.Screen, Errors: []FieldError{{Message: "Unknown screen"}}}
	}
	var cands []candidate
	for _, a := range s.Actions() {
		if a.Action.Name == ActionDataExchange {
			cands = append(cands, candidate{s, a})
		}
	}
	return f.best(sub, cands, false)
}

// CheckCompletion checks the values of a completion (the complete action's
// payload as it arrives in response_json) against the complete actions of
// sub.Screen, or of every terminal screen when sub.Screen is empty.
//
// A flow closed by its data endpoint (a SUCCESS answer, protocol.md 2.4)
// completes with the endpoint's params, which no complete action
// describes: for a flow with a data endpoint and no complete action, and
// for any flow when sub.EndpointCompletes is set and the values fit no
// complete action, the check is OK with ByEndpoint set.
func (f *Flow) CheckCompletion(sub Submission) *SubmissionCheck {
	var cands []candidate
	for _, s := range f.Screens {
		if !s.IsTerminal() || sub.Screen != "" && s.ID != sub.Screen {
			continue
		}
		for _, a := range s.Actions() {
			if a.Action.Name == ActionComplete {
				cands = append(cands, candidate{s, a})
			}
		}
	}
	if len(cands) == 0 && f.hasEndpoint() {
		return &SubmissionCheck{Screen: sub.Screen, ByEndpoint: true}
	}
	chk := f.best(sub, cands, true)
	if !chk.OK() && sub.EndpointCompletes && f.hasEndpoint() {
		return &SubmissionCheck{Screen: sub.Screen, ByEndpoint: true}
	}
	return chk
}

// hasEndpoint reports whether the flow talks to a data endpoint: it has a
// data_api_version (protocol.md 6.2), or a data_exchange action.
func (f *Flow) hasEndpoint() bool {
	if f.DataAPIVersion != "" {
		return true
	}
	for _, s := range f.Screens {
		for _, a := range s.Actions() {
			if a.Action.Name == ActionDataExchange {
				return true
			}
		}
	}
	return false
}

type candidate struct {
	s *Screen
	a ActionRef
}

func (f *Flow) best(sub Submission, cands []candidate, completion bool) *SubmissionCheck {
	if len(cands) == 0 {
		what := "data_exchange"
		if completion {
			what = "complete"
		}
		return &SubmissionCheck{Screen: sub.Screen, Errors: []FieldError{{Message: "No " + what + " action here"}}}
	}
	var best *SubmissionCheck
	for _, c := range cands {
		vc := &valueChecker{f: f, sub: sub, screen: c.s, completion: completion,
			enforceRequired: c.a.Component.Type == "Footer"}
		ref := c.a
		chk := &SubmissionCheck{Screen: c.s.ID, Action: &ref, Errors: vc.check(c.a.Action), Unverified: vc.unverified}
		if best == nil || betterMatch(chk, best) {
			best = chk
		}
		if chk.OK() {
			break
		}
	}
	return best
}

// betterMatch reports whether a explains the submission better than b:
// fewer binding-level errors first (a key the action does not send, or a
// literal it would have sent differently, says the action did not fire),
// then fewer errors.
func betterMatch(a, b *SubmissionCheck) bool {
	sa, sb := bindingErrors(a), bindingErrors(b)
	if sa != sb {
		return sa < sb
	}
	return len(a.Errors) < len(b.Errors)
}

func bindingErrors(c *SubmissionCheck) int {
	n := 0
	for _, e := range c.Errors {
		if e.Component == "" {
			n++
		}
	}
	return n
}

type valueChecker struct {
	f               *Flow
	sub             Submission
	screen          *Screen
	completion      bool
	enforceRequired bool // only a Footer submits the form, so only then are required fields enforced
	errs            []FieldError
	unverified      []FieldError
	// noData is set by resolve when a value it could not determine lies in
	// screen data the submission did not give (rather than in data that
	// lacks it, or in an expression): needData then lists the value as
	// unverified instead of failing it.
	noData bool
}

// needData handles a value whose constraint could not be resolved: not an
// error when the screen data holding it was not given (the type was
// checked), an error when it was given without it.
func (vc *valueChecker) needData(key string, c *Component, s *Screen) {
	if vc.noData {
		vc.noData = false
		e := FieldError{Key: key, Message: msgNeedData}
		if c != nil {
			e.Component, e.Screen = c.Name, s.ID
		}
		vc.unverified = append(vc.unverified, e)
		return
	}
	vc.fail(key, c, s, msgNeedData)
}

func (vc *valueChecker) fail(key string, c *Component, s *Screen, msg string) {
	e := FieldError{Key: key, Message: msg}
	if c != nil {
		e.Component, e.Screen = c.Name, s.ID
	}
	vc.errs = append(vc.errs, e)
}

func (vc *valueChecker) check(a *Action) []FieldError {
	var members []*Member
	if a.Payload != nil && a.Payload.Kind == Object {
		members = a.Payload.Members
	}
	bound := map[string]bool{}
	for _, m := range members {
		bound[m.Key] = true
		val, present := vc.sub.Values[m.Key]
		vc.binding(m.Key, m.Value, val, present)
	}
	for _, k := range sortedKeys(vc.sub.Values) {
		if bound[k] || vc.completion && k == "flow_token" {
			continue
		}
		vc.fail(k, nil, nil, "Unexpected field")
	}
	return vc.errs
}

// binding checks value (present or not) against the payload binding b.
func (vc *valueChecker) binding(key string, b *Value, value any, present bool) {
	switch b.Kind {
	case String:
		switch classify(b.Str) {
		case dynLiteral, dynMixed:
			if !present || value != b.Str {
				vc.fail(key, nil, nil, "Unexpected value")
			}
		case dynRef:
			r, _ := ParseRef(b.Str)
			vc.ref(key, r, value, present)
		case dynExpr:
			vc.expression(key, b.Str, value, present)
		}
	case Object:
		obj, ok := value.(map[string]any)
		if !ok {
			vc.fail(key, nil, nil, "Expected an object")
			return
		}
		for _, m := range b.Members {
			v, p := obj[m.Key]
			vc.binding(key+"."+m.Key, m.Value, v, p)
		}
		for _, k := range sortedKeys(obj) {
			if b.Get(k) == nil {
				vc.fail(key+"."+k, nil, nil, "Unexpected field")
			}
		}
	case Array:
		arr, ok := value.([]any)
		if !ok || len(arr) != len(b.Items) {
			vc.fail(key, nil, nil, "Unexpected value")
			return
		}
		for i, it := range b.Items {
			vc.binding(key+"."+strconv.Itoa(i), it, arr[i], true)
		}
	default:
		if !present || !jsonEqual(b.Interface(), value) {
			vc.fail(key, nil, nil, "Unexpected value")
		}
	}
}

// screenData returns the known dynamic data of screen s.
func (vc *valueChecker) screenData(s *Screen) (map[string]any, bool) {
	if s == vc.screen {
		return vc.sub.ScreenData, vc.sub.ScreenData != nil
	}
	d, ok := vc.sub.OtherScreens[s.ID]
	return d, ok
}

func (vc *valueChecker) ref(key string, r Ref, value any, present bool) {
	s := vc.screen
	if r.Kind == RefScreenData || r.Kind == RefScreenForm {
		if s = vc.f.Screen(r.Screen); s == nil {
			vc.fail(key, nil, nil, "Unknown screen")
			return
		}
	}
	switch r.Kind {
	case RefForm, RefScreenForm:
		c := s.Inputs()[r.Name()]
		if c == nil {
			vc.fail(key, nil, nil, "Unknown field")
			return
		}
		vc.component(key, c, s, value, present)
	default:
		data, ok := vc.screenData(s)
		if ok {
			want, found := lookupValue(data, r.Path)
			if !found || !present || !jsonEqual(want, value) {
				vc.fail(key, nil, nil, "Does not match screen data")
			}
			return
		}
		// Without the screen's data only the declared type can be checked.
		t, found := lookupData(s.Data, r.Path)
		if !found || !present || t != tAny && kindType(ValueOf(value).Kind)&t == 0 {
			vc.fail(key, nil, nil, "Wrong type")
		}
	}
}

func (vc *valueChecker) expression(key, text string, value any, present bool) {
	n, err := parseExpr(text[1:len(text)-1], true)
	if err != nil {
		vc.fail(key, nil, nil, "Unexpected value")
		return
	}
	t, err := n.typeCheck(func(r *Ref) vtype {
		s := vc.screen
		if r.Kind == RefScreenData || r.Kind == RefScreenForm {
			s = vc.f.Screen(r.Screen)
		}
		if s == nil {
			return tAny
		}
		if r.Kind == RefData || r.Kind == RefScreenData {
			if t, ok := lookupData(s.Data, r.Path); ok {
				return t
			}
			return tAny
		}
		if c := s.Inputs()[r.Name()]; c != nil {
			return formType(c)
		}
		return tAny
	})
	if err != nil || !present || t != tAny && kindType(ValueOf(value).Kind)&t == 0 {
		vc.fail(key, nil, nil, "Wrong type")
	}
}

// Constraint resolution: a component property may be a literal or a
// ${data.x} reference into its screen's data.

// resolve returns the literal value of a property, following a ${data.x}
// reference into the screen's data. known is false when the value cannot be
// determined (a reference without screen data, or an expression).
func (vc *valueChecker) resolve(s *Screen, v *Value) (x any, known bool) {
	if v == nil {
		return nil, true
	}
	if v.Kind != String {
		return v.Interface(), true
	}
	switch classify(v.Str) {
	case dynLiteral:
		return v.Str, true
	case dynRef:
		r, _ := ParseRef(v.Str)
		target := s
		switch r.Kind {
		case RefScreenData:
			target = vc.f.Screen(r.Screen)
		case RefData:
		default:
			return nil, false
		}
		if target == nil {
			return nil, false
		}
		data, ok := vc.screenData(target)
		if !ok {
			vc.noData = true
			return nil, false
		}
		x, found := lookupValue(data, r.Path)
		return x, found
	}
	return nil, false
}

func (vc *valueChecker) intProp(s *Screen, v *Value) (n int, set, known bool) {
	x, known := vc.resolve(s, v)
	if !known || x == nil {
		return 0, false, known
	}
	switch x := x.(type) {
	case float64:
		return int(x), true, true
	case int: // screen data built in Go rather than decoded from JSON
		return x, true, true
	case int64:
		return int(x), true, true
	case json.Number:
		i, err := x.Int64()
		return int(i), err == nil, err == nil
	case string:
		i, err := strconv.Atoi(x)
		return i, err == nil, err == nil
	}
	return 0, false, false
}

func (vc *valueChecker) boolProp(s *Screen, v *Value, def bool) (b, known bool) {
	x, known := vc.resolve(s, v)
	if !known {
		return def, false
	}
	if b, ok := x.(bool); ok {
		return b, true
	}
	return def, x == nil
}

func (vc *valueChecker) stringProp(s *Screen, v *Value) (string, bool) {
	x, known := vc.resolve(s, v)
	if !known {
		return "", false
	}
	str, _ := x.(string)
	return str, true
}

// option is one choice of a data source.
type option struct {
	id      string
	enabled bool
}

func (vc *valueChecker) options(s *Screen, c *Component) ([]option, bool) {
	if c.DataSource == nil {
		return nil, true
	}
	if c.DataSource.Items != nil {
		out := make([]option, 0, len(c.DataSource.Items))
		for _, o := range c.DataSource.Items {
			en, _ := vc.boolProp(s, o.Enabled, true)
			out = append(out, option{o.ID, en})
		}
		return out, true
	}
	x, known := vc.resolve(s, &Value{Kind: String, Str: c.DataSource.Ref})
	if !known {
		return nil, false
	}
	items, ok := x.([]any)
	if ms, isMaps := x.([]map[string]any); isMaps { // screen data built in Go
		items, ok = make([]any, len(ms)), true
		for i, m := range ms {
			items[i] = m
		}
	}
	if !ok {
		return nil, false
	}
	out := make([]option, 0, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["id"].(string)
		en := true
		if b, ok := m["enabled"].(bool); ok {
			en = b
		}
		out = append(out, option{id, en})
	}
	return out, true
}

const msgNeedData = "Cannot verify: no screen data"

// component checks one value bound to component c of screen s.
func (vc *valueChecker) component(key string, c *Component, s *Screen, value any, present bool) {
	fail := func(msg string) {
		if msg == msgNeedData {
			vc.needData(key, c, s)
			return
		}
		vc.fail(key, c, s, msg)
	}
	vc.noData = false
	if !present || value == nil || value == "" || isEmptyArray(value) {
		vc.missing(key, c, s)
		return
	}
	switch c.Type {
	case "TextInput":
		vc.textInput(c, s, value, fail)
	case "TextArea":
		str, ok := value.(string)
		if !ok {
			fail("Must be text")
			return
		}
		limit, set, known := vc.intProp(s, c.MaxLength)
		if !known {
			fail(msgNeedData)
			return
		}
		if !set {
			limit = 600
		}
		if n := utf8.RuneCountInString(str); n > limit {
			fail(fmt.Sprintf("Use at most %d characters", limit))
		}
	case "Dropdown", "RadioButtonsGroup":
		id, ok := value.(string)
		if !ok {
			fail("Choose one option")
			return
		}
		vc.choose(c, s, []string{id}, fail)
	case "CheckboxGroup", "ChipsSelector":
		ids, ok := stringList(value)
		if !ok {
			fail("Choose from the list")
			return
		}
		if !vc.choose(c, s, ids, fail) {
			return
		}
		lo, loSet, k1 := vc.intProp(s, c.MinSelectedItems)
		hi, hiSet, k2 := vc.intProp(s, c.MaxSelectedItems)
		switch {
		case !k1 || !k2:
			fail(msgNeedData)
		case loSet && len(ids) < lo:
			fail(fmt.Sprintf("Choose at least %d", lo))
		case hiSet && len(ids) > hi:
			fail(fmt.Sprintf("Choose at most %d", hi))
		}
	case "OptIn":
		b, ok := value.(bool)
		if !ok {
			fail("Must be true or false")
			return
		}
		if !b {
			vc.missing(key, c, s)
		}
	case "DatePicker":
		str, ok := value.(string)
		if !ok {
			fail("Choose a date")
			return
		}
		vc.date(c, s, str, fail)
	case "CalendarPicker":
		vc.calendar(c, s, value, fail)
	case "PhotoPicker", "DocumentPicker":
		vc.media(c, s, value, fail)
	default:
		fail("Not an input")
	}
}

func isEmptyArray(x any) bool {
	a, ok := x.([]any)
	return ok && len(a) == 0
}

// missing handles an absent or empty value (or an OptIn left unticked): an
// error only when the component is required, shown, outside conditional
// branches, and the form was submitted with its Footer (other actions fire
// before the user has filled the form).
func (vc *valueChecker) missing(key string, c *Component, s *Screen) {
	if !vc.enforceRequired || inBranch(s, c) {
		return
	}
	if vis, known := vc.boolProp(s, c.Visible, true); known && !vis {
		return
	}
	req, known := vc.boolProp(s, c.Required, false)
	switch {
	case c.Required != nil && c.Required.Kind == Object:
		req, known = true, true // CalendarPicker range mode: required per date
	case c.Type == "PhotoPicker" || c.Type == "DocumentPicker":
		// Media pickers have no "required": a minimum of 1 or more makes
		// them required (protocol.md 6.7).
		minV := c.MinUploadedPhotos
		if c.Type == "DocumentPicker" {
			minV = c.MinUploadedDocuments
		}
		n, set, k := vc.intProp(s, minV)
		if k && set && n > 0 {
			vc.fail(key, c, s, fmt.Sprintf("Upload at least %d %s", n, plural(n, "file")))
			return
		}
		req, known = false, k
	}
	switch {
	case !known:
		vc.needData(key, c, s)
	case req:
		vc.fail(key, c, s, "Required")
	}
}

func inBranch(s *Screen, c *Component) bool {
	found := false
	walkComponents(s.Children(), func(x *Component, branch bool) {
		if x == c {
			found = branch
		}
	})
	return found
}

var (
	emailPattern    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	phonePattern    = regexp.MustCompile(`^\+?[0-9][0-9 ()\-.]{3,}[0-9]$`)
	passcodePattern = regexp.MustCompile(`^[0-9]+$`)
)

func (vc *valueChecker) textInput(c *Component, s *Screen, value any, fail func(string)) {
	inputType, known := vc.stringProp(s, c.InputType)
	if !known {
		fail(msgNeedData)
		return
	}
	// A number field's value is read by ReadNumber, the reader the
	// handlers use too: what passes here, they can read. Typed text is
	// checked after max-chars, which counts what was typed; a JSON number
	// is counted written out.
	var badNumber error
	str, isText := value.(string)
	switch {
	case inputType == "number" && !isText:
		n, err := ReadNumber(value)
		if err != nil {
			fail(numberProblem(err))
			return
		}
		str = n.Text
	case inputType == "number":
		_, badNumber = ReadNumber(str)
	case !isText:
		fail("Must be text")
		return
	}
	lo, loSet, k1 := vc.intProp(s, c.MinChars)
	hi, hiSet, k2 := vc.intProp(s, c.MaxChars)
	if !k1 || !k2 {
		fail(msgNeedData)
		return
	}
	if !hiSet {
		hi = 80
	}
	n := utf8.RuneCountInString(str)
	switch {
	case n > hi:
		fail(fmt.Sprintf("Use at most %d characters", hi))
		return
	case loSet && n < lo:
		fail(fmt.Sprintf("Use at least %d characters", lo))
		return
	}
	switch inputType {
	case "number":
		if badNumber != nil {
			fail(numberProblem(badNumber))
			return
		}
	case "email":
		if !emailPattern.MatchString(str) {
			fail("Enter a valid email")
			return
		}
	case "phone":
		if !phonePattern.MatchString(str) {
			fail("Enter a valid phone number")
			return
		}
	case "passcode":
		if !passcodePattern.MatchString(str) {
			fail("Use digits only")
			return
		}
	}
	if c.Pattern != nil {
		p, known := vc.stringProp(s, c.Pattern)
		if !known {
			fail(msgNeedData)
			return
		}
		if re, err := compilePattern(p); err == nil && !re.MatchString(str) {
			fail("Invalid format")
		}
	}
}

func stringList(x any) ([]string, bool) {
	switch x := x.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, it := range x {
			s, ok := it.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// choose checks that every id is an enabled option, once.
func (vc *valueChecker) choose(c *Component, s *Screen, ids []string, fail func(string)) bool {
	opts, known := vc.options(s, c)
	if !known {
		fail(msgNeedData)
		return false
	}
	seen := map[string]bool{}
	for _, id := range ids {
		i := slices.IndexFunc(opts, func(o option) bool { return o.id == id })
		switch {
		case i < 0:
			fail("Choose a listed option")
			return false
		case !opts[i].enabled:
			fail("Option not available")
			return false
		case seen[id]:
			fail("Option chosen twice")
			return false
		}
		seen[id] = true
	}
	return true
}

// dateBounds resolves min-date, max-date and unavailable-dates.
func (vc *valueChecker) dateBounds(c *Component, s *Screen, parse func(string) (time.Time, bool)) (lo, hi time.Time, off []time.Time, known bool) {
	for _, p := range []struct {
		v   *Value
		out *time.Time
	}{{c.MinDate, &lo}, {c.MaxDate, &hi}} {
		str, ok := vc.stringProp(s, p.v)
		if !ok {
			return lo, hi, nil, false
		}
		if str != "" {
			t, ok := parse(str)
			if !ok {
				return lo, hi, nil, false
			}
			*p.out = t
		}
	}
	x, ok := vc.resolve(s, c.UnavailableDates)
	if !ok {
		return lo, hi, nil, false
	}
	list, _ := stringList(x)
	for _, d := range list {
		if t, ok := parse(d); ok {
			off = append(off, t)
		}
	}
	return lo, hi, off, true
}

// pickerDates returns the parser for the component's date format: a UTC
// millisecond timestamp string for DatePicker before Flow JSON 5.0,
// "YYYY-MM-DD" otherwise (protocol.md 2.3).
func (vc *valueChecker) pickerDates(c *Component) (func(string) (time.Time, bool), string) {
	if ver, ok := ParseVersion(vc.f.Version); ok && c.Type == "DatePicker" && ver.Less(V5_0) {
		return func(s string) (time.Time, bool) {
			t, ok := parseMillis(s)
			return t.Truncate(24 * time.Hour), ok
		}, "Choose a date"
	}
	return parseDate, "Choose a date"
}

func (vc *valueChecker) date(c *Component, s *Screen, str string, fail func(string)) {
	parse, bad := vc.pickerDates(c)
	d, ok := parse(str)
	if !ok {
		fail(bad)
		return
	}
	lo, hi, off, known := vc.dateBounds(c, s, parse)
	if !known {
		fail(msgNeedData)
		return
	}
	if msg := dateProblem(d, lo, hi, off, nil); msg != "" {
		fail(msg)
	}
}

func dateProblem(d, lo, hi time.Time, off []time.Time, days []string) string {
	switch {
	case !lo.IsZero() && d.Before(lo):
		return "Choose a date from " + lo.Format(time.DateOnly)
	case !hi.IsZero() && d.After(hi):
		return "Choose a date until " + hi.Format(time.DateOnly)
	case slices.ContainsFunc(off, d.Equal):
		return "Date not available"
	case days != nil && !slices.Contains(days, d.Weekday().String()[:3]):
		return "Date not available"
	}
	return ""
}

func (vc *valueChecker) calendar(c *Component, s *Screen, value any, fail func(string)) {
	lo, hi, off, known := vc.dateBounds(c, s, parseDate)
	var days []string
	if c.IncludeDays != nil {
		x, ok := vc.resolve(s, c.IncludeDays)
		if !ok {
			known = false
		} else if list, ok := stringList(x); ok {
			days = list
		}
	}
	if !known {
		fail(msgNeedData)
		return
	}
	if !isRange(c) {
		str, ok := value.(string)
		d, ok2 := parseDate(str)
		if !ok || !ok2 {
			fail("Choose a date")
			return
		}
		if msg := dateProblem(d, lo, hi, off, days); msg != "" {
			fail(msg)
		}
		return
	}
	m, ok := value.(map[string]any)
	if !ok {
		fail("Choose a date range")
		return
	}
	start, ok1 := m["start-date"].(string)
	end, ok2 := m["end-date"].(string)
	a, ok3 := parseDate(start)
	b, ok4 := parseDate(end)
	if !ok1 || !ok2 || !ok3 || !ok4 || len(m) != 2 {
		fail("Choose a date range")
		return
	}
	if b.Before(a) {
		fail("End date is before start date")
		return
	}
	for _, d := range []time.Time{a, b} {
		if msg := dateProblem(d, lo, hi, off, days); msg != "" {
			fail(msg)
			return
		}
	}
	n := int(b.Sub(a).Hours()/24) + 1
	minD, minSet, k1 := vc.intProp(s, c.MinDays)
	maxD, maxSet, k2 := vc.intProp(s, c.MaxDays)
	switch {
	case !k1 || !k2:
		fail(msgNeedData)
	case minSet && n < minD:
		fail(fmt.Sprintf("Choose at least %d days", minD))
	case maxSet && n > maxD:
		fail(fmt.Sprintf("Choose at most %d days", maxD))
	}
}

// media checks the files of a PhotoPicker or DocumentPicker: their count
// and their shape (protocol.md 2.9 for requests, 4.2 for completions).
func (vc *valueChecker) media(c *Component, s *Screen, value any, fail func(string)) {
	files, ok := value.([]any)
	if !ok {
		fail("Upload files")
		return
	}
	minV, maxV := c.MinUploadedPhotos, c.MaxUploadedPhotos
	if c.Type == "DocumentPicker" {
		minV, maxV = c.MinUploadedDocuments, c.MaxUploadedDocuments
	}
	lo, loSet, k1 := vc.intProp(s, minV)
	hi, hiSet, k2 := vc.intProp(s, maxV)
	if !k1 || !k2 {
		fail(msgNeedData)
		return
	}
	if !hiSet {
		hi = 30
	}
	switch {
	case loSet && len(files) < lo:
		fail(fmt.Sprintf("Upload at least %d %s", lo, plural(lo, "file")))
		return
	case len(files) > hi:
		fail(fmt.Sprintf("Upload at most %d %s", hi, plural(hi, "file")))
		return
	}
	var mimes []string
	if c.Type == "DocumentPicker" && c.AllowedMimeTypes != nil {
		x, _ := vc.resolve(s, c.AllowedMimeTypes)
		mimes, _ = stringList(x)
	}
	for _, f := range files {
		m, ok := f.(map[string]any)
		if !ok {
			fail("Invalid file")
			return
		}
		if vc.completion {
			// {file_name, mime_type, sha256, id}
			if _, ok := m["id"].(string); !ok {
				fail("Invalid file")
				return
			}
			if mt, ok := m["mime_type"].(string); ok && mimes != nil && !slices.Contains(mimes, mt) {
				fail("File type not allowed")
				return
			}
			continue
		}
		// {media_id, cdn_url, file_name, encryption_metadata}
		_, hasID := m["media_id"].(string)
		_, hasURL := m["cdn_url"].(string)
		_, hasMeta := m["encryption_metadata"].(map[string]any)
		if !hasID || !hasURL || !hasMeta {
			fail("Invalid file")
			return
		}
	}
}

// lookupValue follows a data path through nested objects.
func lookupValue(data map[string]any, path []string) (any, bool) {
	var cur any = data
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// jsonEqual compares two decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && (fa == fb || math.IsNaN(fa) && math.IsNaN(fb))
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool, string:
		return a == b
	case []any:
		bb, ok := b.([]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], bb[i]) {
				return false
			}
		}
		return true
	case []string:
		return jsonEqual(ValueOf(a).Interface(), b)
	case map[string]any:
		bb, ok := b.(map[string]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for k, v := range a {
			w, ok := bb[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func toFloat(x any) (float64, bool) {
	switch x := x.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}
