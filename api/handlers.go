package api

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
	"strings"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/httperr"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/responses"
)

// flowInfo is one flow of GET /api/v1/flows.
type flowInfo struct {
	Name       string   `json:"name"`
	Title      string   `json:"title"`
	Source     string   `json:"source"`
	Categories []string `json:"categories"`
	// Endpoint says whether the flow uses the data endpoint (false: a
	// static flow).
	Endpoint bool `json:"endpoint"`
}

func (a *API) listFlows(w http.ResponseWriter, r *http.Request, _ waflow.APIKey) {
	out := struct {
		Flows []flowInfo `json:"flows"`
	}{Flows: []flowInfo{}}
	for _, f := range a.cfg.Flows.Flows() {
		fi := flowInfo{Name: f.Name, Title: f.Title, Source: f.Origin, Categories: []string{}, Endpoint: f.UsesEndpoint()}
		if fi.Title == "" {
			fi.Title = f.Name
		}
		if fi.Source == "" {
			fi.Source = "library"
		}
		for _, c := range f.Categories {
			fi.Categories = append(fi.Categories, string(c))
		}
		if len(fi.Categories) == 0 {
			fi.Categories = []string{string(graph.CategoryOther)}
		}
		out.Flows = append(out.Flows, fi)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) flow(r *http.Request) (*registry.Flow, error) {
	name := r.PathValue("name")
	f := a.cfg.Flows.Flow(name)
	if f == nil {
		return nil, httperr.New(http.StatusNotFound, fmt.Sprintf("no flow named %q: GET /api/v1/flows lists them", name), nil).WithKind("no_such_flow")
	}
	return f, nil
}

// listResponses answers one page of a flow's responses, oldest first, and
// the cursor of the next page (null on the last). The page is read whole
// before anything is written, so a failing store is a 500, not a cut
// document.
func (a *API) listResponses(w http.ResponseWriter, r *http.Request, _ waflow.APIKey) {
	f, err := a.flow(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q, err := parseListQuery(a.cursors, f.Name, r.URL.Query())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page := make([]waflow.Completion, 0, q.Limit+1)
	for c, err := range a.cfg.Completions.EachCompletion(r.Context(), waflow.CompletionRange{
		Flow: f.Name, Since: q.Since, Until: q.Until, Status: q.Status, After: q.After, Limit: q.Limit + 1,
	}) {
		if err != nil {
			a.fail(w, r, fmt.Errorf("api: listing the responses of %s: %w", f.Name, err))
			return
		}
		page = append(page, c)
	}
	next := "null"
	if len(page) > q.Limit {
		page = page[:q.Limit]
		last := page[len(page)-1]
		next = `"` + a.cursors.issue(waflow.CompletionKey{ReceivedAt: last.ReceivedAt, MessageID: last.MessageID}, q.binding(f.Name)) + `"`
	}
	var buf bytes.Buffer
	buf.WriteString(`{"responses":`)
	rw, err := responses.NewWriter(&buf, responses.JSON, nil)
	if err == nil {
		for _, c := range page {
			if err = rw.Write(c); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = rw.Close()
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: writing the responses of %s: %w", f.Name, err))
		return
	}
	buf.Truncate(len(bytes.TrimRight(buf.Bytes(), "\n")))
	buf.WriteString(`,"next_cursor":` + next + "}\n")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (a *API) getResponse(w http.ResponseWriter, r *http.Request, _ waflow.APIKey) {
	id := r.PathValue("id")
	c, err := a.cfg.Completions.Completion(r.Context(), id)
	if errors.Is(err, waflow.ErrNotFound) {
		a.fail(w, r, httperr.New(http.StatusNotFound, "no response with this message id", nil).WithKind("no_such_response"))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: reading a response: %w", err))
		return
	}
	var buf bytes.Buffer
	rw, _ := responses.NewWriter(&buf, responses.JSONLines, nil) // a known format
	if err := rw.Write(c); err != nil {
		a.fail(w, r, fmt.Errorf("api: writing a response: %w", err))
		return
	}
	if err := rw.Close(); err != nil {
		a.fail(w, r, fmt.Errorf("api: writing a response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// TokenIssuer issues and records a flow token for a user
// (endpoint.StoreTokens is one).
type TokenIssuer interface {
	Issue(ctx context.Context, flow, waID string) (string, waflow.FlowToken, error)
}

// Outbox is what sending needs of the outbox (waflow.OutboxStore).
type Outbox interface {
	Enqueue(ctx context.Context, m waflow.OutboxMessage) (waflow.OutboxMessage, bool, error)
	OutboxMessageByKey(ctx context.Context, idempotencyKey string) (waflow.OutboxMessage, error)
}

// SendConfig is how POST /api/v1/flows/{name}/send sends: it issues a flow
// token, stores the flow message in the outbox and wakes the worker, which
// sends it (package outbox).
type SendConfig struct {
	Tokens TokenIssuer
	Outbox Outbox
	// Notify, when set, is called after a message is enqueued, to wake the
	// outbox worker.
	Notify func()
	// FlowID, when set, returns the Meta id of a deployed flow, or "" when
	// it is not known; the message names the flow otherwise (Meta accepts
	// either, protocol.md 5.1).
	FlowID func(ctx context.Context, flow string) string
}

func (s *SendConfig) check() error {
	if s.Tokens == nil || s.Outbox == nil {
		return errors.New("api: SendConfig needs Tokens and Outbox")
	}
	return nil
}

// MaxSendBody bounds the body of a send request.
const MaxSendBody = 64 << 10

// MaxIdempotencyKey bounds the Idempotency-Key header.
const MaxIdempotencyKey = 200

// sendRequest is the body of POST /api/v1/flows/{name}/send.
type sendRequest struct {
	To        string         `json:"to"`
	Recipient string         `json:"recipient"`
	Body      string         `json:"body"`
	CTA       string         `json:"cta"`
	Header    string         `json:"header"`
	Footer    string         `json:"footer"`
	Screen    string         `json:"screen"`
	Data      map[string]any `json:"data"`
	Draft     bool           `json:"draft"`
}

// sendAnswer is the 202 answer of a send.
type sendAnswer struct {
	OutboxMessageID int64  `json:"outbox_message_id"`
	FlowTokenID     string `json:"flow_token_id"`
	State           string `json:"state"`
}

func badRequest(msg string) *httperr.Error {
	return httperr.New(http.StatusBadRequest, msg, nil).WithKind("bad_request")
}

func (a *API) send(w http.ResponseWriter, r *http.Request, k waflow.APIKey) {
	s := a.cfg.Send
	if s == nil {
		a.fail(w, r, httperr.New(http.StatusServiceUnavailable, "sending is not configured on this server (set WAFLOW_GRAPH_TOKEN and WAFLOW_PHONE_NUMBER_ID)", nil).WithKind("send_unavailable"))
		return
	}
	f, err := a.flow(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		a.fail(w, r, httperr.New(http.StatusUnsupportedMediaType, "the body must be application/json", nil))
		return
	}
	idem := r.Header.Get("Idempotency-Key")
	if len(idem) > MaxIdempotencyKey {
		a.fail(w, r, badRequest(fmt.Sprintf("Idempotency-Key is %d bytes, at most %d", len(idem), MaxIdempotencyKey)))
		return
	}
	var req sendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxSendBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.fail(w, r, httperr.New(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", MaxSendBody), nil).WithKind("too_large"))
			return
		}
		a.fail(w, r, badRequest("the body is not a valid send request: "+describeJSONError(err)))
		return
	}
	if dec.More() {
		a.fail(w, r, badRequest("the body holds more than one JSON value"))
		return
	}
	if _, err := io.Copy(io.Discard, dec.Buffered()); err != nil {
		a.fail(w, r, err)
		return
	}
	m, err := a.message(r.Context(), f, req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := "api:" + k.ID + ":"
	if idem != "" {
		key += "key:" + idem
		if prev, err := s.Outbox.OutboxMessageByKey(r.Context(), key); err == nil {
			w.Header().Set("Idempotent-Replayed", "true")
			writeJSON(w, http.StatusAccepted, sendAnswer{prev.ID, prev.TokenID, string(prev.State)})
			return
		} else if !errors.Is(err, waflow.ErrNotFound) {
			a.fail(w, r, fmt.Errorf("api: reading the outbox: %w", err))
			return
		}
	} else {
		var b [16]byte
		rand.Read(b[:])
		key += "rand:" + hex.EncodeToString(b[:])
	}
	// The token records the phone number; a BSUID-only send leaves it empty
	// (unknown), so the completion is not checked against it.
	tok, rec, err := s.Tokens.Issue(r.Context(), f.Name, req.To)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: issuing a flow token for %s: %w", f.Name, err))
		return
	}
	m.Token = tok
	payload, err := graph.EncodeMessage(m)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: encoding a checked message: %w", err))
		return
	}
	to := req.To // the outbox's recipient: the phone number, else the BSUID
	if to == "" {
		to = req.Recipient
	}
	msg, created, err := s.Outbox.Enqueue(r.Context(), waflow.OutboxMessage{IdempotencyKey: key, To: to, TokenID: rec.ID, Payload: payload})
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: enqueueing a flow message of %s: %w", f.Name, err))
		return
	}
	if created && s.Notify != nil {
		s.Notify()
	}
	if !created {
		// A concurrent request with the same Idempotency-Key won; its
		// token is the one sent, this one expires unused.
		w.Header().Set("Idempotent-Replayed", "true")
	}
	a.log.Info("api: flow message queued", "flow", f.Name, "outbox_id", msg.ID, "key_id", k.ID)
	writeJSON(w, http.StatusAccepted, sendAnswer{msg.ID, msg.TokenID, string(msg.State)})
}

// message checks req against flow f and builds its flow message, without
// the token, as waflow send does.
func (a *API) message(ctx context.Context, f *registry.Flow, req sendRequest) (*graph.FlowMessage, error) {
	switch {
	case req.To == "" && req.Recipient == "":
		return nil, badRequest("to or recipient is required: the user's phone number, or their business-scoped user id (BSUID)")
	case req.To != "" && !isPhone(req.To):
		return nil, badRequest("to: want the user's WhatsApp id, a phone number with its country code, digits only (15550001111)")
	case req.Recipient != "" && !isBSUID(req.Recipient):
		return nil, badRequest("recipient: want a business-scoped user id (BSUID) as the webhook gives it, such as US.13491208655302741918")
	}
	m := &graph.FlowMessage{To: req.To, Recipient: req.Recipient, Body: req.Body, CTA: req.CTA, Header: req.Header, Footer: req.Footer, Screen: req.Screen, Data: req.Data}
	if m.CTA == "" {
		m.CTA = "Open"
	}
	if m.Body == "" {
		m.Body = f.Title
		if m.Body == "" {
			m.Body = "Please open the form."
		}
	}
	if req.Draft {
		m.Mode = graph.ModeDraft
	}
	if f.UsesEndpoint() {
		if m.Screen != "" || len(m.Data) > 0 {
			return nil, badRequest(f.Name + " uses the data endpoint, which answers INIT with the first screen: screen and data are for flows without one")
		}
		m.Action = graph.ActionDataExchange
	} else if len(m.Data) > 0 && m.Screen == "" {
		return nil, badRequest("data needs screen: the screen it is the data of")
	}
	if m.Screen != "" && f.Spec != nil && f.Spec.Screen(m.Screen) == nil {
		return nil, badRequest(fmt.Sprintf("screen %q is not a screen of %s", m.Screen, f.Name))
	}
	m.FlowName = f.Name
	if a.cfg.Send.FlowID != nil {
		if id := a.cfg.Send.FlowID(ctx, f.Name); id != "" {
			m.FlowID, m.FlowName = id, ""
		}
	}
	// Refuse a malformed message before a token is issued for it.
	check := *m
	check.Token = "check"
	if _, err := graph.EncodeMessage(&check); err != nil {
		return nil, badRequest(strings.TrimPrefix(err.Error(), graph.ErrInvalidRequest.Error()+": "))
	}
	return m, nil
}

func isPhone(s string) bool {
	if len(s) < 6 || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isBSUID reports whether s has the shape of a business-scoped user id: a
// country code, a period, and alphanumeric parts separated by periods (a
// parent BSUID has two: US.ENT.1181...), at most 150 characters.
func isBSUID(s string) bool {
	if len(s) < 4 || len(s) > 150 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] != '.' {
		return false
	}
	for _, part := range strings.Split(s[3:], ".") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
				return false
			}
		}
	}
	return true
}

// describeJSONError says what is wrong with a body without quoting it.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a %s", typ.Field, typ.Type.Kind())
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + ": want to, recipient, body, cta, header, footer, screen, data, draft"
	}
	return "invalid JSON"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v) // the API's own types always marshal
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
