package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/waflow/waflow"
)

// Errors of Parse, matched with errors.Is. Both mean the receiver answers 400
// and stores nothing.
var (
	// ErrNotJSON means the body is not JSON at all.
	ErrNotJSON = errors.New("webhook: body is not JSON")
	// ErrWrongShape means the body is JSON but not a webhook notification:
	// not an object, no entry array, a message without an id...
	ErrWrongShape = errors.New("webhook: JSON is not a WhatsApp webhook notification")
)

// PayloadError says what is wrong with a webhook body and where.
type PayloadError struct {
	Kind   error  // ErrNotJSON or ErrWrongShape
	Path   string // where, such as "entry[0].changes[1].value.messages[0].id"; "" for the whole body
	Reason string
}

// Error says what is wrong and where, without quoting the body.
func (e *PayloadError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%v: %s", e.Kind, e.Reason)
	}
	return fmt.Sprintf("%v: %s: %s", e.Kind, e.Path, e.Reason)
}

// Unwrap returns Kind, so that errors.Is matches ErrNotJSON or ErrWrongShape.
func (e *PayloadError) Unwrap() error { return e.Kind }

func shapeErr(path, format string, args ...any) error {
	return &PayloadError{Kind: ErrWrongShape, Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Event is the payload of one inbox event, as package webhook stores it: the
// item WhatsApp sent, byte for byte, with the context of the notification it
// came in. Exactly one of Message, Status and Value is set. The one change is
// that a message's flow tokens are stored in flowtoken.Redact's form, never
// in clear (see redactMessage).
type Event struct {
	Object    string `json:"object,omitempty"`     // "whatsapp_business_account"
	EntryID   string `json:"entry_id,omitempty"`   // the WABA id
	EntryTime int64  `json:"entry_time,omitempty"` // entry.time, Unix seconds; flows events have it
	Field     string `json:"field,omitempty"`      // "messages", "flows"...
	// Metadata and Contacts are the value's metadata (display_phone_number,
	// phone_number_id) and contacts, for messages and statuses.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Contacts json.RawMessage `json:"contacts,omitempty"`
	Message  json.RawMessage `json:"message,omitempty"` // one of value.messages
	Status   json.RawMessage `json:"status,omitempty"`  // one of value.statuses
	Value    json.RawMessage `json:"value,omitempty"`   // the change's value (flows and others)
}

// DecodeEvent decodes an inbox event's payload.
func DecodeEvent(payload []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, fmt.Errorf("webhook: decoding a stored event: %w", err)
	}
	return &e, nil
}

// Parse splits a webhook body into inbox events, one per message, status or
// flows event (a body may carry several entries, changes and messages), each
// with its dedupe key (protocol.md 4.1):
//
//   - a message: "msg:" and its wamid; kind EventCompletion for an
//     nfm_reply, EventMessage otherwise;
//   - a status: "status:", the wamid and the status (sent, delivered...);
//   - a flows event: "flows:" and flow_id, event, entry.time and alert_state
//     or new_status;
//   - anything else: "other:" and a hash of the change, so that a repeat is
//     still stored once.
//
// Parsing is lenient where WhatsApp's documentation is loose: unknown keys
// are ignored, ids and numbers may come as strings or numbers. It is strict
// where the events could not be stored correctly: the body must be an object
// with an entry array of objects, and each message and status needs its id.
// The errors are *PayloadError, matching ErrNotJSON or ErrWrongShape.
func Parse(body []byte) ([]waflow.InboxEvent, error) {
	if evs, ok := parseFast(body); ok {
		return evs, nil
	}
	return parseSlow(body)
}

// parseFast decodes the envelope, entries and changes in one pass, which
// halves the cost of the usual notification. It gives up (ok false) on any
// error or unusual shape, and parseSlow then gives the precise answer; the
// two agree on every body they both accept (FuzzParseFastSlow).
func parseFast(body []byte) (evs []waflow.InboxEvent, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, false
	}
	var env struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      flexString `json:"id"`
			Time    flexInt    `json:"time"`
			Changes []struct {
				Field string          `json:"field"`
				Value json.RawMessage `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Entry == nil {
		return nil, false
	}
	for _, entry := range env.Entry {
		if len(entry.Changes) == 0 {
			return nil, false
		}
		base := Event{Object: env.Object, EntryID: string(entry.ID), EntryTime: int64(entry.Time)}
		for _, change := range entry.Changes {
			e := base
			e.Field = change.Field
			var more []waflow.InboxEvent
			var err error
			switch change.Field {
			case "messages":
				more, err = parseMessagesValue(e, change.Value, "")
			case "flows":
				more, err = parseFlowsValue(e, change.Value, "")
			default:
				e.Value = change.Value
				more = []waflow.InboxEvent{otherEvent(e)}
			}
			if err != nil {
				return nil, false
			}
			evs = append(evs, more...)
		}
	}
	return evs, true
}

// parseSlow decodes the body one level at a time, so that an error can say
// where it is. Parse takes it when its single-pass decoding fails, and for
// the rare shapes that one does not handle.
func parseSlow(body []byte) ([]waflow.InboxEvent, error) {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		return nil, &PayloadError{Kind: ErrNotJSON, Reason: jsonErrText(err)}
	}
	if len(body) == 0 || body[0] != '{' {
		return nil, shapeErr("", "want a JSON object")
	}
	var env struct {
		Object string            `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, shapeErr("", "%s", jsonErrText(err))
	}
	if env.Entry == nil {
		return nil, shapeErr("entry", "missing: want an array of entries")
	}
	var out []waflow.InboxEvent
	for i, raw := range env.Entry {
		evs, err := parseEntry(env.Object, raw, fmt.Sprintf("entry[%d]", i))
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

func parseEntry(object string, raw json.RawMessage, path string) ([]waflow.InboxEvent, error) {
	if !isObject(raw) {
		return nil, shapeErr(path, "want an object")
	}
	var entry struct {
		ID      flexString        `json:"id"`
		Time    flexInt           `json:"time"`
		Changes []json.RawMessage `json:"changes"`
	}
	if err := json.Unmarshal(raw, &entry); err != nil {
		return nil, shapeErr(path, "%s", jsonErrText(err))
	}
	base := Event{Object: object, EntryID: string(entry.ID), EntryTime: int64(entry.Time)}
	if len(entry.Changes) == 0 {
		// Not a shape WhatsApp sends today; keep it rather than lose it.
		e := base
		e.Value = raw
		return []waflow.InboxEvent{otherEvent(e)}, nil
	}
	var out []waflow.InboxEvent
	for j, craw := range entry.Changes {
		cpath := fmt.Sprintf("%s.changes[%d]", path, j)
		if !isObject(craw) {
			return nil, shapeErr(cpath, "want an object")
		}
		var change struct {
			Field string          `json:"field"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(craw, &change); err != nil {
			return nil, shapeErr(cpath, "%s", jsonErrText(err))
		}
		e := base
		e.Field = change.Field
		var evs []waflow.InboxEvent
		var err error
		switch change.Field {
		case "messages":
			evs, err = parseMessagesValue(e, change.Value, cpath+".value")
		case "flows":
			evs, err = parseFlowsValue(e, change.Value, cpath+".value")
		default:
			e.Value = change.Value
			evs = []waflow.InboxEvent{otherEvent(e)}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

func parseMessagesValue(base Event, raw json.RawMessage, path string) ([]waflow.InboxEvent, error) {
	if !isObject(raw) {
		return nil, shapeErr(path, "want an object")
	}
	var v struct {
		Metadata json.RawMessage   `json:"metadata"`
		Contacts json.RawMessage   `json:"contacts"`
		Messages []json.RawMessage `json:"messages"`
		Statuses []json.RawMessage `json:"statuses"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, shapeErr(path, "%s", jsonErrText(err))
	}
	base.Metadata, base.Contacts = nullToNil(v.Metadata), nullToNil(v.Contacts)
	var out []waflow.InboxEvent
	for i, m := range v.Messages {
		mpath := fmt.Sprintf("%s.messages[%d]", path, i)
		msg, err := decodeMessage(m)
		if err != nil {
			return nil, shapeErr(mpath, "%s", err)
		}
		if msg.ID == "" {
			return nil, shapeErr(mpath+".id", "missing: a message needs its wamid")
		}
		e := base
		e.Message = redactMessage(m, msg)
		kind := waflow.EventMessage
		if msg.IsCompletion() {
			kind = waflow.EventCompletion
		}
		out = append(out, inboxEvent("msg:"+msg.ID, kind, e))
	}
	for i, s := range v.Statuses {
		spath := fmt.Sprintf("%s.statuses[%d]", path, i)
		st, err := decodeStatus(s)
		if err != nil {
			return nil, shapeErr(spath, "%s", err)
		}
		if st.ID == "" || st.Status == "" {
			return nil, shapeErr(spath, "a status needs an id and a status")
		}
		e := base
		e.Status = s
		out = append(out, inboxEvent("status:"+st.ID+":"+st.Status, waflow.EventStatus, e))
	}
	if len(out) == 0 {
		// A value with neither messages nor statuses (errors, for one).
		e := base
		e.Metadata, e.Contacts = nil, nil
		e.Value = raw
		out = append(out, otherEvent(e))
	}
	return out, nil
}

func parseFlowsValue(base Event, raw json.RawMessage, path string) ([]waflow.InboxEvent, error) {
	if !isObject(raw) {
		return nil, shapeErr(path, "want an object")
	}
	fe, err := decodeFlowsEvent(raw)
	if err != nil {
		return nil, shapeErr(path, "%s", err)
	}
	base.Value = raw
	if fe.Event == "" || fe.FlowID == "" {
		return []waflow.InboxEvent{otherEvent(base)}, nil
	}
	// protocol.md 4.1: the same alert or status change, sent again, has the
	// same flow, event, time and state.
	state := fe.AlertState
	if state == "" {
		state = fe.NewStatus
	}
	key := fmt.Sprintf("flows:%s:%s:%d:%s", fe.FlowID, fe.Event, base.EntryTime, state)
	if base.EntryTime == 0 {
		// Without entry.time, two separate activations of one alert would
		// share a key and the second would be dropped as a duplicate: the
		// value itself (its figures differ) tells them apart.
		sum := sha256.Sum256(raw)
		key += ":" + hex.EncodeToString(sum[:8])
	}
	return []waflow.InboxEvent{inboxEvent(key, waflow.EventFlows, base)}, nil
}

func otherEvent(e Event) waflow.InboxEvent {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00", e.EntryID, e.EntryTime, e.Field)
	h.Write(e.Value)
	return inboxEvent("other:"+hex.EncodeToString(h.Sum(nil)), waflow.EventOther, e)
}

func inboxEvent(key string, kind waflow.EventKind, e Event) waflow.InboxEvent {
	// Messages are redacted by parseMessagesValue; a token anywhere else
	// (it has no reason to be there) is not stored in clear either.
	e.Metadata, e.Contacts = redactTokens(e.Metadata, nil), redactTokens(e.Contacts, nil)
	e.Status, e.Value = redactTokens(e.Status, nil), redactTokens(e.Value, nil)
	return waflow.InboxEvent{DedupeKey: key, Kind: kind, Payload: e.appendJSON(nil)}
}

// appendJSON encodes e as json.Marshal would, except that the raw parts are
// copied as WhatsApp sent them (they are pieces of a body already checked to
// be valid JSON), which saves re-validating and compacting them.
func (e *Event) appendJSON(b []byte) []byte {
	b = append(b, '{')
	sep := func() {
		if len(b) > 1 {
			b = append(b, ',')
		}
	}
	str := func(name, v string) {
		if v != "" {
			sep()
			q, _ := json.Marshal(v) // a string always marshals
			b = append(append(append(b, '"'), name...), '"', ':')
			b = append(b, q...)
		}
	}
	raw := func(name string, v json.RawMessage) {
		if len(v) > 0 {
			sep()
			b = append(append(append(b, '"'), name...), '"', ':')
			b = append(b, v...)
		}
	}
	str("object", e.Object)
	str("entry_id", e.EntryID)
	if e.EntryTime != 0 {
		sep()
		b = strconv.AppendInt(append(b, `"entry_time":`...), e.EntryTime, 10)
	}
	str("field", e.Field)
	raw("metadata", e.Metadata)
	raw("contacts", e.Contacts)
	raw("message", e.Message)
	raw("status", e.Status)
	raw("value", e.Value)
	return append(b, '}')
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func nullToNil(raw json.RawMessage) json.RawMessage {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	return raw
}

// jsonErrText describes a JSON error without quoting the input.
func jsonErrText(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "invalid JSON"
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%s: got a JSON %s, want %s", typ.Field, typ.Value, jsonKind(typ.Type.String()))
		}
		return fmt.Sprintf("got a JSON %s, want %s", typ.Value, jsonKind(typ.Type.String()))
	default:
		return err.Error()
	}
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "struct"), strings.HasPrefix(goType, "map"):
		return "an object"
	case goType == "string", strings.HasSuffix(goType, "flexString"):
		return "a string"
	default:
		return "a " + goType
	}
}

// flexString accepts a JSON string or number: Meta sends ids and
// timestamps as strings, and some documentation samples as numbers.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = flexString(b)
		return nil
	}
	return errors.New("want a string or a number")
}

// flexFloat accepts a JSON number, a numeric string or null (Meta documents
// error_rate as an integer and sends 14.28).
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Errorf("want a number")
	}
	*f = flexFloat(v)
	return nil
}

// flexInt accepts what flexFloat accepts and keeps the integer part.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var f flexFloat
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	if f > math.MaxInt64/2 || f < math.MinInt64/2 {
		return fmt.Errorf("number out of range")
	}
	*n = flexInt(f)
	return nil
}

// maxUnix bounds the Unix timestamps accepted (year 5138): anything larger
// is garbage, and would overflow time arithmetic.
const maxUnix = 1e11

func unixTime(s flexString) time.Time {
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || f <= 0 || f > maxUnix {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}
