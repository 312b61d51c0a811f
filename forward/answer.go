package forward

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/waflow/waflow/endpoint"
)

// Error is a forward failure: the backend could not be reached in time, or
// its answer is not one (see Failure). Its Detail is safe to log: it never
// quotes the answer's values.
type Error struct {
	Failure Failure
	Status  int    // the backend's HTTP status; 0 when there was none
	Detail  string // what went wrong, without values
	Err     error  // the underlying error, when there is one; may quote the answer
}

// Error says what went wrong with the backend: the failure kind and its
// detail, never a value.
func (e *Error) Error() string {
	s := "forward: " + string(e.Failure) + ": " + e.Detail
	var ue *url.Error
	switch {
	case e.Err == nil, e.Failure == FailureNotJSON:
		// A JSON syntax error quotes a character of the answer; Detail
		// has its offset.
	case errors.As(e.Err, &ue):
		// Without the URL, whose query may hold a key.
		if ue.Err != nil && ue.Err.Error() != e.Detail {
			s += ": " + ue.Err.Error()
		}
	default:
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error (a timeout, a connection error).
func (e *Error) Unwrap() error { return e.Err }

// endpointError wraps e for the endpoint, which logs the kind of an error
// a handler returns, never its text (endpoint.Fail).
func (e *Error) endpointError() error {
	switch e.Failure {
	case FailureTimeout:
		return endpoint.Fail("forward: the backend did not answer in time", e)
	case FailureUnreachable:
		return endpoint.Fail("forward: the backend cannot be reached", e)
	case FailureStatus:
		return endpoint.Fail("forward: the backend answered an error status", e)
	case FailureTooLarge:
		return endpoint.Fail("forward: the backend's answer is too large", e)
	case FailureNotJSON:
		return endpoint.Fail("forward: the backend's answer is not JSON", e)
	default:
		return endpoint.Fail("forward: the backend's answer is not a flow answer", e)
	}
}

// ParseAnswer reads a backend's answer: its HTTP status and body, at most
// MaxAnswerBytes. flowToken is the request's token, added to a SUCCESS
// answer's params when the backend leaves it out.
//
// It returns the answer for a 200, a *endpoint.TokenError for a 427, and
// an *Error otherwise.
func ParseAnswer(status int, body []byte, flowToken string) (*endpoint.Response, error) {
	if len(body) > MaxAnswerBytes {
		return nil, &Error{Failure: FailureTooLarge, Status: status, Detail: fmt.Sprintf("answer over %d bytes", MaxAnswerBytes)}
	}
	switch status {
	case http.StatusOK:
	case endpoint.StatusTokenInvalid:
		return nil, tokenVerdict(body)
	default:
		return nil, &Error{Failure: FailureStatus, Status: status, Detail: fmt.Sprintf("status %d (want 200, or 427 for a token that is not valid)", status)}
	}
	top, err := decodeJSON(body)
	if err != nil {
		return nil, &Error{Failure: FailureNotJSON, Status: status, Detail: notJSONDetail(err), Err: err}
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, badAnswer(status, "not a JSON object")
	}
	for k := range obj {
		switch k {
		case "screen", "data", "version":
		default:
			return nil, badAnswer(status, fmt.Sprintf("unexpected key %q (an answer has screen, data and optionally version)", clip(k)))
		}
	}
	screen, ok := obj["screen"].(string)
	if !ok || screen == "" {
		return nil, badAnswer(status, "no screen (a non-empty string)")
	}
	if v, ok := obj["version"]; ok {
		if _, ok := v.(string); !ok {
			return nil, badAnswer(status, "version is not a string")
		}
	}
	var data map[string]any
	switch d := obj["data"].(type) {
	case nil:
	case map[string]any:
		data = d
	default:
		return nil, badAnswer(status, "data is not an object")
	}
	if screen == "SUCCESS" {
		if err := completeParams(data, flowToken); err != "" {
			return nil, badAnswer(status, err)
		}
	}
	return &endpoint.Response{Screen: screen, Data: data}, nil
}

// completeParams checks a SUCCESS answer's data and adds the flow token to
// its params when missing; it returns what is wrong, or "".
func completeParams(data map[string]any, flowToken string) string {
	emr, ok := data["extension_message_response"].(map[string]any)
	if !ok {
		return "SUCCESS without data.extension_message_response"
	}
	var params map[string]any
	switch p := emr["params"].(type) {
	case nil:
		params = map[string]any{}
		emr["params"] = params
	case map[string]any:
		params = p
	default:
		return "SUCCESS with extension_message_response.params that is not an object"
	}
	if _, ok := params["flow_token"]; !ok {
		params["flow_token"] = flowToken
	}
	return ""
}

// tokenVerdict reads a 427: {"error_msg": "..."} for the message shown,
// or an empty body for WhatsApp's generic one.
func tokenVerdict(body []byte) error {
	te := &endpoint.TokenError{Err: endpoint.Fail("forward: the backend rejected the flow token", nil)}
	if len(bytes.TrimSpace(body)) == 0 {
		return te
	}
	var v struct {
		ErrorMsg string `json:"error_msg"`
	}
	if json.Unmarshal(body, &v) == nil {
		te.Msg = v.ErrorMsg
	}
	return te
}

func badAnswer(status int, detail string) *Error {
	return &Error{Failure: FailureBadAnswer, Status: status, Detail: detail}
}

// decodeJSON decodes one JSON value, numbers kept as json.Number so that
// they reach WhatsApp as the backend wrote them.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailing
	}
	return v, nil
}

var errTrailing = errors.New("data after the JSON value")

// notJSONDetail describes a JSON error by its offset only: a syntax
// error's text quotes a character of the answer.
func notJSONDetail(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("not JSON (syntax error at byte %d)", se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "not JSON (empty or cut short)"
	case errors.Is(err, errTrailing):
		return "not JSON (data after the JSON value)"
	}
	return "not JSON"
}

// clip shortens a key for the log.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
