// Package graphtest is a fake of the Graph API (the WhatsApp Cloud API) for
// tests: an HTTP server on 127.0.0.1 that keeps flows (create, list, get,
// update, assets, publish, deprecate, delete, preview, metrics), accepts
// messages, keeps message templates with a FLOW button, holds the business
// public key of a phone number and the apps
// subscribed to the WABA, as protocol.md sections 1.6, 3.3 and 5 describe
// them.
//
// It checks every request's method, path, headers and body; a request of
// the wrong shape is answered 400 and listed by [Server.Violations], so a
// test can fail on a client that drifted from the protocol. A test makes
// the next matching request fail with [Server.Inject].
//
// It exists to be imported by tests: it links net/http/httptest and
// testing, and must never be imported by a program.
package graphtest

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/graph"
)

// The fake's account: a graph.Client reaches it with Token, Version,
// WABAID and PhoneNumberID.
const (
	Token         = "EAAG-fake-graph-token"
	Version       = "v25.0"
	WABAID        = "102290129340398"
	PhoneNumberID = "106540352242922"
)

// FirstFlowID is the id of the first flow the fake creates; the next ones
// count up from it.
const FirstFlowID = 9100001

// Server is a stateful stand-in for the Graph API. It is safe for
// concurrent use.
type Server struct {
	srv     *httptest.Server
	version string
	wabaID  string
	phoneID string

	mu         sync.Mutex
	token      string
	log        []Request
	violations []string
	flows      map[string]*Flow // by id
	nextID     int
	messages   []Message
	key        string // the business public key PEM, "" when none
	keyStatus  string
	injected   []Reply
	// metaErrors are the validation errors Meta reports for a flow's
	// uploads, by flow name.
	metaErrors map[string][]map[string]any
	apps       []graph.Application // subscribed to the WABA
	clock      func() time.Time    // the Date header's clock; time.Now when nil
	health     map[string]string   // can_send_message by flow name, overriding the status's
	// bsuidRefused names the templates a send by BSUID is refused for
	// (131062), as Meta refuses authentication templates.
	bsuidRefused map[string]bool
	templates    map[string]*Template // by name
	nextTemplate int
}

// Request is one request the fake received.
type Request struct {
	Method, Path string // Path without the version prefix
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// Flow is a flow as the fake keeps it.
type Flow struct {
	ID, Name    string
	Categories  []string
	Status      string // DRAFT, PUBLISHED, DEPRECATED
	JSON        []byte // the Flow JSON uploaded last; nil before the first upload
	EndpointURI string
	Errors      []map[string]any // Meta's validation_errors of the last upload
	Uploads     int
}

// Message is a message the fake accepted.
type Message struct {
	WAMID string
	Body  map[string]any // the request body, decoded
}

// Reply is a failure injected for the next request matching Method and
// Path (a regular expression over the path without the version prefix,
// such as "/[0-9]+/assets").
type Reply struct {
	Method, Path string
	Status       int    // the HTTP status
	Code         int    // the Graph API error code
	UserMsg      string // error_user_msg, when not empty
	RetryAfter   string // the Retry-After header, when not empty
	// Hang, when positive, answers nothing for that long (or until the
	// client gives up) instead of failing.
	Hang time.Duration
}

// NewServer starts a fake Graph API on 127.0.0.1 with no flows, no
// messages and no key. Close it.
func NewServer() *Server {
	f := &Server{token: Token, version: Version, wabaID: WABAID, phoneID: PhoneNumberID,
		flows: map[string]*Flow{}, nextID: FirstFlowID, metaErrors: map[string][]map[string]any{}}
	// Only 127.0.0.1: tests never listen on other interfaces.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("graphtest: %v", err))
	}
	f.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(f.serve)}}
	f.srv.Start()
	return f
}

// New starts a fake Graph API that is closed when tb ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	f := NewServer()
	tb.Cleanup(f.Close)
	return f
}

