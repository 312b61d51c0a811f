package webhook

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Message is an incoming message of a messages webhook, with the fields
// waflow uses (protocol.md 4.2). Unknown fields are ignored.
type Message struct {
	ID   string // the wamid
	From string // the user's WhatsApp id, their phone number; Meta may leave it out for a user with a username
	// UserID is the user's business-scoped user id (BSUID), when Meta sends
	// it: the message's from_user_id, or else the user_id of the
	// notification's contact (Event.DecodeMessage looks there).
	UserID string
	// ParentUserID is the user's parent BSUID, when parent BSUIDs are
	// enabled: the message's from_parent_user_id, or else the
	// parent_user_id of the notification's contact.
	ParentUserID string
	// Username is the user's WhatsApp username, from the notification's
	// contact (contacts[].profile.username), when they adopted one.
	Username  string
	Timestamp time.Time // when the user sent it; zero if absent or garbled
	Type      string    // "interactive", "text", "image"...
	// ContextID is the wamid of the message this one answers: for a flow
	// completion, the flow message we sent.
	ContextID   string
	Interactive *Interactive
	// System is set for a system message (Type "system"): a user who
	// changed their phone number or business-scoped user id.
	System *SystemChange
}

// The system message types that report a changed identifier
// (protocol.md 4.2).
const (
	UserChangedNumber = "user_changed_number"
	UserChangedUserID = "user_changed_user_id"
)

// SystemChange is the system part of a system message: the user's new
// identifiers and the previous BSUIDs.
type SystemChange struct {
	Type string // UserChangedNumber, UserChangedUserID...
	// WAID is the user's new phone number (user_changed_number).
	WAID string
	// UserID and ParentUserID are the new BSUIDs, when sent (system.user_id
	// and system.parent_user_id, else the message's from_user_id and
	// from_parent_user_id).
	UserID, ParentUserID string
	// PreviousUserID and PreviousParentUserID are the BSUIDs the user had
	// before the change.
	PreviousUserID, PreviousParentUserID string
}

// Interactive is the interactive part of a message.
type Interactive struct {
	Type     string    // "nfm_reply" for a flow completion
	NFMReply *NFMReply // set when Type is "nfm_reply"
}

// NFMReply is a flow completion's reply.
type NFMReply struct {
	Name string // "flow"
	Body string // "Sent"
	// ResponseJSON is a string holding a JSON object: flow_token and the
	// values the flow returned. It holds the user's data: never log it. In
	// a stored event, flow_token is redacted (flowtoken.Redact).
	ResponseJSON string
}

// IsCompletion reports whether m is a flow completion (an nfm_reply).
func (m *Message) IsCompletion() bool {
	return m.Type == "interactive" && m.Interactive != nil && m.Interactive.Type == "nfm_reply"
}

type wireMessage struct {
	ID        flexString `json:"id"`
	From      flexString `json:"from"`
	FromUser  flexString `json:"from_user_id"`
	FromPUser flexString `json:"from_parent_user_id"`
	Timestamp flexString `json:"timestamp"`
	Type      string     `json:"type"`
	Context   *struct {
		ID flexString `json:"id"`
	} `json:"context"`
	// System is decoded on its own, leniently: a system part of an
	// unexpected shape must not make the whole notification a 400.
	System      json.RawMessage `json:"system"`
	Interactive *struct {
		Type     string `json:"type"`
		NFMReply *struct {
			Name         string          `json:"name"`
			Body         string          `json:"body"`
			ResponseJSON json.RawMessage `json:"response_json"`
		} `json:"nfm_reply"`
	} `json:"interactive"`
}

