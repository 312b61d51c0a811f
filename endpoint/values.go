package endpoint

import (
	"context"
	"log/slog"
	"maps"

	"github.com/waflow/waflow/flowjson"
)

// ScreenData builds the dynamic data of one screen for a request: what the
// screen was shown, which the values submitted from it are checked
// against (a dynamic Dropdown's options, limits given as ${data.x}). values
// are the request's data, decoded as flowjson.DecodeValues does.
type ScreenData func(ctx context.Context, r *Request, values map[string]any) (map[string]any, error)

// ValueCheck configures [CheckValues].
type ValueCheck struct {
	// Spec is the flow's Flow JSON. Required.
	Spec *flowjson.Flow
	// Data gives, by screen id, the builder of a screen's dynamic data. A
	// screen without one is checked without its data: a value whose
	// options or limits come from it is type-checked only (see
	// flowjson.SubmissionCheck.Unverified) and the handler checks it
	// against what it sent; and a rejected submission from a screen that
	// declares data is answered 500, since the screen cannot be shown
	// again without it.
	Data map[string]ScreenData
	// Needs lists, for a screen, the other screens whose data its values
	// are checked against too (values bound through ${screen.ID.form.x} to
	// a component whose options or limits come from that screen's data).
	Needs map[string][]string
	// Logger receives one line per rejected submission: flow, screen and
	// the bad fields' keys, never their values. slog.Default() when nil.
	Logger *slog.Logger
}

// CheckValues returns middleware that stands between WhatsApp and every
// data_exchange handler of a flow: it checks the submitted values against
// the screen that sent them (flowjson.Flow.CheckRequest, with the screen's
// data from cfg.Data), and answers a submission the screen could not have
// produced with that screen again: each bad field's message bound to the
// field's error-message (when it is "${data.k}"), and a summary in
// data.error_message (the snackbar). The handler never sees such a
// request. INIT and BACK pass through.
func CheckValues(cfg ValueCheck) Middleware {
	spec, log := cfg.Spec, cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, r *Request) (*Response, error) {
			if r.Action != ActionDataExchange {
				return next(ctx, r)
			}
			// Numbers stay json.Number: a value no float64 holds (1e400) is
			// a field error below, not a request whose values are all lost.
			values, err := flowjson.DecodeValues(r.Data)
			if err != nil {
				values = nil // reported below as a bad submission
			}
			var data map[string]any
			if build := cfg.Data[r.Screen]; build != nil && values != nil {
				if data, err = build(ctx, r, values); err != nil {
					return nil, err
				}
			}
			var others map[string]map[string]any
			for _, id := range cfg.Needs[r.Screen] {
				if build := cfg.Data[id]; build != nil && values != nil {
					d, err := build(ctx, r, values)
					if err != nil {
						return nil, err
					}
					if others == nil {
						others = map[string]map[string]any{}
					}
					others[id] = d
				}
			}
			check := spec.CheckRequest(flowjson.Submission{Screen: r.Screen, Values: values, ScreenData: data, OtherScreens: others})
			if values != nil && check.OK() {
				return next(ctx, r)
			}
			fields := make([]string, 0, len(check.Errors))
			for _, e := range check.Errors {
				fields = append(fields, e.Key)
			}
			log.Warn("submitted values rejected", "flow", r.Flow, "screen", r.Screen, "fields", fields)
			if s := spec.Screen(r.Screen); data == nil && s != nil && len(s.Data) > 0 {
				// The screen cannot be shown again without its data: an
				// answer missing it would be refused (a phone never sends
				// such values; a forged request gets a failure).
				return nil, Fail("submitted values rejected, and no data to show their screen again", check.Err())
			}
			return InvalidAnswer(spec, r.Screen, data, check), nil
		}
	}
}

// InvalidAnswer shows screen again with data, each bad field's message of
// check bound where the field's error-message points (${data.k}), and the
// check's summary as the snackbar: the answer CheckValues gives a
// submission it rejects, for a handler that checks values itself.
func InvalidAnswer(spec *flowjson.Flow, screen string, data map[string]any, check *flowjson.SubmissionCheck) *Response {
	d := maps.Clone(data)
	if d == nil {
		d = map[string]any{}
	}
	if s := spec.Screen(screen); s != nil {
		for name, msg := range check.ErrorMessages() {
			if key := ErrorField(s.Component(name)); key != "" {
				d[key] = msg
			}
		}
	}
	summary := check.Summary()
	if summary == "" {
		summary = "Please check your answers"
	}
	return ErrorOn(screen, d, summary)
}

// ErrorField returns k when the component's error-message is "${data.k}":
// the screen data key an answer sets to show the component an error.
func ErrorField(c *flowjson.Component) string {
	if c == nil || c.ErrorMessage == nil || c.ErrorMessage.Kind != flowjson.String {
		return ""
	}
	r, ok := flowjson.ParseRef(c.ErrorMessage.Str)
	if !ok || r.Kind != flowjson.RefData || len(r.Path) != 1 {
		return ""
	}
	return r.Path[0]
}
