package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// FlowMode selects which version of a flow a message opens.
type FlowMode string

// Flow modes (protocol.md 5.1).
const (
	// ModePublished opens the last published version; Meta's default.
	ModePublished FlowMode = "published"
	// ModeDraft opens the current draft, for testing; a DRAFT flow can only
	// be sent this way.
	ModeDraft FlowMode = "draft"
)

// FlowAction is what the client does when the user taps the CTA.
type FlowAction string

// Flow actions (protocol.md 5.1).
const (
	// ActionNavigate opens Screen with Data, without calling the endpoint;
	// Meta's default.
	ActionNavigate FlowAction = "navigate"
	// ActionDataExchange makes the client send INIT to the data endpoint
	// for the first screen.
	ActionDataExchange FlowAction = "data_exchange"
)

// Limits Meta documents for message texts, checked before sending.
const (
	MaxFlowCTALen    = 30   // flow_cta, characters (no emoji, per Meta)
	MaxHeaderTextLen = 60   // interactive header text
	MaxBodyTextLen   = 1024 // interactive body text
	MaxFooterTextLen = 60   // interactive footer text
	MaxTextBodyLen   = 4096 // text message body
)

// Message is a message Send can deliver: *FlowMessage, *TemplateMessage or
// *TextMessage.
type Message interface {
	// request builds and checks the body of POST /{PHONE_NUMBER_ID}/messages.
	request() (*messageRequest, error)
}

// FlowMessage is an interactive flow message, sendable inside the 24-hour
// customer-service window (protocol.md 5.1). Outside it, send a
// TemplateMessage with a flow button.
type FlowMessage struct {
	To string // recipient's WhatsApp id or phone number
	// Recipient is the recipient's business-scoped user id (BSUID) or parent
	// BSUID, for a user whose phone number is not known: it is sent when To
	// is empty (protocol.md 4.2). One of To and Recipient is required.
	Recipient string
	Header    string // optional header text
	Body      string // body text, required
	Footer    string // optional footer text

	FlowID   string // the flow's id; exactly one of FlowID and FlowName
	FlowName string // the flow's name in the WABA
	CTA      string // button text, required, at most MaxFlowCTALen characters
	Token    string // flow_token; Meta sends "unused" when empty

	Mode   FlowMode   // ModePublished when empty
	Action FlowAction // ActionNavigate when empty

	// Screen and Data form flow_action_payload, for ActionNavigate only:
	// the entry screen to open and its data. Both empty leaves the choice
	// to Meta (the first entry screen, no data); Data needs Screen.
	Screen string
	Data   map[string]any

	// ReplyTo is the id (wamid) of a message this one quotes, if any.
	ReplyTo string
}

// TemplateMessage sends an approved message template, for business-initiated
// conversations (protocol.md 5.2). With FlowButton set it fills the
// template's flow button.
type TemplateMessage struct {
	To string // recipient's WhatsApp id or phone number
	// Recipient is the recipient's BSUID, sent when To is empty (see
	// FlowMessage.Recipient).
	Recipient string
	Name      string // the template name, required
	Language  string // the template language code, such as "en_US", required
	// BodyParameters fill the body's {{1}}, {{2}}, ... placeholders.
	BodyParameters []string
	// FlowButton fills the flow button, when the template has one.
	FlowButton *FlowButton
	ReplyTo    string // wamid of a message this one quotes, if any
}

// FlowButton is the flow button of a TemplateMessage.
type FlowButton struct {
	// Index is the button's position among the template's buttons.
	Index int
	// Token is the flow_token; Meta sends "unused" when empty.
	Token string
	// ActionData is the first screen's data (flow_action_data), for
	// navigate flows; nil for none.
	ActionData map[string]any
}

// TextMessage is a plain text message.
type TextMessage struct {
	To string // recipient's WhatsApp id or phone number
	// Recipient is the recipient's BSUID, sent when To is empty (see
	// FlowMessage.Recipient).
	Recipient  string
	Body       string // required, at most MaxTextBodyLen characters
	PreviewURL bool   // let WhatsApp render a preview of the first URL
	ReplyTo    string // wamid of a message this one quotes, if any
}

