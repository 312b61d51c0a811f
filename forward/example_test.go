package forward_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/forward"
	"github.com/waflow/waflow/stdwebhooks"
)

// A backend receives each request as signed plain JSON and answers with
// the JSON it would give Meta; the forwarder returns it to the endpoint,
// which checks and encrypts it.
func Example() {
	secret := stdwebhooks.NewSecret() // shared with the backend
	verifier, _ := stdwebhooks.NewVerifier(secret)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if verifier.Verify(r.Header, body) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var req forward.Request
		json.Unmarshal(body, &req)
		fmt.Printf("backend: %s %s from %s\n", req.Flow, req.Action, req.User.WAID)
		json.NewEncoder(w).Encode(map[string]any{"screen": "WELCOME", "data": map[string]any{"greeting": "Hello"}})
	}))
	defer backend.Close()

	flow, err := forward.NewFlow("booking", forward.Config{URL: backend.URL, Secret: secret})
	if err != nil {
		panic(err)
	}
	_ = flow // serve it with endpoint.New(cfg, flow)

	// What the endpoint does with a request that passed its checks:
	fw, _ := forward.New(forward.Config{URL: backend.URL, Secret: secret})
	answer, err := fw.Handle(context.Background(), &endpoint.Request{
		Flow: "booking", Version: "3.0", Action: endpoint.ActionInit, FlowToken: "tok",
		Token: flowtoken.Claims{Flow: "booking", WAID: "15550000001"}, // what the token check found
	})
	data, _ := json.Marshal(answer.Data)
	fmt.Println(answer.Screen, string(data), err)
	// Output:
	// backend: booking INIT from 15550000001
	// WELCOME {"greeting":"Hello"} <nil>
}