func decodeMessage(raw json.RawMessage) (*Message, error) {
	if !isObject(raw) {
		return nil, errors.New("want an object")
	}
	var w wireMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errors.New(jsonErrText(err))
	}
	m := &Message{ID: string(w.ID), From: string(w.From), UserID: string(w.FromUser), ParentUserID: string(w.FromPUser),
		Timestamp: unixTime(w.Timestamp), Type: w.Type}
	if w.Context != nil {
		m.ContextID = string(w.Context.ID)
	}
	var s struct {
		Type           string     `json:"type"`
		WAID           flexString `json:"wa_id"`
		UserID         flexString `json:"user_id"`
		ParentUserID   flexString `json:"parent_user_id"`
		PreviousUserID flexString `json:"previous_user_id"`
		PreviousParent flexString `json:"previous_parent_user_id"`
	}
	if isObject(w.System) && json.Unmarshal(w.System, &s) == nil {
		m.System = &SystemChange{Type: s.Type, WAID: string(s.WAID), UserID: string(s.UserID), ParentUserID: string(s.ParentUserID),
			PreviousUserID: string(s.PreviousUserID), PreviousParentUserID: string(s.PreviousParent)}
		if m.System.UserID == "" {
			m.System.UserID = m.UserID
		}
		if m.System.ParentUserID == "" {
			m.System.ParentUserID = m.ParentUserID
		}
	}
	if w.Interactive != nil {
		m.Interactive = &Interactive{Type: w.Interactive.Type}
		if r := w.Interactive.NFMReply; r != nil {
			reply := &NFMReply{Name: r.Name, Body: r.Body}
			// response_json is documented as a string of JSON; take an
			// object sent as such too, so nothing depends on that detail.
			rj := bytes.TrimSpace(r.ResponseJSON)
			switch {
			case len(rj) > 0 && rj[0] == '"':
				if err := json.Unmarshal(rj, &reply.ResponseJSON); err != nil {
					return nil, err
				}
			case len(rj) > 0 && string(rj) != "null":
				reply.ResponseJSON = string(rj)
			}
			m.Interactive.NFMReply = reply
		}
	}
	return m, nil
}

// DecodeMessage decodes the message of a messages event; it fails when the
// event holds none. What the message leaves out of the user's identifiers
// (from_user_id, from_parent_user_id, and the username, which only
// contacts carry) is taken from the notification's contact: the one whose
// wa_id is the message's from or whose user_id is its from_user_id, or the
// only one. A message with no from (a user with a username, protocol.md
// 4.2) takes the contact's wa_id when it has one.
func (e *Event) DecodeMessage() (*Message, error) {
	if len(e.Message) == 0 {
		return nil, errors.New("webhook: the event holds no message")
	}
	m, err := decodeMessage(e.Message)
	if err == nil && len(e.Contacts) > 0 {
		if c, ok := findContact(decodeContacts(e.Contacts), m.From, m.UserID); ok {
			m.From = cmp.Or(m.From, c.WAID)
			m.UserID = cmp.Or(m.UserID, c.UserID)
			m.ParentUserID = cmp.Or(m.ParentUserID, c.ParentUserID)
			m.Username = c.Username
		}
	}
	return m, err
}

// Contact is one entry of a notification's contacts array: a user, by
// whichever identifiers Meta sent (protocol.md 4.2).
type Contact struct {
	WAID         string // the phone number; absent for some users with a username
	UserID       string // the BSUID
	ParentUserID string // the parent BSUID, when enabled
	Username     string // profile.username
	Name         string // profile.name
}

// decodeContacts decodes a contacts array leniently: nil when it is not
// one.
func decodeContacts(raw json.RawMessage) []Contact {
	var cs []struct {
		WAID         flexString `json:"wa_id"`
		UserID       flexString `json:"user_id"`
		ParentUserID flexString `json:"parent_user_id"`
		Profile      struct {
			Name     string `json:"name"`
			Username string `json:"username"`
		} `json:"profile"`
	}
	if json.Unmarshal(raw, &cs) != nil {
		return nil
	}
	out := make([]Contact, 0, len(cs))
	for _, c := range cs {
		out = append(out, Contact{WAID: string(c.WAID), UserID: string(c.UserID), ParentUserID: string(c.ParentUserID),
			Username: c.Profile.Username, Name: c.Profile.Name})
	}
	return out
}