// SendResult is Meta's acknowledgement of a sent message. MessageID is the
// wamid that webhooks quote in context.id (protocol.md 4.2).
type SendResult struct {
	MessageID string // messages[0].id, the wamid
	Status    string // messages[0].message_status, such as "accepted"; may be empty
	WAID      string // contacts[0].wa_id, the recipient's WhatsApp id; absent for a send by BSUID
	Input     string // contacts[0].input, the recipient as given
	UserID    string // contacts[0].user_id, the recipient's BSUID, for a send by BSUID
}

// Wire shapes of POST /{PHONE_NUMBER_ID}/messages.
type (
	messageRequest struct {
		MessagingProduct string          `json:"messaging_product"`
		RecipientType    string          `json:"recipient_type"`
		To               string          `json:"to,omitempty"`
		Recipient        string          `json:"recipient,omitempty"`
		Type             string          `json:"type"`
		Context          *messageContext `json:"context,omitempty"`
		Interactive      *interactive    `json:"interactive,omitempty"`
		Template         *template       `json:"template,omitempty"`
		Text             *text           `json:"text,omitempty"`
	}
	messageContext struct {
		MessageID string `json:"message_id"`
	}
	interactive struct {
		Type   string      `json:"type"`
		Header *textHeader `json:"header,omitempty"`
		Body   *textOnly   `json:"body,omitempty"`
		Footer *textOnly   `json:"footer,omitempty"`
		Action flowAction  `json:"action"`
	}
	textHeader struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	textOnly struct {
		Text string `json:"text"`
	}
	flowAction struct {
		Name       string         `json:"name"`
		Parameters flowParameters `json:"parameters"`
	}
	flowParameters struct {
		FlowMessageVersion string             `json:"flow_message_version"`
		FlowID             string             `json:"flow_id,omitempty"`
		FlowName           string             `json:"flow_name,omitempty"`
		FlowCTA            string             `json:"flow_cta"`
		FlowToken          string             `json:"flow_token,omitempty"`
		Mode               FlowMode           `json:"mode"`
		FlowAction         FlowAction         `json:"flow_action"`
		FlowActionPayload  *flowActionPayload `json:"flow_action_payload,omitempty"`
	}
	flowActionPayload struct {
		Screen string         `json:"screen"`
		Data   map[string]any `json:"data,omitempty"`
	}
	template struct {
		Name       string              `json:"name"`
		Language   templateLanguage    `json:"language"`
		Components []templateComponent `json:"components,omitempty"`
	}
	templateLanguage struct {
		Code string `json:"code"`
	}
	templateComponent struct {
		Type       string              `json:"type"`
		SubType    string              `json:"sub_type,omitempty"`
		Index      string              `json:"index,omitempty"`
		Parameters []templateParameter `json:"parameters"`
	}
	templateParameter struct {
		Type   string          `json:"type"`
		Text   string          `json:"text,omitempty"`
		Action *templateAction `json:"action,omitempty"`
	}
	templateAction struct {
		FlowToken      string         `json:"flow_token,omitempty"`
		FlowActionData map[string]any `json:"flow_action_data,omitempty"`
	}
	text struct {
		PreviewURL bool   `json:"preview_url"`
		Body       string `json:"body"`
	}
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, args...)...)
}

func checkLen(field, s string, n int) error {
	if c := utf8.RuneCountInString(s); c > n {
		return invalid("%s is %d characters, at most %d allowed", field, c, n)
	}
	return nil
}

// newMessage starts a message to to, the phone number, or when it is empty
// to recipient, the business-scoped user id: Meta takes to over recipient
// when both are sent, so only one is (protocol.md 4.2).
func newMessage(to, recipient, typ, replyTo string) (*messageRequest, error) {
	if to == "" && recipient == "" {
		return nil, invalid("recipient is empty: give the phone number (to) or the business-scoped user id (recipient)")
	}
	r := &messageRequest{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Type: typ}
	if to == "" {
		r.Recipient = recipient
	}
	if replyTo != "" {
		r.Context = &messageContext{MessageID: replyTo}
	}
	return r, nil
}

