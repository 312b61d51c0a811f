package endpoint_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/simulator"
)

// coffeeFlow is the Flow JSON of a two-screen order: the endpoint sends the
// products at INIT (a dynamic Dropdown), then the price, then completes the
// flow with an order id.
const coffeeFlow = `{
  "version": "7.3",
  "data_api_version": "3.0",
  "routing_model": {"PICK": ["PRICE"]},
  "screens": [
    {"id": "PICK", "title": "Order",
     "data": {"products": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"}}},
                           "__example__": [{"id": "tea", "title": "Tea"}]}},
     "layout": {"type": "SingleColumnLayout", "children": [
       {"type": "Dropdown", "name": "product", "label": "Product", "required": true, "data-source": "${data.products}"},
       {"type": "Footer", "label": "Price", "on-click-action": {"name": "data_exchange", "payload": {"product": "${form.product}"}}}]}},
    {"id": "PRICE", "title": "Price", "terminal": true,
     "data": {"product": {"type": "string", "__example__": "tea"}, "price": {"type": "string", "__example__": "EUR 2.50"}},
     "layout": {"type": "SingleColumnLayout", "children": [
       {"type": "TextBody", "text": "${data.price}"},
       {"type": "Footer", "label": "Order", "on-click-action": {"name": "data_exchange", "payload": {"product": "${data.product}"}}}]}}
  ]
}`

// Price is the PRICE screen's data: any value that marshals to a JSON
// object will do, a struct or a map.
type Price struct {
	Product string `json:"product"`
	Price   string `json:"price"`
}

// A flow served from its Flow JSON: New checks that every request the Flow
// JSON can send has a handler, and every answer is checked against the
// routing and data models before it is encrypted (an answer naming a
// screen the routing model forbids, or data the screen does not declare,
// is never sent). The simulator plays the flow as the WhatsApp client
// would, through the real encryption.
func Example() {
	spec, problems := flowjson.ValidateSource([]byte(coffeeFlow))
	if problems.HasErrors() {
		fmt.Println(problems.Err())
		return
	}
	flow := endpoint.NewFlowFromJSON("coffee", spec)
	// Submitted values are checked against the screen that sent them.
	flow.Use(endpoint.CheckValues(endpoint.ValueCheck{Spec: spec, Data: map[string]endpoint.ScreenData{
		"PICK": func(context.Context, *endpoint.Request, map[string]any) (map[string]any, error) {
			return map[string]any{"products": []any{
				map[string]any{"id": "tea", "title": "Tea"},
				map[string]any{"id": "coffee", "title": "Coffee"},
			}}, nil
		},
	}}))
	flow.HandleInit(func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("PICK", map[string]any{"products": []map[string]string{
			{"id": "tea", "title": "Tea"}, {"id": "coffee", "title": "Coffee"},
		}}), nil
	})
	flow.HandleDataExchange("PICK", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		var in struct{ Product string }
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return endpoint.Next("PRICE", Price{Product: in.Product, Price: "EUR 2.50"}), nil
	})
	flow.HandleDataExchange("PRICE", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		// Success adds the request's flow token to the params.
		return endpoint.Success(map[string]any{"order_id": "O-1"}), nil
	})

	// The keys and secrets: generated here; a server loads them.
	key, _ := keys.Generate()
	unwrap, _ := envelope.NewPrivateKeys(key)
	appSecret := []byte("app-secret")
	verifier, _ := signature.New(appSecret)
	issuer, _ := flowtoken.NewIssuer([]byte("token-secret"))
	h, err := endpoint.New(endpoint.Config{
		Keys:       unwrap,
		Signatures: verifier,
		Tokens:     endpoint.IssuerTokens{Issuer: issuer},
	}, flow)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h) // a server mounts it at POST /flows/coffee
	defer srv.Close()

	token, _, _ := issuer.Issue("coffee", "15550000001")
	c, _ := simulator.NewClient(simulator.Config{Flow: spec, Name: "coffee", URL: srv.URL,
		PublicKey: &key.PublicKey, AppSecret: appSecret, FlowToken: token})
	ctx := context.Background()
	s := simulator.NewSession(c)
	s.Start(ctx)
	fmt.Println("shown:", s.State().Screen)
	s.Set("product", "coffee")
	s.Submit(ctx)
	fmt.Println("shown:", s.State().Screen, s.Data()["price"])
	s.Submit(ctx)
	fmt.Println("completed with:", s.Completion().ResponseJSON["order_id"])
	// Output:
	// shown: PICK
	// shown: PRICE EUR 2.50
	// completed with: O-1
}
