// Command waflow-library-example serves a flow of its own with waflow's
// packages: order.json's data endpoint and the webhook of its completions,
// stored in SQLite and handled by the webhook worker. main_test.go plays it.
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/webhook"
)

// flowName is the flow's name; its data endpoint is /flows/order_coffee.
const flowName = "order_coffee"

//go:embed order.json
var flowJSON []byte // the Flow JSON, uploaded to Meta as it is

// spec is the Flow JSON parsed: the endpoint checks every answer against it.
var spec = func() *flowjson.Flow {
	f, problems := flowjson.ValidateSource(flowJSON)
	if problems.HasErrors() {
		panic(problems.Err())
	}
	return f
}()

// product is one line of the menu, as the Dropdown's data-source wants it.
type product struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Cents int    `json:"-"`
}

var menu = []product{{"espresso", "Espresso", 250}, {"latte", "Caffè latte", 380}}

// pick returns the product the request's payload names.
func pick(r *endpoint.Request) (product, bool) {
	var in struct{ Product string }
	r.Decode(&in) // a payload that does not decode names no product
	i := slices.IndexFunc(menu, func(p product) bool { return p.ID == in.Product })
	if i < 0 {
		return product{}, false
	}
	return menu[i], true
}

// shop holds the orders: in memory here, in a real service's own tables.
type shop struct {
	mu     sync.Mutex
	orders map[string]bool // order id → confirmed
}

// flow returns the data endpoint's handlers: INIT fills the Dropdown,
// PRODUCT answers the price, CONFIRM places the order and completes.
func (s *shop) flow() *endpoint.Flow {
	products := map[string]any{"products": menu}
	f := endpoint.NewFlowFromJSON(flowName, spec)
	f.HandleInit(func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		return endpoint.Next("PRODUCT", products), nil
	})
	f.HandleDataExchange("PRODUCT", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		p, ok := pick(r)
		if !ok {
			return endpoint.ErrorOn("PRODUCT", products, "Please pick a coffee."), nil
		}
		price := fmt.Sprintf("%s: %d.%02d EUR", p.Title, p.Cents/100, p.Cents%100)
		return endpoint.Next("CONFIRM", map[string]any{"product": p.ID, "price": price}), nil
	})
	f.HandleDataExchange("CONFIRM", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		if _, ok := pick(r); !ok {
			return nil, endpoint.Close("This coffee is no longer on the menu.")
		}
		id := "ord-" + rand.Text()[:10]
		s.mu.Lock()
		s.orders[id] = false
		s.mu.Unlock()
		// SUCCESS closes the flow; the completion webhook carries order_id.
		return endpoint.Success(map[string]any{"order_id": id}), nil
	})
	return f
}

// confirm handles a completion: the worker calls it once per completed flow
// token (again only after a failure), and confirming twice is harmless.
func (s *shop) confirm(ctx context.Context, c webhook.Completed) error {
	id, _ := c.Values["order_id"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orders[id]; !ok {
		return waflow.Rejectf("order_id names no order") // settled, never retried
	}
	s.orders[id] = true
	return nil
}

// server returns the routes: the data endpoint and the webhook receiver,
// and the worker that processes what the receiver stores.
func (s *shop) server(store *sqlite.DB, key *envelope.PrivateKeys, tokens *flowtoken.Issuer, secret *signature.Verifier, verifyToken string) (http.Handler, *webhook.Worker, error) {
	ep, err := endpoint.New(endpoint.Config{Keys: key, Signatures: secret,
		Tokens: endpoint.StoreTokens{Issuer: tokens, Store: store}}, s.flow())
	if err != nil {
		return nil, nil, err
	}
	worker, err := webhook.NewWorker(webhook.WorkerConfig{Store: store, Tokens: tokens})
	if err != nil {
		return nil, nil, err
	}
	worker.Handle(flowName, s.confirm)
	recv, err := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: secret, VerifyToken: verifyToken, Inbox: store, OnStored: worker.Notify})
	mux := http.NewServeMux()
	mux.Handle("POST /flows/"+flowName, ep)
	mux.Handle("/webhook", recv)
	return mux, worker, err
}

// main serves with the Meta app's secret and the flow tokens' (issued with
// endpoint.StoreTokens.Issue when a flow message is sent) from the environment.
func main() {
	ctx := context.Background()
	// A development key, made at each start (production loads its own with
	// keys.ParsePrivateKey): register the public key printed with Meta.
	key, err := keys.Generate()
	if err != nil {
		log.Fatal(err)
	}
	pem, _ := keys.MarshalPublicKey(&key.PublicKey)
	os.Stdout.Write(pem)
	unwrap, err1 := envelope.NewPrivateKeys(key)
	tokens, err2 := flowtoken.NewIssuer([]byte(os.Getenv("TOKEN_SECRET")))
	secret, err3 := signature.New([]byte(os.Getenv("APP_SECRET")))
	store, err4 := sqlite.Open(ctx, "orders.db", sqlite.Options{})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		log.Fatal(err)
	}
	routes, worker, err := (&shop{orders: map[string]bool{}}).server(store, unwrap, tokens, secret, os.Getenv("VERIFY_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	go worker.Run(ctx)
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: routes, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