func (m *FlowMessage) request() (*messageRequest, error) {
	r, err := newMessage(m.To, m.Recipient, "interactive", m.ReplyTo)
	if err != nil {
		return nil, err
	}
	switch {
	case m.FlowID == "" && m.FlowName == "":
		return nil, invalid("flow message needs a flow id or a flow name")
	case m.FlowID != "" && m.FlowName != "":
		return nil, invalid("flow message has both flow id %q and flow name %q; give one", m.FlowID, m.FlowName)
	case m.CTA == "":
		return nil, invalid("flow message needs a CTA (the button text)")
	case m.Body == "":
		return nil, invalid("flow message needs a body text")
	}
	for _, c := range []struct {
		field, s string
		n        int
	}{{"flow CTA", m.CTA, MaxFlowCTALen}, {"header", m.Header, MaxHeaderTextLen}, {"body", m.Body, MaxBodyTextLen}, {"footer", m.Footer, MaxFooterTextLen}} {
		if err := checkLen(c.field, c.s, c.n); err != nil {
			return nil, err
		}
	}
	mode, action := m.Mode, m.Action
	if mode == "" {
		mode = ModePublished
	}
	if action == "" {
		action = ActionNavigate
	}
	if mode != ModePublished && mode != ModeDraft {
		return nil, invalid("flow mode %q: want %q or %q", mode, ModePublished, ModeDraft)
	}
	p := flowParameters{
		FlowMessageVersion: "3", // the only accepted value
		FlowID:             m.FlowID,
		FlowName:           m.FlowName,
		FlowCTA:            m.CTA,
		FlowToken:          m.Token,
		Mode:               mode,
		FlowAction:         action,
	}
	switch action {
	case ActionNavigate:
		if len(m.Data) > 0 && m.Screen == "" {
			return nil, invalid("flow message has navigate data but no entry screen")
		}
		if m.Screen != "" {
			// Meta rejects an empty data object: leave it out instead.
			p.FlowActionPayload = &flowActionPayload{Screen: m.Screen, Data: m.Data}
		}
	case ActionDataExchange:
		if m.Screen != "" || len(m.Data) > 0 {
			return nil, invalid("flow message with data_exchange cannot carry a screen or data; the endpoint answers INIT instead")
		}
	default:
		return nil, invalid("flow action %q: want %q or %q", action, ActionNavigate, ActionDataExchange)
	}
	r.Interactive = &interactive{
		Type:   "flow",
		Body:   &textOnly{Text: m.Body},
		Action: flowAction{Name: "flow", Parameters: p},
	}
	if m.Header != "" {
		r.Interactive.Header = &textHeader{Type: "text", Text: m.Header}
	}
	if m.Footer != "" {
		r.Interactive.Footer = &textOnly{Text: m.Footer}
	}
	return r, nil
}

func (m *TemplateMessage) request() (*messageRequest, error) {
	r, err := newMessage(m.To, m.Recipient, "template", m.ReplyTo)
	if err != nil {
		return nil, err
	}
	if m.Name == "" {
		return nil, invalid("template message needs a template name")
	}
	if m.Language == "" {
		return nil, invalid("template message needs a language code, such as en_US")
	}
	t := &template{Name: m.Name, Language: templateLanguage{Code: m.Language}}
	if len(m.BodyParameters) > 0 {
		c := templateComponent{Type: "body"}
		for _, s := range m.BodyParameters {
			c.Parameters = append(c.Parameters, templateParameter{Type: "text", Text: s})
		}
		t.Components = append(t.Components, c)
	}
	if b := m.FlowButton; b != nil {
		if b.Index < 0 || b.Index > 9 {
			return nil, invalid("flow button index %d: want 0 to 9", b.Index)
		}
		t.Components = append(t.Components, templateComponent{
			Type: "button", SubType: "flow", Index: strconv.Itoa(b.Index),
			Parameters: []templateParameter{{
				Type:   "action",
				Action: &templateAction{FlowToken: b.Token, FlowActionData: b.ActionData},
			}},
		})
	}
	r.Template = t
	return r, nil
}

