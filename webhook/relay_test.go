package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/webhook"
)

// The Relay hook gets the exact signed bytes and their events before the
// answer; when it fails the answer is 500, so WhatsApp sends the webhook
// again; an unsigned body never reaches it.
func TestReceiverRelay(t *testing.T) {
	t.Parallel()
	store := openStore(t, nil)
	var got [][]byte
	var kinds []waflow.EventKind
	fail := false
	r, err := webhook.NewReceiver(webhook.ReceiverConfig{Verifier: mustVerifier(t, appSecret), VerifyToken: verifyToken, Inbox: store, Logger: quiet,
		Relay: func(ctx context.Context, body []byte, evs []waflow.InboxEvent) error {
			if fail {
				return errors.New("disk full")
			}
			got = append(got, bytes.Clone(body))
			for _, e := range evs {
				kinds = append(kinds, e.Kind)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	body := notification(messagesChange(nfmReply("wamid.R", "", `{}`, time.Unix(1730231903, 0))))
	if rec := post(r, body, "sha256=00"); rec.Code != 401 || len(got) != 0 {
		t.Fatalf("unsigned: status %d, relayed %d", rec.Code, len(got))
	}
	fail = true
	if rec := post(r, body, signed(body)); rec.Code != 500 {
		t.Fatalf("relay failing: status %d, want 500", rec.Code)
	}
	fail = false
	if rec := post(r, body, signed(body)); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if len(got) != 1 || !bytes.Equal(got[0], body) || len(kinds) != 1 || kinds[0] != waflow.EventCompletion {
		t.Fatalf("relayed %q with kinds %v", got, kinds)
	}
}
