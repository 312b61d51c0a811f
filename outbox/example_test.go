package outbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/outbox"
	"github.com/waflow/waflow/sqlite"
)

// A producer stores the message with an idempotency key; the worker sends
// it and records its wamid.
func Example() {
	// A stand-in for graph.facebook.com.
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":"15550001111","wa_id":"15550001111"}],"messages":[{"id":"wamid.HBgLMTU1NTAwMDExMTEVAgARGBI"}]}`)
	}))
	defer meta.Close()

	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	// The producer: the booking confirmation, once per completion.
	body, err := graph.EncodeMessage(&graph.TextMessage{To: "15550001111", Body: "Your appointment is booked: Tuesday 10:00."})
	if err != nil {
		panic(err)
	}
	m, _, err := store.Enqueue(ctx, waflow.OutboxMessage{IdempotencyKey: "confirm:wamid.completion1", To: "15550001111", Payload: body})
	if err != nil {
		panic(err)
	}

	// The worker: Run in production; SendDue sends what is due now.
	client, err := graph.New(graph.Options{BaseURL: meta.URL, AccessToken: "EAAG...", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	w, err := outbox.New(outbox.Config{Store: store, Sender: client, PhoneNumberID: "106540352242922", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	stats, err := w.SendDue(ctx)
	if err != nil {
		panic(err)
	}
	m, _ = store.OutboxMessage(ctx, m.ID)
	fmt.Println("sent:", stats.Sent)
	fmt.Println(m.State, m.WAMID)
	// Output:
	// sent: 1
	// sent wamid.HBgLMTU1NTAwMDExMTEVAgARGBI
}