// Close stops the server.
func (f *Server) Close() { f.srv.Close() }

// URL is the server's base URL, for graph.Options.BaseURL.
func (f *Server) URL() string { return f.srv.URL }

// Options returns client options that reach the fake: its URL, version
// and access token.
func (f *Server) Options() graph.Options {
	return graph.Options{BaseURL: f.URL(), Version: f.version, AccessToken: Token}
}

// Inject makes the next request matching r.Method and r.Path fail.
func (f *Server) Inject(r Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.injected = append(f.injected, r)
}

// Requests returns "METHOD PATH" of every request since the start or the
// last Reset, the path without the version prefix.
func (f *Server) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.log {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// Log returns every request since the start or the last Reset.
func (f *Server) Log() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.log...)
}

// Reset forgets the requests so far; flows, messages and the key stay.
func (f *Server) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = nil
}

// Violations lists the requests of the wrong shape so far, each with what
// was wrong.
func (f *Server) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.violations...)
}

// Flow returns a copy of the flow named name, or nil.
func (f *Server) Flow(name string) *Flow {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fl := range f.flows {
		if fl.Name == name {
			c := *fl
			return &c
		}
	}
	return nil
}

// Messages returns the messages accepted so far.
func (f *Server) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.messages...)
}

// AddFlow puts a flow on the fake as if another machine had deployed it,
// and returns a copy of it.
func (f *Server) AddFlow(name, status string, src []byte, endpointURI string) *Flow {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := &Flow{ID: fmt.Sprint(f.nextID), Name: name, Categories: []string{"OTHER"}, Status: status, JSON: src, EndpointURI: endpointURI}
	f.nextID++
	f.flows[fl.ID] = fl
	c := *fl
	return &c
}

// SetToken makes token the only access token accepted: the others are
// answered as expired (code 190).
func (f *Server) SetToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = token
}

// AddMetaError adds a validation error (the JSON object of one of Meta's
// validation_errors) that Meta reports on every upload of flow.
func (f *Server) AddMetaError(flow string, e map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.metaErrors[flow] = append(f.metaErrors[flow], e)
}

// Key returns the business public key (PEM) the fake holds, "" when none.
func (f *Server) Key() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.key
}

// SetKey sets the business public key and its signature status (VALID,
// MISMATCH); an empty pemText removes it.
func (f *Server) SetKey(pemText, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.key, f.keyStatus = pemText, status
}

// SubscribeApp subscribes an app to the WABA's webhooks, as POST
// /{WABA_ID}/subscribed_apps with that app's token would.
func (f *Server) SubscribeApp(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apps = append(f.apps, graph.Application{ID: id, Name: name, Link: "https://www.example.com/"})
}

// SetClock makes the fake answer with a Date header from now (a skewed
// clock, say); nil restores the server's own.
func (f *Server) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = now
}

// RefuseBSUID makes a send of template name to a business-scoped user id
// (the recipient field) fail with 131062, as Meta answers for an
// authentication template with a one-tap, zero-tap or copy-code button.
func (f *Server) RefuseBSUID(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bsuidRefused == nil {
		f.bsuidRefused = map[string]bool{}
	}
	f.bsuidRefused[name] = true
}

func templateName(m map[string]any) string {
	t, _ := m["template"].(map[string]any)
	name, _ := t["name"].(string)
	return name
}

// SetFlowHealth makes the health_status of the flow named name say
// canSend (AVAILABLE, LIMITED, BLOCKED) whatever its status; "" restores
// the one its status gives.
func (f *Server) SetFlowHealth(name, canSend string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.health == nil {
		f.health = map[string]string{}
	}
	f.health[name] = canSend
}

