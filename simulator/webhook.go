package simulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/waflow/waflow/signature"
)

// WebhookOptions says where and how to deliver a completion webhook.
type WebhookOptions struct {
	// URL is the webhook receiver, e.g. "http://127.0.0.1:8080/webhook";
	// Handler, when set instead, is called in-process.
	URL     string
	Handler http.Handler
	// AppSecret signs the body (X-Hub-Signature-256). Required.
	AppSecret []byte
	// WAID is the user's WhatsApp id; default "15550000001".
	WAID string
	// BusinessNumber and PhoneNumberID describe the business's number.
	BusinessNumber, PhoneNumberID string
	// MessageID is the completion's wamid; random when empty. ContextID
	// is the wamid of the flow message it answers.
	MessageID, ContextID string
	// HTTPClient sends to URL; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock of the message timestamp; time.Now when nil.
	Now func() time.Time
}

// WebhookBody returns the messages webhook WhatsApp sends when the user
// completes the flow: one nfm_reply message whose response_json is a
// string holding the completion's JSON (protocol.md 4.2).
func (c *Completion) WebhookBody(o WebhookOptions) ([]byte, error) {
	if o.WAID == "" {
		o.WAID = "15550000001"
	}
	if o.BusinessNumber == "" {
		o.BusinessNumber = "15550000000"
	}
	if o.PhoneNumberID == "" {
		o.PhoneNumberID = "100000000000002"
	}
	if o.MessageID == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		o.MessageID = "wamid.flowtest-" + hex.EncodeToString(b[:])
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	resp, err := json.Marshal(c.ResponseJSON)
	if err != nil {
		return nil, fmt.Errorf("simulator: response_json: %w", err)
	}
	type obj = map[string]any
	msg := obj{
		"from":      o.WAID,
		"id":        o.MessageID,
		"timestamp": strconv.FormatInt(o.Now().Unix(), 10),
		"type":      "interactive",
		"interactive": obj{
			"type":      "nfm_reply",
			"nfm_reply": obj{"name": "flow", "body": "Sent", "response_json": string(resp)},
		},
	}
	if o.ContextID != "" {
		msg["context"] = obj{"from": o.BusinessNumber, "id": o.ContextID}
	}
	return json.Marshal(obj{
		"object": "whatsapp_business_account",
		"entry": []obj{{
			"id": "100000000000001",
			"changes": []obj{{
				"field": "messages",
				"value": obj{
					"messaging_product": "whatsapp",
					"metadata":          obj{"display_phone_number": o.BusinessNumber, "phone_number_id": o.PhoneNumberID},
					"contacts":          []obj{{"profile": obj{"name": "flowtest"}, "wa_id": o.WAID}},
					"messages":          []obj{msg},
				},
			}},
		}},
	})
}

// DeliverCompletion sends the completion webhook of the session's flow,
// signed with o.AppSecret, and records a "webhook" step. A receiver that
// does not answer 200 is a violation (Meta would retry for days).
func (s *Session) DeliverCompletion(ctx context.Context, o WebhookOptions) (*Step, error) {
	c := s.Completion()
	if c == nil {
		return nil, errors.New("simulator: the flow has not completed: no webhook to deliver")
	}
	if len(o.AppSecret) == 0 {
		return nil, fmt.Errorf("simulator: a webhook needs the app secret that signs it: %w", signature.ErrNoSecret)
	}
	if o.URL == "" && o.Handler == nil {
		return nil, errors.New("simulator: set the webhook URL or Handler")
	}
	body, err := c.WebhookBody(o)
	if err != nil {
		return nil, err
	}
	url := o.URL
	if url == "" {
		url = "http://flowtest.invalid/webhook"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signature.Header, signature.Sign(o.AppSecret, body))
	st := &Step{Kind: "webhook", From: c.Screen, Endpoint: true, Sent: c.ResponseJSON, Attempts: 1}
	start := time.Now()
	var text []byte
	if o.Handler != nil {
		st.Status, text = serve(o.Handler, req)
	} else {
		hc := o.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: 10 * time.Second}
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, &TransportError{URL: o.URL, Err: err}
		}
		text, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		st.Status = resp.StatusCode
	}
	st.Latency = time.Since(start)
	if st.Status != http.StatusOK {
		st.Violations = []Violation{{Rule: RuleStatus, Message: fmt.Sprintf("the webhook receiver answered HTTP %d (%s); Meta retries anything but 200 for up to 7 days", st.Status, snippet(bytes.TrimSpace(text)))}}
	}
	return s.record(st), nil
}
