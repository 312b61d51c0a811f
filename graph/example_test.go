package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/waflow/waflow/graph"
)

func ExampleClient_Send() {
	// A stand-in for graph.facebook.com that accepts every message.
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.Path, r.Header.Get("Authorization") != "")
		fmt.Fprint(w, `{"messaging_product":"whatsapp","contacts":[{"input":"4915112345678","wa_id":"4915112345678"}],"messages":[{"id":"wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjQ="}]}`)
	}))
	defer fake.Close()

	client, err := graph.New(graph.Options{
		BaseURL:     fake.URL, // leave empty for https://graph.facebook.com
		AccessToken: "EAAG...",
	})
	if err != nil {
		panic(err) // no access token configured: refuse to start
	}
	res, err := client.Send(context.Background(), "106540352242922", &graph.FlowMessage{
		To:     "4915112345678",
		Body:   "Book your next appointment in a few taps.",
		FlowID: "1234567890",
		CTA:    "Book now",
		Token:  "wf1.signed-flow-token",
		Screen: "DATE_SELECTION",
		Data:   map[string]any{"first_day": "2026-12-01"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.MessageID)
	// Output:
	// POST /v25.0/106540352242922/messages true
	// wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjQ=
}

func ExampleIsThrottled() {
	err := error(&graph.Error{HTTPStatus: 400, Code: graph.CodeFlowThrottled, Message: "(#132069) Flow is throttled", FBTraceID: "AbC"})
	fmt.Println(graph.IsThrottled(err))
	fmt.Println(err)
	// Output:
	// true
	// graph API error: (#132069) Flow is throttled [code 132069, HTTP 400, fbtrace_id AbC]; the flow is THROTTLED by health monitoring: at most 10 new flow messages an hour can be sent until the endpoint's error rate, latency and availability recover
}