// DecodeContacts decodes the notification's contacts array (empty when it
// has none or it is not an array).
func (e *Event) DecodeContacts() []Contact { return decodeContacts(e.Contacts) }

// findContact returns the contact of waID or userID, or the only contact.
func findContact(cs []Contact, waID, userID string) (Contact, bool) {
	for _, c := range cs {
		if (waID != "" && c.WAID == waID) || (userID != "" && c.UserID == userID) {
			return c, true
		}
	}
	if len(cs) == 1 {
		return cs[0], true
	}
	return Contact{}, false
}

// Status is a delivery status of a message we sent.
type Status struct {
	ID          string // the wamid of our message
	Status      string // sent, delivered, read, failed
	RecipientID string // the recipient's phone number; absent for some users with a username
	// RecipientUserID and RecipientParentUserID are the recipient's BSUID
	// and parent BSUID (recipient_user_id, recipient_parent_user_id).
	RecipientUserID, RecipientParentUserID string
	Timestamp                              time.Time
	Errors                                 []StatusError
}

// StatusError is one error of a failed status.
type StatusError struct {
	Code  int64
	Title string
}

func decodeStatus(raw json.RawMessage) (*Status, error) {
	if !isObject(raw) {
		return nil, errors.New("want an object")
	}
	var w struct {
		ID          flexString `json:"id"`
		Status      string     `json:"status"`
		RecipientID flexString `json:"recipient_id"`
		RecipientU  flexString `json:"recipient_user_id"`
		RecipientPU flexString `json:"recipient_parent_user_id"`
		Timestamp   flexString `json:"timestamp"`
		Errors      []struct {
			Code  flexInt `json:"code"`
			Title string  `json:"title"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errors.New(jsonErrText(err))
	}
	s := &Status{ID: string(w.ID), Status: w.Status, RecipientID: string(w.RecipientID), RecipientUserID: string(w.RecipientU),
		RecipientParentUserID: string(w.RecipientPU), Timestamp: unixTime(w.Timestamp)}
	for _, e := range w.Errors {
		s.Errors = append(s.Errors, StatusError{Code: int64(e.Code), Title: e.Title})
	}
	return s, nil
}

// DecodeStatus decodes the status of a status event.
func (e *Event) DecodeStatus() (*Status, error) {
	if len(e.Status) == 0 {
		return nil, errors.New("webhook: the event holds no status")
	}
	return decodeStatus(e.Status)
}

// The events of a flows webhook (protocol.md 4.3).
const (
	FlowStatusChange         = "FLOW_STATUS_CHANGE"
	ClientErrorRate          = "CLIENT_ERROR_RATE"
	EndpointErrorRate        = "ENDPOINT_ERROR_RATE"
	EndpointLatency          = "ENDPOINT_LATENCY"
	EndpointAvailability     = "ENDPOINT_AVAILABILITY"
	FlowVersionExpiryWarning = "FLOW_VERSION_EXPIRY_WARNING"
)

// FlowsEvent is a flows webhook: a flow's status change or health alert
// (protocol.md 4.3). Fields an event does not carry are zero.
type FlowsEvent struct {
	Event      string // one of the constants above
	Message    string // human-readable text from Meta
	FlowID     string
	OldStatus  string // DRAFT, PUBLISHED, DEPRECATED, BLOCKED, THROTTLED
	NewStatus  string
	AlertState string // ACTIVATED or DEACTIVATED
	// Threshold is a percentage for error rates and availability, and
	// milliseconds for latency.
	Threshold     float64
	ErrorRate     float64 // percent
	Errors        []FlowError
	P50Latency    float64 // milliseconds
	P90Latency    float64 // milliseconds
	RequestsCount int64
	Availability  float64 // percent
	Warning       string
	// Time is the entry's time: when Meta raised the event.
	Time time.Time
	// WABAID is the entry's id: the WhatsApp Business Account of the flow.
	WABAID string
}

// FlowError is one error type of an error-rate alert.
type FlowError struct {
	Type  string // e.g. "INVALID_SCREEN_TRANSITION", "TIMEOUT"; compare case-insensitively
	Rate  float64
	Count int64
}

func decodeFlowsEvent(raw json.RawMessage) (*FlowsEvent, error) {
	var w struct {
		Event         string     `json:"event"`
		Message       string     `json:"message"`
		FlowID        flexString `json:"flow_id"`
		OldStatus     string     `json:"old_status"`
		NewStatus     string     `json:"new_status"`
		AlertState    string     `json:"alert_state"`
		Threshold     flexFloat  `json:"threshold"`
		ErrorRate     flexFloat  `json:"error_rate"`
		P50Latency    flexFloat  `json:"p50_latency"`
		P90Latency    flexFloat  `json:"p90_latency"`
		RequestsCount flexInt    `json:"requests_count"`
		Availability  flexFloat  `json:"availability"`
		Warning       string     `json:"warning"`
		Errors        []struct {
			Type  string    `json:"error_type"`
			Rate  flexFloat `json:"error_rate"`
			Count flexInt   `json:"error_count"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errors.New(jsonErrText(err))
	}
	fe := &FlowsEvent{
		Event: w.Event, Message: w.Message, FlowID: string(w.FlowID), OldStatus: w.OldStatus, NewStatus: w.NewStatus,
		AlertState: w.AlertState, Threshold: float64(w.Threshold), ErrorRate: float64(w.ErrorRate),
		P50Latency: float64(w.P50Latency), P90Latency: float64(w.P90Latency), RequestsCount: int64(w.RequestsCount),
		Availability: float64(w.Availability), Warning: w.Warning,
	}
	for _, e := range w.Errors {
		fe.Errors = append(fe.Errors, FlowError{Type: e.Type, Rate: float64(e.Rate), Count: int64(e.Count)})
	}
	return fe, nil
}

// DecodeFlowsEvent decodes the flows event of a flows inbox event.
func (e *Event) DecodeFlowsEvent() (*FlowsEvent, error) {
	if e.Field != "flows" || len(e.Value) == 0 {
		return nil, errors.New("webhook: the event is not a flows event")
	}
	fe, err := decodeFlowsEvent(e.Value)
	if err != nil {
		return nil, fmt.Errorf("webhook: flows event: %w", err)
	}
	if e.EntryTime > 0 && e.EntryTime <= maxUnix {
		fe.Time = time.Unix(e.EntryTime, 0).UTC()
	}
	fe.WABAID = e.EntryID
	return fe, nil
}

// ErrResponseNotJSON means an nfm_reply's response_json is not a JSON
// object.
var ErrResponseNotJSON = errors.New("webhook: response_json is not a JSON object")

// CompletionResponse is a decoded response_json: the flow token apart from
// the values. The stored completion is waflow.Completion; what a Go
// completion handler receives is registry.Completion (docs/architecture.md,
// "Which Request is which").
type CompletionResponse struct {
	// FlowToken is the flow_token value; empty when absent (it happens on
	// iOS, protocol.md 4.2) or not a string.
	FlowToken string
	// Values are the other keys: what the flow returned. They hold the
	// user's data: never log them.
	Values map[string]any
	// Raw is response_json itself.
	Raw []byte
}

// ParseResponse decodes an nfm_reply's response_json, which must be a JSON
// object; it returns ErrResponseNotJSON otherwise.
func ParseResponse(responseJSON string) (*CompletionResponse, error) {
	raw := []byte(responseJSON)
	if !json.Valid(raw) || !isObject(raw) {
		return nil, ErrResponseNotJSON
	}
	var values map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep 12345678901234567890 as written, not as a float
	if err := dec.Decode(&values); err != nil || values == nil {
		return nil, ErrResponseNotJSON
	}
	r := &CompletionResponse{Values: values, Raw: raw}
	if tok, ok := values["flow_token"].(string); ok {
		r.FlowToken = tok
	}
	delete(values, "flow_token")
	return r, nil
}