// subscribedApps: GET /{WABA_ID}/subscribed_apps lists the apps; POST
// subscribes the app of the token (named "waflow test app" here).
func (f *Server) subscribedApps(w http.ResponseWriter, r *http.Request, waba string, bad func(string, ...any)) {
	if waba != f.wabaID {
		graphError(w, 400, 100, "Unsupported request: WABA "+waba+" does not exist", "")
		return
	}
	switch r.Method {
	case "GET":
		data := []any{}
		for _, a := range f.apps {
			data = append(data, map[string]any{"whatsapp_business_api_data": map[string]any{"id": a.ID, "name": a.Name, "link": a.Link}})
		}
		writeJSON(w, 200, map[string]any{"data": data})
	case "POST":
		f.apps = append(f.apps, graph.Application{ID: "1000000000001", Name: "waflow test app", Link: "https://www.example.com/"})
		writeJSON(w, 200, map[string]any{"success": true})
	default:
		bad("unexpected method")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func graphError(w http.ResponseWriter, status, code int, msg, userMsg string) {
	e := map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AFakeTrace42"}
	if userMsg != "" {
		e["error_user_title"] = "Request failed"
		e["error_user_msg"] = userMsg
	}
	writeJSON(w, status, map[string]any{"error": e})
}

var (
	flowEdgeRE = regexp.MustCompile(`^/([0-9]+)(/(assets|publish|deprecate))?$`)
	wabaFlows  = regexp.MustCompile(`^/([0-9]+)/flows$`)
	phoneEdge  = regexp.MustCompile(`^/([0-9]+)/(messages|whatsapp_business_encryption)$`)
	wabaApps   = regexp.MustCompile(`^/([0-9]+)/subscribed_apps$`)
)

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.URL.Path, "/download/") {
		f.download(w, r)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/"+f.version)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clock != nil {
		w.Header().Set("Date", f.clock().UTC().Format(http.TimeFormat))
	}
	f.log = append(f.log, Request{Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	bad := func(format string, args ...any) {
		msg := fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, fmt.Sprintf(format, args...))
		f.violations = append(f.violations, msg)
		graphError(w, 400, 100, "fake graph: request of the wrong shape: "+msg, "")
	}
	if !ok {
		bad("no /%s/ version prefix", f.version)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		graphError(w, 401, 190, "Error validating access token: Session has expired on Tuesday, 01-Apr-25 10:00:00 PDT.", "")
		return
	}
	for i, in := range f.injected {
		if in.Method == r.Method && regexp.MustCompile("^"+in.Path+"$").MatchString(path) {
			f.injected = append(f.injected[:i], f.injected[i+1:]...)
			if in.Hang > 0 {
				f.mu.Unlock()
				select {
				case <-r.Context().Done():
				case <-time.After(in.Hang):
				}
				f.mu.Lock()
				return
			}
			if in.RetryAfter != "" {
				w.Header().Set("Retry-After", in.RetryAfter)
			}
			graphError(w, in.Status, in.Code, fmt.Sprintf("(#%d) injected failure", in.Code), in.UserMsg)
			return
		}
	}

	switch m := wabaFlows.FindStringSubmatch(path); {
	case m != nil && m[1] != f.wabaID:
		graphError(w, 400, 100, "Unsupported request: WABA "+m[1]+" does not exist", "")
	case m != nil && r.Method == "POST":
		f.createFlow(w, r, body, bad)
	case m != nil && r.Method == "GET":
		if r.URL.Query().Get("fields") == "" {
			bad("list flows without fields")
			return
		}
		var data []map[string]any
		for _, fl := range f.sortedFlows() {
			data = append(data, map[string]any{"id": fl.ID, "name": fl.Name, "status": fl.Status, "categories": fl.Categories, "validation_errors": orEmpty(fl.Errors)})
		}
		writeJSON(w, 200, map[string]any{"data": data, "paging": map[string]any{"cursors": map[string]any{"before": "b", "after": "a"}}})
	default:
		if m := wabaTemplates.FindStringSubmatch(path); m != nil {
			if m[1] != f.wabaID {
				graphError(w, 400, 100, "Unsupported request: WABA "+m[1]+" does not exist", "")
				return
			}
			f.templatesEdge(w, r, body, bad)
			return
		}
		if m := wabaApps.FindStringSubmatch(path); m != nil {
			f.subscribedApps(w, r, m[1], bad)
			return
		}
		if m := phoneEdge.FindStringSubmatch(path); m != nil {
			if m[1] != f.phoneID {
				graphError(w, 400, 100, "Unsupported request: phone number "+m[1]+" does not exist", "")
				return
			}
			if m[2] == "messages" {
				f.sendMessage(w, r, body, bad)
			} else {
				f.encryption(w, r, body, bad)
			}
			return
		}
		if m := flowEdgeRE.FindStringSubmatch(path); m != nil {
			fl := f.flows[m[1]]
			if fl == nil {
				graphError(w, 400, 100, "Unsupported get request. Object with ID '"+m[1]+"' does not exist", "")
				return
			}
			f.flowEdge(w, r, fl, m[3], body, bad)
			return
		}
		bad("no such edge")
	}
}

func orEmpty(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

func (f *Server) sortedFlows() []*Flow {
	var out []*Flow
	for _, fl := range f.flows {
		out = append(out, fl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func wantContentType(r *http.Request, want string) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == want
}

// createFlow: POST /{WABA_ID}/flows {name, categories[]} (protocol.md 5.3).
func (f *Server) createFlow(w http.ResponseWriter, r *http.Request, body []byte, bad func(string, ...any)) {
	var req struct {
		Name       string   `json:"name"`
		Categories []string `json:"categories"`
	}
	if !wantContentType(r, "application/json") || json.Unmarshal(body, &req) != nil || req.Name == "" || len(req.Categories) == 0 {
		bad("create flow wants JSON with name and categories, got %q", body)
		return
	}
	valid := map[string]bool{"SIGN_UP": true, "SIGN_IN": true, "APPOINTMENT_BOOKING": true, "LEAD_GENERATION": true, "CONTACT_US": true, "CUSTOMER_SUPPORT": true, "SURVEY": true, "OTHER": true}
	for _, c := range req.Categories {
		if !valid[c] {
			bad("unknown category %q", c)
			return
		}
	}
	for _, fl := range f.flows {
		if fl.Name == req.Name {
			graphError(w, 400, 100, "Invalid parameter", "Flow with the same name already exists in this account")
			return
		}
	}
	fl := &Flow{ID: fmt.Sprint(f.nextID), Name: req.Name, Categories: req.Categories, Status: "DRAFT"}
	f.nextID++
	f.flows[fl.ID] = fl
	writeJSON(w, 200, map[string]any{"id": fl.ID, "success": true, "validation_errors": []any{}})
}

func (f *Server) flowEdge(w http.ResponseWriter, r *http.Request, fl *Flow, edge string, body []byte, bad func(string, ...any)) {
	switch {
	case edge == "" && r.Method == "GET":
		f.getFlow(w, r, fl, bad)
	case edge == "" && r.Method == "POST":
		var u map[string]any
		if !wantContentType(r, "application/json") || json.Unmarshal(body, &u) != nil || len(u) == 0 {
			bad("update flow wants a JSON object, got %q", body)
			return
		}
		for k, v := range u {
			switch k {
			case "endpoint_uri":
				s, _ := v.(string)
				if !strings.HasPrefix(s, "https://") {
					graphError(w, 400, 100, "Invalid parameter", "The endpoint URI is invalid")
					return
				}
				fl.EndpointURI = s
			case "name", "categories", "application_id":
			default:
				bad("unknown flow field %q", k)
				return
			}
		}
		writeJSON(w, 200, map[string]any{"success": true})
	case edge == "" && r.Method == "DELETE":
		if fl.Status != "DRAFT" {
			graphError(w, 400, 139004, "Flow can't be deleted", "Only draft flows can be deleted")
			return
		}
		delete(f.flows, fl.ID)
		writeJSON(w, 200, map[string]any{"success": true})
	case edge == "assets" && r.Method == "POST":
		f.uploadAsset(w, r, fl, body, bad)
	case edge == "assets" && r.Method == "GET":
		var data []map[string]any
		if fl.JSON != nil {
			data = append(data, map[string]any{"name": "flow.json", "asset_type": "FLOW_JSON", "download_url": f.srv.URL + "/download/" + fl.ID})
		}
		writeJSON(w, 200, map[string]any{"data": data})
	case edge == "publish" && r.Method == "POST":
		if len(body) != 0 {
			bad("publish takes no body")
			return
		}
		switch {
		case fl.Status != "DRAFT":
			graphError(w, 400, 139002, "Publishing Flow failed", "Flow is not in draft status")
		case len(fl.Errors) > 0:
			graphError(w, 400, 139002, "Publishing Flow failed", "Flow JSON has validation errors")
		case bytes.Contains(fl.JSON, []byte(`"data_api_version"`)) && fl.EndpointURI == "":
			graphError(w, 400, 139002, "Publishing Flow failed", "Missing endpoint_uri: set the endpoint URI of the Flow before publishing")
		default:
			fl.Status = "PUBLISHED"
			writeJSON(w, 200, map[string]any{"success": true})
		}
	case edge == "deprecate" && r.Method == "POST":
		if fl.Status != "PUBLISHED" {
			graphError(w, 400, 139003, "Flow can't be deprecated", "Only published flows can be deprecated")
			return
		}
		fl.Status = "DEPRECATED"
		writeJSON(w, 200, map[string]any{"success": true})
	default:
		bad("unexpected method for this edge")
	}
}

// getFlow: GET /{FLOW_ID}?fields=... with the details, the preview or a
// metric (protocol.md 3.3 and 5.3).
func (f *Server) getFlow(w http.ResponseWriter, r *http.Request, fl *Flow, bad func(string, ...any)) {
	fields := r.URL.Query().Get("fields")
	switch {
	case fields == "":
		bad("get flow without fields")
	case strings.HasPrefix(fields, "preview.invalidate("):
		writeJSON(w, 200, map[string]any{"id": fl.ID, "preview": map[string]any{
			"preview_url": "https://business.facebook.com/wa/manage/flows/" + fl.ID + "/preview/?token=b9d6e2f1",
			"expires_at":  "2025-04-13T15:09:26+0000"}})
	case strings.HasPrefix(fields, "metric."):
		m := regexp.MustCompile(`^metric\.name\(([A-Z_]+)\)\.granularity\((DAY|HOUR|LIFETIME)\)(\.since\(\d{4}-\d\d-\d\d\))?(\.until\(\d{4}-\d\d-\d\d\))?$`).FindStringSubmatch(fields)
		if m == nil {
			bad("metric fields %q", fields)
			return
		}
		writeJSON(w, 200, map[string]any{"id": fl.ID, "metric": map[string]any{"name": m[1], "granularity": m[2], "data_points": []any{
			map[string]any{"timestamp": "2025-03-02T08:00:00+0000", "data": []any{map[string]any{"key": "value", "value": 287}}},
			map[string]any{"timestamp": "2025-03-01T08:00:00+0000", "data": []any{map[string]any{"key": "value", "value": 312}}},
		}}})
	default:
		for _, fd := range strings.Split(fields, ",") {
			known := map[string]bool{"id": true, "name": true, "categories": true, "preview": true, "status": true, "validation_errors": true,
				"json_version": true, "data_api_version": true, "endpoint_uri": true, "whatsapp_business_account": true, "application": true, "health_status": true}
			if !known[fd] && !regexp.MustCompile(`^health_status\.phone_number\([0-9]+\)$`).MatchString(fd) {
				bad("unknown flow field %q", fd)
				return
			}
		}
		can, entities := "AVAILABLE", []any{}
		if fl.Status != "PUBLISHED" {
			can = "BLOCKED"
			entities = append(entities, map[string]any{"entity_type": "FLOW", "id": fl.ID, "can_send_message": "BLOCKED",
				"errors": []any{map[string]any{"error_code": 139102, "error_description": "The flow is not published.", "possible_solution": "Publish the flow."}}})
		}
		if h := f.health[fl.Name]; h != "" && h != can {
			can = h
			entities = append(entities, map[string]any{"entity_type": "PHONE_NUMBER", "id": f.phoneID, "can_send_message": h,
				"errors": []any{map[string]any{"error_code": 141006, "error_description": "The phone number's messaging limit is reached.", "possible_solution": "Wait for the limit to reset."}}})
		}
		writeJSON(w, 200, map[string]any{"id": fl.ID, "name": fl.Name, "status": fl.Status, "categories": fl.Categories,
			"validation_errors": orEmpty(fl.Errors), "json_version": "7.3", "endpoint_uri": fl.EndpointURI,
			"health_status": map[string]any{"can_send_message": can, "entities": entities}})
	}
}

// uploadAsset: multipart POST /{FLOW_ID}/assets with file (application/json),
// name=flow.json and asset_type=FLOW_JSON (protocol.md 5.3).
func (f *Server) uploadAsset(w http.ResponseWriter, r *http.Request, fl *Flow, body []byte, bad func(string, ...any)) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		bad("upload wants multipart/form-data, got %q", r.Header.Get("Content-Type"))
		return
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	fields := map[string]string{}
	var file []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad("multipart: %v", err)
			return
		}
		b, _ := io.ReadAll(p)
		if p.FormName() == "file" {
			if p.FileName() == "" || p.Header.Get("Content-Type") != "application/json" {
				bad("file part wants a file name and application/json")
				return
			}
			file = b
		} else {
			fields[p.FormName()] = string(b)
		}
	}
	if fields["name"] != "flow.json" || fields["asset_type"] != "FLOW_JSON" || !json.Valid(file) {
		bad("upload wants name=flow.json, asset_type=FLOW_JSON and a JSON file; got %v", fields)
		return
	}
	fl.JSON = file
	fl.Uploads++
	fl.Errors = f.metaErrors[fl.Name]
	if fl.Status == "PUBLISHED" {
		fl.Status = "DRAFT" // editing a published flow makes a new draft
	}
	writeJSON(w, 200, map[string]any{"success": true, "validation_errors": orEmpty(fl.Errors)})
}

func (f *Server) download(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, "bad token", http.StatusForbidden)
		return
	}
	fl := f.flows[strings.TrimPrefix(r.URL.Path, "/download/")]
	if fl == nil || fl.JSON == nil {
		http.NotFound(w, r)
		return
	}
	// Meta's copy need not keep our formatting.
	var v any
	json.Unmarshal(fl.JSON, &v)
	json.NewEncoder(w).Encode(v)
}

