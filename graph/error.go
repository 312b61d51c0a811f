package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Graph API error codes that matter to WhatsApp Flows (protocol.md 3.3 and
// 5.3; Meta's "Error Codes" reference for Flows). Build logic on Code, not on
// the message text nor the HTTP status.
const (
	// CodeInvalidParameter (100): a parameter is wrong. For flows: the name
	// is not unique in the WABA, the Flow JSON version or data_api_version
	// is invalid, the flow does not exist, two clone sources were given,
	// or the endpoint_uri is invalid or set on Flow JSON before 3.0.
	CodeInvalidParameter = 100
	// CodeAccessToken (190): the access token is invalid or has expired.
	CodeAccessToken = 190

	// CodeBSUIDUnsupported (131062): a message addressed by business-scoped
	// user id (the recipient field) is of a kind Meta does not deliver to
	// one, such as an authentication template with a one-tap, zero-tap or
	// copy-code button; it needs the user's phone number (protocol.md 4.2).
	CodeBSUIDUnsupported = 131062

	// CodeFlowBlocked (132068): the flow is BLOCKED by health monitoring
	// (or, On-Prem, its public key is missing or invalid); it cannot be
	// sent and delivered copies cannot be opened.
	CodeFlowBlocked = 132068
	// CodeFlowThrottled (132069): the flow is THROTTLED; only 10 new flow
	// messages an hour can be sent until its endpoint metrics recover.
	CodeFlowThrottled = 132069

	// CodeFlowIntegrityBlocked (139000): blocked by an integrity check.
	CodeFlowIntegrityBlocked = 139000
	// CodeFlowUpdate (139001): the flow cannot be updated (published and
	// immutable in older API behaviour, Flow JSON processing error, or
	// endpoint_uri on Flow JSON before 3.0).
	CodeFlowUpdate = 139001
	// CodeFlowPublish (139002): publishing was refused; the reason is in
	// error_user_msg (not a draft, validation errors, missing endpoint_uri,
	// no phone number, missing signed public key, no connected app,
	// endpoint health check failed, WABA not subscribed to flows webhooks).
	CodeFlowPublish = 139002
	// CodeFlowDeprecate (139003): only a PUBLISHED flow can be deprecated.
	CodeFlowDeprecate = 139003
	// CodeFlowDelete (139004): only a DRAFT flow can be deleted.
	CodeFlowDelete = 139004
	// CodeMetricsThreshold (139006): the flow has fewer than 250 endpoint
	// requests, too few for the metrics API.
	CodeMetricsThreshold = 139006
)

// Error is an error answer of the Graph API:
//
//	{"error": {"message", "type", "code", "error_subcode", "error_user_title",
//	 "error_user_msg", "error_data": {"details"}, "is_transient", "fbtrace_id"}}
//
// Answers that are not in that shape (a proxy's HTML page) still become an
// Error, with HTTPStatus set and a Message quoting the start of the body.
type Error struct {
	HTTPStatus  int    // the HTTP status of the answer
	Code        int    // "code", see the Code constants
	Subcode     int    // "error_subcode"; deprecated by Meta since v16 but still sent
	Type        string // "type", such as "OAuthException"
	Message     string // "message", often "(#CODE) Title"
	UserTitle   string // "error_user_title"
	UserMessage string // "error_user_msg": for 139002 the reason publishing failed
	Details     string // "error_data.details": the Cloud API's explanation
	IsTransient bool   // "is_transient"
	FBTraceID   string // "fbtrace_id": quote it when asking Meta for help
	// RetryAfter is the wait the server asked for in a Retry-After header,
	// 0 when there was none.
	RetryAfter time.Duration
}

// Error returns Meta's message, the user-facing title and message, the codes,
// the trace id and, for the codes listed above, what to do about it.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph API error: ")
	b.WriteString(e.Message)
	if e.UserTitle != "" || e.UserMessage != "" {
		b.WriteString(": ")
		b.WriteString(e.UserTitle)
		if e.UserTitle != "" && e.UserMessage != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.UserMessage)
	}
	if e.Details != "" && e.Details != e.UserMessage && e.Details != e.Message {
		b.WriteString(" (")
		b.WriteString(e.Details)
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " [code %d", e.Code)
	if e.Subcode != 0 {
		fmt.Fprintf(&b, ", subcode %d", e.Subcode)
	}
	if e.Type != "" {
		fmt.Fprintf(&b, ", %s", e.Type)
	}
	fmt.Fprintf(&b, ", HTTP %d", e.HTTPStatus)
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, ", fbtrace_id %s", e.FBTraceID)
	}
	b.WriteString("]")
	if h := e.Hint(); h != "" {
		b.WriteString("; ")
		b.WriteString(h)
	}
	return b.String()
}

// Hint says in a sentence what to do about the codes this package names, and
// returns "" for the others.
func (e *Error) Hint() string {
	switch e.Code {
	case CodeAccessToken:
		return "the access token is invalid or has expired: configure a new system-user token"
	case CodeFlowThrottled:
		return "the flow is THROTTLED by health monitoring: at most 10 new flow messages an hour can be sent until the endpoint's error rate, latency and availability recover"
	case CodeFlowBlocked:
		return "the flow is BLOCKED: it cannot be sent until its endpoint health recovers; also check that the phone number's business public key is uploaded and signed (waflow keys check)"
	case CodeFlowPublish:
		return "publishing was refused for the reason above; fix it and publish again"
	case CodeFlowDeprecate:
		return "only a PUBLISHED flow can be deprecated"
	case CodeFlowDelete:
		return "only a DRAFT flow can be deleted; deprecate a published one instead"
	case CodeMetricsThreshold:
		return "metrics need at least 250 endpoint requests for this flow"
	}
	return ""
}

