package waflow_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
)

func TestValidate(t *testing.T) {
	at := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	token := waflow.FlowToken{ID: "t", Flow: "f", ExpiresAt: at}
	event := waflow.InboxEvent{DedupeKey: "k", Kind: waflow.EventMessage, Payload: []byte("{}")}
	completion := waflow.Completion{MessageID: "m", TokenID: "t", Flow: "f", Response: []byte("{}"), CompletedAt: at}
	message := waflow.OutboxMessage{IdempotencyKey: "k", To: "1", Payload: []byte("{}")}
	deployment := waflow.FlowDeployment{WABAID: "w", Flow: "f", FlowID: "1", ContentHash: "h"}
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"FlowToken", token.Validate(), true},
		{"FlowToken without ID", func() error { v := token; v.ID = ""; return v.Validate() }(), false},
		{"FlowToken without Flow", func() error { v := token; v.Flow = ""; return v.Validate() }(), false},
		{"FlowToken without ExpiresAt", func() error { v := token; v.ExpiresAt = time.Time{}; return v.Validate() }(), false},
		{"InboxEvent", event.Validate(), true},
		{"InboxEvent without DedupeKey", func() error { v := event; v.DedupeKey = ""; return v.Validate() }(), false},
		{"InboxEvent without Kind", func() error { v := event; v.Kind = ""; return v.Validate() }(), false},
		{"InboxEvent without Payload", func() error { v := event; v.Payload = nil; return v.Validate() }(), false},
		{"InboxState final", waflow.InboxDone.ValidateFinal(), true},
		{"InboxState not final", waflow.InboxPending.ValidateFinal(), false},
		{"claim", waflow.ValidateClaim("w", 1, time.Second), true},
		{"claim without owner", waflow.ValidateClaim("", 1, time.Second), false},
		{"claim without max", waflow.ValidateClaim("w", 0, time.Second), false},
		{"claim without lease", waflow.ValidateClaim("w", 1, 0), false},
		{"Completion", completion.Validate(), true},
		{"Completion without MessageID", func() error { v := completion; v.MessageID = ""; return v.Validate() }(), false},
		{"Completion without TokenID", func() error { v := completion; v.TokenID = ""; return v.Validate() }(), false},
		{"Completion without Flow", func() error { v := completion; v.Flow = ""; return v.Validate() }(), false},
		{"Completion without Response", func() error { v := completion; v.Response = nil; return v.Validate() }(), false},
		{"Completion without CompletedAt", func() error { v := completion; v.CompletedAt = time.Time{}; return v.Validate() }(), false},
		{"OutboxMessage", message.Validate(), true},
		{"OutboxMessage without IdempotencyKey", func() error { v := message; v.IdempotencyKey = ""; return v.Validate() }(), false},
		{"OutboxMessage without To", func() error { v := message; v.To = ""; return v.Validate() }(), false},
		{"OutboxMessage without Payload", func() error { v := message; v.Payload = nil; return v.Validate() }(), false},
		{"FlowDeployment", deployment.Validate(), true},
		{"FlowDeployment without WABAID", func() error { v := deployment; v.WABAID = ""; return v.Validate() }(), false},
		{"FlowDeployment without Flow", func() error { v := deployment; v.Flow = ""; return v.Validate() }(), false},
		{"FlowDeployment without FlowID", func() error { v := deployment; v.FlowID = ""; return v.Validate() }(), false},
		{"FlowDeployment without ContentHash", func() error { v := deployment; v.ContentHash = ""; return v.Validate() }(), false},
	}
	for _, tc := range tests {
		switch {
		case tc.ok && tc.err != nil:
			t.Errorf("%s: %v, want nil", tc.name, tc.err)
		case !tc.ok && !errors.Is(tc.err, waflow.ErrInvalid):
			t.Errorf("%s: %v, want an error matching ErrInvalid", tc.name, tc.err)
		case !tc.ok && !strings.Contains(tc.err.Error(), field(tc.name)):
			t.Errorf("%s: %q does not name %s", tc.name, tc.err, field(tc.name))
		}
	}
}

// field is the last word of a test's name: the field its error must name.
func field(name string) string { return name[strings.LastIndexByte(name, ' ')+1:] }
