package waflow

import "time"

// The argument checks every driver makes before it writes, here so that the
// drivers refuse the same values with the same text. Each error matches
// ErrInvalid and names the fields.

// Validate checks what CreateToken needs of t: an ID, a Flow and an
// ExpiresAt.
func (t FlowToken) Validate() error {
	if t.ID == "" || t.Flow == "" || t.ExpiresAt.IsZero() {
		return Invalidf("CreateToken needs an ID, a Flow and an ExpiresAt")
	}
	return nil
}

// Validate checks what AddEvents needs of e: a DedupeKey, a Kind and a
// Payload.
func (e InboxEvent) Validate() error {
	if e.DedupeKey == "" || e.Kind == "" || len(e.Payload) == 0 {
		return Invalidf("an inbox event needs a DedupeKey, a Kind and a Payload")
	}
	return nil
}

// ValidateFinal checks that FinishEvent may settle an event in s: a final
// state.
func (s InboxState) ValidateFinal() error {
	if !s.Final() {
		return Invalidf("FinishEvent: %q is not a final state", s)
	}
	return nil
}

// ValidateClaim checks the arguments of a claim (InboxStore.ClaimEvents,
// OutboxStore.Claim): an owner, a positive max and a positive lease.
func ValidateClaim(owner string, max int, lease time.Duration) error {
	if owner == "" || max <= 0 || lease <= 0 {
		return Invalidf("a claim needs an owner, a positive max and a positive lease")
	}
	return nil
}

// Validate checks what RecordCompletion needs of c: a MessageID, a TokenID,
// a Flow, a Response and a CompletedAt.
func (c Completion) Validate() error {
	if c.MessageID == "" || c.TokenID == "" || c.Flow == "" || len(c.Response) == 0 || c.CompletedAt.IsZero() {
		return Invalidf("RecordCompletion needs a MessageID, a TokenID, a Flow, a Response and a CompletedAt")
	}
	return nil
}

// ValidateKept checks what KeepCompletion needs of c: a MessageID, a
// Response, a CompletedAt and Status CompletionRejected.
func (c Completion) ValidateKept() error {
	if c.MessageID == "" || len(c.Response) == 0 || c.CompletedAt.IsZero() || c.Status != CompletionRejected {
		return Invalidf("KeepCompletion needs a MessageID, a Response, a CompletedAt and Status rejected")
	}
	return nil
}

// Validate checks what Enqueue needs of m: an IdempotencyKey, a To and a
// Payload.
func (m OutboxMessage) Validate() error {
	if m.IdempotencyKey == "" || m.To == "" || len(m.Payload) == 0 {
		return Invalidf("Enqueue needs an IdempotencyKey, a To and a Payload")
	}
	return nil
}

// Validate checks what SaveFlowDeployment needs of d: a WABAID, a Flow, a
// FlowID and a ContentHash.
func (d FlowDeployment) Validate() error {
	if d.WABAID == "" || d.Flow == "" || d.FlowID == "" || d.ContentHash == "" {
		return Invalidf("SaveFlowDeployment needs a WABAID, a Flow, a FlowID and a ContentHash")
	}
	return nil
}
