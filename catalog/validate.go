package catalog

import (
	"log/slog"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
)

// screenData builds the dynamic data of one screen for a request (see
// endpoint.ScreenData).
type screenData = endpoint.ScreenData

// checkValues is the middleware that stands between WhatsApp and every
// data_exchange handler of a catalog flow: endpoint.CheckValues, with the
// screens' data from dataOf and the other screens each one needs.
func checkValues(spec *flowjson.Flow, dataOf map[string]screenData, needs map[string][]string, log *slog.Logger) endpoint.Middleware {
	return endpoint.CheckValues(endpoint.ValueCheck{Spec: spec, Data: dataOf, Needs: needs, Logger: log})
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
