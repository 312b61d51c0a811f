package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
)

// A message to a user known only by their business-scoped user id carries
// recipient and no to; with a phone number, to alone (Meta takes to over
// recipient, protocol.md 4.2); with neither, it is refused before sending.
func TestRecipientEncoding(t *testing.T) {
	const bsuid = "US.13491208655302741918"
	for name, tc := range map[string]struct {
		m             graph.Message
		to, recipient string
	}{
		"text by BSUID":     {&graph.TextMessage{Recipient: bsuid, Body: "hi"}, "", bsuid},
		"text by both":      {&graph.TextMessage{To: "15551234567", Recipient: bsuid, Body: "hi"}, "15551234567", ""},
		"flow by BSUID":     {&graph.FlowMessage{Recipient: bsuid, Body: "b", CTA: "Open", FlowName: "f"}, "", bsuid},
		"template by BSUID": {&graph.TemplateMessage{Recipient: bsuid, Name: "t", Language: "en_US"}, "", bsuid},
	} {
		b, err := graph.EncodeMessage(tc.m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var body map[string]any
		json.Unmarshal(b, &body)
		to, _ := body["to"].(string)
		rec, _ := body["recipient"].(string)
		if to != tc.to || rec != tc.recipient {
			t.Errorf("%s: %s: want to %q and recipient %q", name, b, tc.to, tc.recipient)
		}
	}
	if _, err := graph.EncodeMessage(&graph.TextMessage{Body: "hi"}); !errors.Is(err, graph.ErrInvalidRequest) {
		t.Errorf("a message to nobody: %v, want ErrInvalidRequest", err)
	}

	// Sent, Meta's answer names the user by BSUID; a refused kind is 131062.
	fake := graphtest.New(t)
	c, _ := graph.New(fake.Options())
	res, err := c.Send(context.Background(), graphtest.PhoneNumberID, &graph.TextMessage{Recipient: bsuid, Body: "hi"})
	if err != nil || res.UserID != bsuid || res.WAID != "" {
		t.Fatalf("send by BSUID: %+v, %v", res, err)
	}
	fake.RefuseBSUID("login_code")
	_, err = c.Send(context.Background(), graphtest.PhoneNumberID, &graph.TemplateMessage{Recipient: bsuid, Name: "login_code", Language: "en_US"})
	if !graph.IsBSUIDUnsupported(err) || graph.IsTemporary(err) {
		t.Fatalf("authentication template to a BSUID: %v, want 131062, not temporary", err)
	}
	if _, err := c.SendEncoded(context.Background(), graphtest.PhoneNumberID, []byte(`{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"`+bsuid+`","type":"text","text":{"body":"x"}}`)); err != nil {
		t.Fatalf("SendEncoded with recipient only: %v", err)
	}
}
