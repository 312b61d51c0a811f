package flowjson

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// orderFlow is a two-screen endpoint flow: a Dropdown whose options come
// from the endpoint at INIT, then a price, completed by the endpoint.
const orderFlow = `{
  "version": "7.3",
  "data_api_version": "3.0",
  "routing_model": {"PICK": ["PRICE"], "PRICE": []},
  "screens": [
    {"id": "PICK", "title": "Pick",
     "data": {"products": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"}}},
                           "__example__": [{"id": "a", "title": "A"}]}},
     "layout": {"type": "SingleColumnLayout", "children": [
       {"type": "Dropdown", "name": "product", "label": "Product", "required": true, "data-source": "${data.products}"},
       {"type": "Footer", "label": "Next", "on-click-action": {"name": "data_exchange", "payload": {"product": "${form.product}"}}}]}},
    {"id": "PRICE", "title": "Price", "terminal": true, "refresh_on_back": false,
     "data": {"price": {"type": "number", "__example__": 9.5}, "label": {"type": "string", "__example__": "A"}},
     "layout": {"type": "SingleColumnLayout", "children": [
       {"type": "TextBody", "text": "${data.label}"},
       {"type": "Footer", "label": "Order", "on-click-action": {"name": "data_exchange", "payload": {}}}]}}
  ]
}`

func orderSpec(tb testing.TB) *Flow {
	tb.Helper()
	f, ps := ValidateSource([]byte(orderFlow))
	if ps.HasErrors() {
		tb.Fatalf("order flow: %v", ps)
	}
	return f
}

func rules(ps Problems) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Code+" "+p.Pointer)
	}
	return out
}

func TestCheckAnswer(t *testing.T) {
	t.Parallel()
	f := orderSpec(t)
	initTo := AnswerTo{Action: "INIT"}
	pickTo := AnswerTo{Action: "data_exchange", Screen: "PICK", FlowToken: "tok"}
	priceTo := AnswerTo{Action: "data_exchange", Screen: "PRICE", FlowToken: "tok"}
	tests := []struct {
		name   string
		to     AnswerTo
		answer string
		want   []string
	}{
		{"INIT to the entry screen", initTo, `{"screen":"PICK","data":{"products":[{"id":"a","title":"A"}]}}`, nil},
		{"INIT to a screen no route starts", initTo, `{"screen":"PRICE","data":{"price":1,"label":"x"}}`,
			[]string{"invalid-screen-transition /screen"}},
		{"a routed move", pickTo, `{"version":"3.0","screen":"PRICE","data":{"price":9.5,"label":"A"}}`, nil},
		{"the same screen again, with a snackbar", pickTo, `{"screen":"PICK","data":{"products":[],"error_message":"Sold out"}}`, nil},
		{"a forbidden screen", priceTo, `{"screen":"PICK","data":{"products":[]}}`,
			[]string{"invalid-screen-transition /screen"}},
		{"an unknown screen", pickTo, `{"screen":"PAY","data":{}}`, []string{"unknown-screen /screen"}},
		{"a mistyped field", pickTo, `{"screen":"PRICE","data":{"price":"9.50","label":"A"}}`, []string{"wrong-type /data/price"}},
		{"a missing field", pickTo, `{"screen":"PRICE","data":{"price":9.5}}`, []string{"missing-field /data/label"}},
		{"an undeclared field", pickTo, `{"screen":"PRICE","data":{"price":9.5,"label":"A","total":3}}`, []string{"undeclared-field /data/total"}},
		{"a nested mistyped field", initTo, `{"screen":"PICK","data":{"products":[{"id":1,"title":"A"}]}}`, []string{"wrong-type /data/products"}},
		{"error_message not a string", pickTo, `{"screen":"PICK","data":{"products":[],"error_message":3}}`, []string{"error-message-type /data/error_message"}},
		{"no screen", pickTo, `{"data":{}}`, []string{"response-schema-error /screen"}},
		{"data not an object", pickTo, `{"screen":"PRICE","data":[1]}`, []string{"response-schema-error /data"}},
		{"not JSON", pickTo, `{"screen":`, []string{"response-schema-error "}},
		{"SUCCESS", priceTo, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"flow_token":"tok","order":"O-1"}}}}`, nil},
		{"SUCCESS without a token", priceTo, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"order":"O-1"}}}}`,
			[]string{"missing-flow-token /data/extension_message_response/params/flow_token"}},
		{"SUCCESS with another token", priceTo, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"flow_token":"other"}}}}`,
			[]string{"missing-flow-token /data/extension_message_response/params/flow_token"}},
		{"SUCCESS without params", priceTo, `{"screen":"SUCCESS","data":{}}`, []string{"missing-flow-token /data/extension_message_response"}},
		{"BACK to a linked screen", AnswerTo{Action: "BACK", Screen: "PRICE"}, `{"screen":"PICK","data":{"products":[]}}`, nil},
		{"BACK with SUCCESS", AnswerTo{Action: "BACK", Screen: "PRICE"}, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"flow_token":"t"}}}}`,
			[]string{"invalid-screen-transition /screen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := f.CheckAnswer(tt.to, []byte(tt.answer))
			if diff := cmp.Diff(tt.want, rules(ps)); diff != "" {
				t.Errorf("rules (-want +got):\n%s\n%v", diff, ps)
			}
			if ps.HasErrors() != (len(tt.want) > 0) {
				t.Errorf("HasErrors() = %v", ps.HasErrors())
			}
		})
	}
}

