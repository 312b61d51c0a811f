package catalog

import (
	"context"
	"log/slog"
	"maps"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
)

// screenData builds the dynamic data of one screen for a request: what the
// screen shows, and what the values submitted from it are checked against.
// values are the request's data, already decoded.
type screenData func(ctx context.Context, r *endpoint.Request, values map[string]any) (map[string]any, error)

// checkValues is the middleware that stands between WhatsApp and every
// data_exchange handler of a catalog flow: it checks the submitted values
// against the screen that sent them (flowjson value validation, with the
// screen's data from dataOf), and answers a submission the screen could not
// have produced with that screen again, each bad field's message bound to
// the field's error-message and a summary in data.error_message. The
// handler never sees such a request, so nothing is stored.
//
// needs lists, for a screen, the other screens whose data its values are
// checked against too (values bound through ${screen.ID.form.x} to a
// component whose options or limits come from that screen's data).
func checkValues(spec *flowjson.Flow, dataOf map[string]screenData, needs map[string][]string, log *slog.Logger) endpoint.Middleware {
	return func(next endpoint.HandlerFunc) endpoint.HandlerFunc {
		return func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
			if r.Action != endpoint.ActionDataExchange {
				return next(ctx, r)
			}
			// Numbers stay json.Number: a value no float64 holds (1e400) is
			// a field error below, not a request whose values are all lost.
			values, err := flowjson.DecodeValues(r.Data)
			if err != nil {
				values = nil // reported below as a bad submission
			}
			var data map[string]any
			if build := dataOf[r.Screen]; build != nil && values != nil {
				if data, err = build(ctx, r, values); err != nil {
					return nil, err
				}
			}
			var others map[string]map[string]any
			for _, id := range needs[r.Screen] {
				if build := dataOf[id]; build != nil && values != nil {
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
			return invalidAnswer(spec, r.Screen, data, check), nil
		}
	}
}

// invalidAnswer shows screen again with data, each bad field's message bound
// where the field's error-message points (${data.k}), and the summary as the
// snackbar.
func invalidAnswer(spec *flowjson.Flow, screen string, data map[string]any, check *flowjson.SubmissionCheck) *endpoint.Response {
	d := maps.Clone(data)
	if d == nil {
		d = map[string]any{}
	}
	if s := spec.Screen(screen); s != nil {
		for name, msg := range check.ErrorMessages() {
			if key := errorField(s.Component(name)); key != "" {
				d[key] = msg
			}
		}
	}
	summary := check.Summary()
	if summary == "" {
		summary = "Please check your answers"
	}
	return endpoint.ErrorOn(screen, d, summary)
}

// errorField returns k when the component's error-message is "${data.k}".
func errorField(c *flowjson.Component) string {
	if c == nil || c.ErrorMessage == nil || c.ErrorMessage.Kind != flowjson.String {
		return ""
	}
	r, ok := flowjson.ParseRef(c.ErrorMessage.Str)
	if !ok || r.Kind != flowjson.RefData || len(r.Path) != 1 {
		return ""
	}
	return r.Path[0]
}

// decodeData decodes the request's data into v as the value checker read
// it (flowjson.DecodeData: numbers in fields of type any arrive as
// json.Number, which flowjson.ReadNumber reads exactly).
func decodeData(r *endpoint.Request, v any) error {
	if len(r.Data) == 0 {
		return nil
	}
	return flowjson.DecodeData(r.Data, v)
}

// typedText is a submitted number field's value as text, to show it again
// in the field: what was typed, or a JSON number written out.
func typedText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if n, err := flowjson.ReadNumber(v); err == nil {
		return n.Text
	}
	return ""
}
