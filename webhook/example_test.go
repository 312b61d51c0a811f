package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/signature"
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