func (m *TextMessage) request() (*messageRequest, error) {
	r, err := newMessage(m.To, m.Recipient, "text", m.ReplyTo)
	if err != nil {
		return nil, err
	}
	if m.Body == "" {
		return nil, invalid("text message body is empty")
	}
	if err := checkLen("text body", m.Body, MaxTextBodyLen); err != nil {
		return nil, err
	}
	r.Text = &text{Body: m.Body, PreviewURL: m.PreviewURL}
	return r, nil
}

// EncodeMessage checks m and returns the JSON body Send would post. An
// outbox stores it and sends exactly those bytes later with SendEncoded.
func EncodeMessage(m Message) ([]byte, error) {
	r, err := m.request()
	if err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// sendResponse is the answer of POST /{PHONE_NUMBER_ID}/messages.
type sendResponse struct {
	Contacts []struct {
		Input  string `json:"input"`
		WAID   string `json:"wa_id"`
		UserID string `json:"user_id"`
	} `json:"contacts"`
	Messages []struct {
		ID            string `json:"id"`
		MessageStatus string `json:"message_status"`
	} `json:"messages"`
}

// Send posts m to POST /{phoneNumberID}/messages and returns the message id.
//
// Meta has no idempotency key, so a send is retried only when Meta cannot
// have acted on it (429, or a connection error before the request was
// written). A 5xx answer, a timeout or a connection lost afterwards returns
// an error wrapping ErrOutcomeUnknown without retrying.
func (c *Client) Send(ctx context.Context, phoneNumberID string, m Message) (*SendResult, error) {
	body, err := EncodeMessage(m)
	if err != nil {
		return nil, fmt.Errorf("graph: send message: %w", err)
	}
	return c.send(ctx, phoneNumberID, body)
}

// SendEncoded posts a body made by EncodeMessage, as Send does. It checks
// that body is a WhatsApp message object with a recipient (to, or recipient
// for a business-scoped user id).
func (c *Client) SendEncoded(ctx context.Context, phoneNumberID string, body []byte) (*SendResult, error) {
	var probe struct {
		MessagingProduct string `json:"messaging_product"`
		To               string `json:"to"`
		Recipient        string `json:"recipient"`
		Type             string `json:"type"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("graph: send message: %w: body is not a JSON object: %w", ErrInvalidRequest, err)
	}
	if probe.MessagingProduct != "whatsapp" || (probe.To == "" && probe.Recipient == "") || probe.Type == "" {
		return nil, fmt.Errorf("graph: send message: %w: body lacks messaging_product \"whatsapp\", to (or recipient) or type", ErrInvalidRequest)
	}
	return c.send(ctx, phoneNumberID, body)
}

func (c *Client) send(ctx context.Context, phoneNumberID string, body []byte) (*SendResult, error) {
	if err := checkID("phone number ID", phoneNumberID); err != nil {
		return nil, fmt.Errorf("graph: send message: %w", err)
	}
	cl := &call{
		op: "send message", method: "POST", segments: []string{phoneNumberID, "messages"},
		body: body, contentType: "application/json", unsafe: true,
	}
	var r sendResponse
	if err := c.do(ctx, cl, &r); err != nil {
		return nil, err
	}
	if len(r.Messages) == 0 || r.Messages[0].ID == "" {
		// Meta accepted something; resending could duplicate it.
		return nil, fmt.Errorf("graph: send message: %w: no message id in the answer; %w", ErrUnexpectedResponse, ErrOutcomeUnknown)
	}
	res := &SendResult{MessageID: r.Messages[0].ID, Status: r.Messages[0].MessageStatus}
	if len(r.Contacts) > 0 {
		res.WAID, res.Input, res.UserID = r.Contacts[0].WAID, r.Contacts[0].Input, r.Contacts[0].UserID
	}
	return res, nil
}
