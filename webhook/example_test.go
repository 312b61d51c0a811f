package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/simulator"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/webhook"
)

// A receiver stores signed notifications before answering 200, and refuses
// unsigned ones.
func ExampleReceiver() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	secret := []byte("the Meta app secret")
	verifier, _ := signature.New(secret)
	recv, err := webhook.NewReceiver(webhook.ReceiverConfig{
		Verifier: verifier, VerifyToken: "my-verify-token", Inbox: store, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}

	handshake := httptest.NewRecorder()
	recv.ServeHTTP(handshake, httptest.NewRequest("GET", "/webhook?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=42", nil))
	fmt.Println("handshake:", handshake.Code, handshake.Body.String())

	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",` +
		`"value":{"messages":[{"id":"wamid.A","from":"15551234567","type":"text","text":{"body":"hi"}}]}}]}]}`)
	for _, sig := range []string{"", signature.Sign(secret, body), signature.Sign(secret, body)} {
		req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
		if sig != "" {
			req.Header.Set(signature.Header, sig)
		}
		rec := httptest.NewRecorder()
		recv.ServeHTTP(rec, req)
		fmt.Println("POST:", rec.Code)
	}
	evs, _ := store.InboxEvents(ctx, waflow.InboxFilter{})
	fmt.Println("stored:", len(evs), evs[0].Kind, evs[0].DedupeKey)
	// Output:
	// handshake: 200 42
	// POST: 401
	// POST: 200
	// POST: 200
	// stored: 1 message msg:wamid.A
}

// The worker hands each completion to the flow's handler once: a
// completion delivered twice (WhatsApp delivers at least once) is stored
// once and handled once. The flow token must be one the store recorded
// when it was issued.
func ExampleWorker() {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	store, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	issuer, _ := flowtoken.NewIssuer([]byte("the flow tokens' secret, 32 bytes or more"))
	token, _, err := endpoint.StoreTokens{Issuer: issuer, Store: store}.Issue(ctx, "order_coffee", "15551234567")
	if err != nil {
		panic(err)
	}

	worker, err := webhook.NewWorker(webhook.WorkerConfig{Store: store, Tokens: issuer, Logger: quiet})
	if err != nil {
		panic(err)
	}
	worker.Handle("order_coffee", func(ctx context.Context, c webhook.Completed) error {
		fmt.Println("confirm order", c.Values["order_id"], "for", c.Token.WAID)
		return nil // an error would be retried; waflow.Rejectf never
	})
	secret := []byte("the Meta app secret")
	verifier, _ := signature.New(secret)
	recv, _ := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: verifier, VerifyToken: "v", Inbox: store, OnStored: worker.Notify, Logger: quiet})

	completion := simulator.Completion{ResponseJSON: map[string]any{"flow_token": token, "order_id": "ord-1"}}
	body, _ := completion.WebhookBody(simulator.WebhookOptions{WAID: "15551234567", MessageID: "wamid.C1"})
	for range 2 {
		req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
		req.Header.Set(signature.Header, signature.Sign(secret, body))
		rec := httptest.NewRecorder()
		recv.ServeHTTP(rec, req)
		fmt.Println("POST:", rec.Code)
	}
	n, err := worker.ProcessBatch(ctx) // worker.Run(ctx) does this in a loop
	fmt.Println("processed:", n, err)
	// Output:
	// POST: 200
	// POST: 200
	// confirm order ord-1 for 15551234567
	// processed: 1 <nil>
}