// The messages name screens and fields, never the values: they may be
// personal data, and the endpoint logs the rules.
func TestCheckAnswerMessagesHoldNoValues(t *testing.T) {
	t.Parallel()
	f := orderSpec(t)
	ps := f.CheckAnswer(AnswerTo{Action: "data_exchange", Screen: "PICK", FlowToken: "secret-token"},
		[]byte(`{"screen":"PRICE","data":{"price":12.25,"label":["ana@example.com"],"extra":"ana@example.com"}}`))
	ps = append(ps, f.CheckAnswer(AnswerTo{Action: "data_exchange", Screen: "PRICE", FlowToken: "secret-token"},
		[]byte(`{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"flow_token":"forged-token"}}}}`))...)
	if len(ps) != 3 {
		t.Fatalf("problems %v, want 3", ps)
	}
	for _, p := range ps {
		for _, v := range []string{"12.25", "ana@", "secret-token", "forged-token"} {
			if strings.Contains(p.Message, v) {
				t.Errorf("%q quotes the value %q", p.Message, v)
			}
		}
	}
}

// A dynamic Dropdown's options arrive from the endpoint at runtime: without
// them the value is type-checked and listed as unverified, not rejected;
// with them it is checked against them.
func TestCheckRequestDynamicData(t *testing.T) {
	t.Parallel()
	f := orderSpec(t)
	chk := f.CheckRequest(Submission{Screen: "PICK", Values: map[string]any{"product": "b"}})
	if !chk.OK() {
		t.Fatalf("without screen data: %v", chk.Err())
	}
	if want := []FieldError{{Key: "product", Component: "product", Screen: "PICK", Message: "Cannot verify: no screen data"}}; !cmp.Equal(want, chk.Unverified) {
		t.Errorf("Unverified = %+v, want %+v", chk.Unverified, want)
	}
	if chk := f.CheckRequest(Submission{Screen: "PICK", Values: map[string]any{"product": 3.0}}); chk.OK() {
		t.Error("a number for a Dropdown passed without screen data")
	}
	data := map[string]any{"products": []any{map[string]any{"id": "a", "title": "A"}}}
	if chk := f.CheckRequest(Submission{Screen: "PICK", Values: map[string]any{"product": "a"}, ScreenData: data}); !chk.OK() || len(chk.Unverified) != 0 {
		t.Errorf("listed option: %v, unverified %v", chk.Err(), chk.Unverified)
	}
	if chk := f.CheckRequest(Submission{Screen: "PICK", Values: map[string]any{"product": "b"}, ScreenData: data}); chk.OK() {
		t.Error("an option the data does not list passed")
	}
	// Data given without the field the options come from: an error.
	if chk := f.CheckRequest(Submission{Screen: "PICK", Values: map[string]any{"product": "a"}, ScreenData: map[string]any{}}); chk.OK() {
		t.Error("a value passed against screen data that lacks its options")
	}
}

// A flow the endpoint closes with SUCCESS completes with the endpoint's
// params, which no complete action describes.
func TestCheckCompletionByEndpoint(t *testing.T) {
	t.Parallel()
	f := orderSpec(t)
	chk := f.CheckCompletion(Submission{Values: map[string]any{"flow_token": "t", "order_id": "O-1"}})
	if !chk.OK() || !chk.ByEndpoint {
		t.Fatalf("endpoint completion: OK %v ByEndpoint %v: %v", chk.OK(), chk.ByEndpoint, chk.Err())
	}
	// A flow with complete actions is held to them, unless the caller says
	// its endpoint completes it too.
	g, ps := ValidateSource([]byte(strings.Replace(orderFlow, `{"name": "data_exchange", "payload": {}}`, `{"name": "complete", "payload": {"label": "${data.label}"}}`, 1)))
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	forged := map[string]any{"order_id": "O-1"}
	if chk := g.CheckCompletion(Submission{Values: forged}); chk.OK() || chk.ByEndpoint {
		t.Errorf("values no complete action sends passed: %+v", chk)
	}
	chk = g.CheckCompletion(Submission{Values: forged, EndpointCompletes: true})
	if !chk.OK() || !chk.ByEndpoint {
		t.Errorf("EndpointCompletes: %+v", chk)
	}
	chk = g.CheckCompletion(Submission{Values: map[string]any{"label": "A"}, EndpointCompletes: true})
	if !chk.OK() || chk.ByEndpoint {
		t.Errorf("values of the complete action: %+v", chk)
	}
	// A static flow (no endpoint) has nothing else to complete it.
	static, ps := ValidateSource([]byte(`{"version":"7.3","screens":[{"id":"A","terminal":true,"layout":{"type":"SingleColumnLayout","children":[
		{"type":"Footer","label":"Done","on-click-action":{"name":"complete","payload":{}}}]}}]}`))
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	if chk := static.CheckCompletion(Submission{Values: forged, EndpointCompletes: true}); chk.OK() {
		t.Error("a static flow accepted values its complete action does not send")
	}
}
