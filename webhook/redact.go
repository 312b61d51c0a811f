package webhook

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/waflow/waflow/flowtoken"
)

// A completion carries its flow token, a live credential until it is used.
// The inbox stores the message for the worker, and the worker records
// response_json as the completion; neither needs the token itself, only its
// claims and the proof that it was issued here, which flowtoken.Redact's
// form keeps. So the receiver redacts a message before it is stored.

// tokenLike matches what may be a waflow flow token in a message's bytes:
// the prefix, a base64url payload and signature, and also a signature that
// starts with the redaction mark, so that one sent already redacted is
// redacted again (and then never verifies).
var tokenLike = regexp.MustCompile(`wf1\.[A-Za-z0-9_-]+\.~?[A-Za-z0-9_-]+`)

// redactMessage returns raw, a message, with every flow token in it
// replaced by flowtoken.Redact's form: each waflow token where it appears
// (the flow_token of response_json, or a copy of it in another field), and
// the flow_token of response_json whatever it holds (WhatsApp's "unused",
// another scheme's token, a token written with JSON escapes). msg is raw
// decoded; a message without an interactive part is returned as it is.
func redactMessage(raw json.RawMessage, msg *Message) json.RawMessage {
	// Tokens where they appear, byte for byte: the rest of the message is
	// kept as WhatsApp sent it.
	redacted := map[string]bool{}
	out := redactTokens(raw, redacted)
	if msg.Interactive == nil {
		return out
	}
	// Then the flow_token of response_json, if what the worker will read
	// from it is anything else (WhatsApp's "unused", another scheme's
	// token, a token written with JSON escapes). Keys are matched as
	// decodeMessage matches them (encoding/json folds case), so every
	// variant is redacted.
	keep := func(tok string) bool { return tok == "" || redacted[tok] }
	if keep(storedFlowToken(out)) {
		return out
	}
	if rewritten, ok := rewriteKey(out, "interactive", func(v json.RawMessage) (json.RawMessage, bool) {
		return rewriteKey(v, "nfm_reply", func(v json.RawMessage) (json.RawMessage, bool) {
			return rewriteKey(v, "response_json", func(v json.RawMessage) (json.RawMessage, bool) {
				return redactResponseJSON(v, keep)
			})
		})
	}); ok {
		out = rewritten
	}
	return out
}

// storedFlowToken returns the flow_token the worker will read from the
// message raw, or "" when it reads none.
func storedFlowToken(raw json.RawMessage) string {
	msg, err := decodeMessage(raw)
	if err != nil || msg.Interactive == nil || msg.Interactive.NFMReply == nil {
		return ""
	}
	r, err := ParseResponse(msg.Interactive.NFMReply.ResponseJSON)
	if err != nil {
		return ""
	}
	return r.FlowToken
}

// redactTokens returns raw with every string shaped as a waflow flow token
// replaced by its redacted form, adding the forms to redacted when it is not
// nil. The rest is kept byte for byte; without a token, raw itself is
// returned.
func redactTokens(raw json.RawMessage, redacted map[string]bool) json.RawMessage {
	if !bytes.Contains(raw, []byte("wf1.")) {
		return raw
	}
	return tokenLike.ReplaceAllFunc(raw, func(m []byte) []byte {
		s := string(m)
		r := flowtoken.Redact(s)
		if r == flowtoken.Redacted && !strings.Contains(s, ".~") {
			return m // not shaped as a token: some other text
		}
		if redacted != nil {
			redacted[r] = true
		}
		return []byte(r)
	})
}

// redactResponseJSON replaces the flow_token of v, a response_json (a JSON
// string holding an object, or an object), by its redacted form unless keep
// says it is one. ok is false when nothing changed.
func redactResponseJSON(v json.RawMessage, keep func(string) bool) (json.RawMessage, bool) {
	v = bytes.TrimSpace(v)
	quoted := len(v) > 0 && v[0] == '"'
	obj := []byte(v)
	if quoted {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, false
		}
		obj = []byte(s)
	}
	if !isObject(obj) {
		return nil, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(obj, &fields) != nil {
		return nil, false
	}
	var tok string
	if json.Unmarshal(fields["flow_token"], &tok) != nil || keep(tok) {
		return nil, false // absent, not a string (ParseResponse ignores it), or redacted
	}
	fields["flow_token"] = marshalJSON(flowtoken.Redact(tok))
	out := marshalJSON(fields)
	if quoted {
		out = marshalJSON(string(out))
	}
	return out, true
}

// rewriteKey applies f to the value of every key of the object raw that
// matches name as encoding/json matches a struct field (case folded), and
// encodes the object again when f changed one. ok is false when nothing
// changed.
func rewriteKey(raw json.RawMessage, name string, f func(json.RawMessage) (json.RawMessage, bool)) (json.RawMessage, bool) {
	if !isObject(raw) {
		return nil, false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil, false
	}
	changed := false
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			if nv, ok := f(v); ok {
				obj[k] = nv
				changed = true
			}
		}
	}
	if !changed {
		return nil, false
	}
	return marshalJSON(obj), true
}

// marshalJSON encodes v without escaping <, > and &, which WhatsApp's text
// does not escape either.
func marshalJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // strings, raw JSON already checked, and maps of them: it cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