// sendMessage: POST /{PHONE_NUMBER_ID}/messages with an interactive flow
// message (protocol.md 5.1).
func (f *Server) sendMessage(w http.ResponseWriter, r *http.Request, body []byte, bad func(string, ...any)) {
	var m map[string]any
	if r.Method != "POST" || !wantContentType(r, "application/json") || json.Unmarshal(body, &m) != nil {
		bad("messages wants a JSON POST")
		return
	}
	to, _ := m["to"].(string)
	recipient, _ := m["recipient"].(string)
	if m["messaging_product"] != "whatsapp" || m["recipient_type"] != "individual" || (to == "" && recipient == "") {
		bad("message lacks messaging_product, recipient_type or to (or recipient): %s", body)
		return
	}
	if to != "" && recipient != "" {
		// Meta takes to and ignores recipient: a client sending both
		// does not know which one reaches the user.
		bad("message has both to and recipient; Meta would send to the phone number: %s", body)
		return
	}
	if m["type"] == "template" && !f.checkTemplateSend(w, m, bad) {
		return
	}
	if recipient != "" && m["type"] == "template" && f.bsuidRefused[templateName(m)] {
		graphError(w, 400, 131062, "(#131062) Business-scoped User ID recipients are not supported for this message.", "")
		return
	}
	if m["type"] == "interactive" {
		in, _ := m["interactive"].(map[string]any)
		action, _ := in["action"].(map[string]any)
		p, _ := action["parameters"].(map[string]any)
		bodyText, _ := in["body"].(map[string]any)
		_, hasID := p["flow_id"]
		_, hasName := p["flow_name"]
		switch {
		case in["type"] != "flow" || action["name"] != "flow" || p == nil:
			bad("interactive flow message wants interactive.type and action.name \"flow\": %s", body)
			return
		case p["flow_message_version"] != "3":
			bad("flow_message_version must be \"3\": %s", body)
			return
		case hasID == hasName:
			bad("exactly one of flow_id and flow_name: %s", body)
			return
		case p["flow_cta"] == nil || bodyText["text"] == nil:
			bad("flow_cta and body.text are required: %s", body)
			return
		case p["mode"] != "draft" && p["mode"] != "published":
			bad("mode: %s", body)
			return
		case p["flow_action"] == "data_exchange" && p["flow_action_payload"] != nil:
			bad("flow_action_payload only with navigate: %s", body)
			return
		}
		if id, _ := p["flow_id"].(string); hasID && f.flows[id] == nil {
			graphError(w, 400, 131009, "(#131009) Parameter value is not valid", "Flow with the given id does not exist")
			return
		}
	}
	wamid := fmt.Sprintf("wamid.HBgLMTU1NTAwMDExMTEVAgARGBI%03d", len(f.messages)+1)
	f.messages = append(f.messages, Message{WAMID: wamid, Body: m})
	contact := map[string]any{"input": to, "wa_id": to}
	if to == "" {
		// A send by BSUID: the answer names the user by it, without wa_id.
		contact = map[string]any{"input": recipient, "user_id": recipient}
	}
	writeJSON(w, 200, map[string]any{"messaging_product": "whatsapp",
		"contacts": []any{contact},
		"messages": []any{map[string]any{"id": wamid, "message_status": "accepted"}}})
}