// errorBody is the JSON shape of a Graph API error answer. error_data is
// an object in current answers and a JSON-encoded string in older ones, so
// it is decoded in a second step.
type errorBody struct {
	Error *struct {
		Message        string          `json:"message"`
		Type           string          `json:"type"`
		Code           int             `json:"code"`
		ErrorSubcode   int             `json:"error_subcode"`
		ErrorUserTitle string          `json:"error_user_title"`
		ErrorUserMsg   string          `json:"error_user_msg"`
		IsTransient    bool            `json:"is_transient"`
		FBTraceID      string          `json:"fbtrace_id"`
		ErrorData      json.RawMessage `json:"error_data"`
	} `json:"error"`
}

// parseError turns a non-2xx answer into an *Error. It never fails: a body
// that is not a Graph error is quoted (shortened) in Message.
//
// The body is decoded once, with encoding/json's rules for every key (names
// matched case-insensitively, the last of duplicate keys wins). A field of
// an unexpected type ("code": "190") is left zero without losing the others:
// json.Unmarshal checks the whole body's syntax first, so an
// *json.UnmarshalTypeError means the rest was decoded.
func parseError(status int, hdr http.Header, body []byte) *Error {
	e := &Error{HTTPStatus: status, RetryAfter: parseRetryAfter(hdr.Get("Retry-After"), time.Now())}
	var eb errorBody
	err := json.Unmarshal(body, &eb)
	var typeErr *json.UnmarshalTypeError
	if (err != nil && !errors.As(err, &typeErr)) || eb.Error == nil {
		e.Message = fmt.Sprintf("HTTP %d %s with a body that is not a Graph API error: %q",
			status, http.StatusText(status), shorten(body, 200))
		return e
	}
	g := eb.Error
	e.Message = g.Message
	e.Type = g.Type
	e.Code = g.Code
	e.Subcode = g.ErrorSubcode
	e.UserTitle = g.ErrorUserTitle
	e.UserMessage = g.ErrorUserMsg
	e.IsTransient = g.IsTransient
	e.FBTraceID = g.FBTraceID
	if len(g.ErrorData) > 0 {
		var data struct {
			Details string `json:"details"`
		}
		if json.Unmarshal(g.ErrorData, &data) == nil && data.Details != "" {
			e.Details = data.Details
		} else {
			_ = json.Unmarshal(g.ErrorData, &e.Details) // the string form
		}
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	}
	return e
}

func shorten(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}

// CodeOf returns the Graph error code carried by err, or 0 when err holds no
// *Error.
func CodeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// IsThrottled reports whether err says the flow is THROTTLED (132069).
func IsThrottled(err error) bool { return CodeOf(err) == CodeFlowThrottled }

// IsBlocked reports whether err says the flow is BLOCKED (132068).
func IsBlocked(err error) bool { return CodeOf(err) == CodeFlowBlocked }

// IsBSUIDUnsupported reports whether err says the message cannot be sent to
// a business-scoped user id (131062): it needs the user's phone number, and
// sending it again unchanged fails the same way.
func IsBSUIDUnsupported(err error) bool { return CodeOf(err) == CodeBSUIDUnsupported }

// IsAccessTokenError reports whether err says the access token is invalid
// or expired (190).
func IsAccessTokenError(err error) bool { return CodeOf(err) == CodeAccessToken }

// IsPublishRefused reports whether err says publishing was refused (139002);
// the reason is in the Error's UserMessage.
func IsPublishRefused(err error) bool { return CodeOf(err) == CodeFlowPublish }

// IsMetricsThresholdNotReached reports whether err says the flow has too few
// endpoint requests for metrics (139006).
func IsMetricsThresholdNotReached(err error) bool { return CodeOf(err) == CodeMetricsThreshold }

// IsTemporary reports whether the operation that returned err may succeed
// if repeated later, unchanged: Meta answered 429 or 5xx, or no answer
// arrived before the request was written. A worker that owns its own retry
// schedule (the outbox) uses it after the client's retries are spent.
//
// A THROTTLED flow (132069) is temporary too: sending is refused only until
// the hourly allowance frees up, so a later attempt can succeed.
//
// It is false for an error wrapping ErrOutcomeUnknown (repeating may do it
// twice), for Meta's other refusals (4xx: they fail the same way again), and
// for requests refused before sending or cancelled by the caller.
func IsTemporary(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, ErrOutcomeUnknown),
		errors.Is(err, ErrInvalidRequest),
		errors.Is(err, ErrInvalidID),
		errors.Is(err, ErrNoAccessToken),
		errors.Is(err, ErrUnexpectedResponse),
		errors.Is(err, ErrFlowNotFound),
		errors.Is(err, ErrNoPublicKey),
		errors.Is(err, context.Canceled):
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500 || e.Code == CodeFlowThrottled
	}
	return true // a network error or a timeout
}
