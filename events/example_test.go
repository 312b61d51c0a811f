package events_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/stdwebhooks"
)

// A business's endpoint subscribes to flow.completed; an event emitted is
// stored, then delivered signed, and the endpoint verifies it.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "events-example")
	defer os.RemoveAll(dir)
	db, _ := sqlite.Open(ctx, filepath.Join(dir, "waflow.db"), sqlite.Options{})
	defer db.Close()

	secret := stdwebhooks.NewSecret()
	verifier, _ := stdwebhooks.NewVerifier(secret)
	business := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.Verify(r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("verified", r.Header.Get("webhook-id") == events.ID(events.FlowCompleted, "wamid.1"))
	}))
	defer business.Close()
	db.PutSubscription(ctx, waflow.Subscription{ID: "crm", URL: business.URL, Secret: secret, Types: []string{events.FlowCompleted}})

	dispatcher, _ := events.NewDispatcher(db, nil, quiet)
	dispatcher.Emit(ctx, events.Event{ID: events.ID(events.FlowCompleted, "wamid.1"), Type: events.FlowCompleted,
		Data: map[string]any{"flow": "feedback_survey"}})

	sender, _ := events.NewSender(events.SenderConfig{Store: db})
	sender.SendDue(ctx)
	// Output: verified true
}