// encryption: the business public key of a phone number (protocol.md 1.6).
func (f *Server) encryption(w http.ResponseWriter, r *http.Request, body []byte, bad func(string, ...any)) {
	switch r.Method {
	case "GET":
		var data []any
		if f.key != "" {
			data = append(data, map[string]any{"business_public_key": f.key, "business_public_key_signature_status": f.keyStatus})
		}
		writeJSON(w, 200, map[string]any{"data": orEmptyAny(data)})
	case "POST":
		form, err := url.ParseQuery(string(body))
		if !wantContentType(r, "application/x-www-form-urlencoded") || err != nil {
			bad("key upload wants a form, got %q", r.Header.Get("Content-Type"))
			return
		}
		k := form.Get("business_public_key")
		if !strings.HasPrefix(k, "-----BEGIN PUBLIC KEY-----") {
			bad("business_public_key must be an SPKI PEM")
			return
		}
		if err := checkPublicKey(k); err != nil {
			bad("business_public_key: %v", err)
			return
		}
		f.key, f.keyStatus = k, "VALID"
		writeJSON(w, 200, map[string]any{"success": true})
	default:
		bad("unexpected method")
	}
}

func orEmptyAny(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

// checkPublicKey checks that k is one PEM block holding an RSA public key
// in SPKI form.
func checkPublicKey(k string) error {
	block, _ := pem.Decode([]byte(k))
	if block == nil || block.Type != "PUBLIC KEY" {
		return fmt.Errorf("no PEM PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return err
	}
	if _, ok := pub.(*rsa.PublicKey); !ok {
		return fmt.Errorf("the key is %T, not RSA", pub)
	}
	return nil
}
