package main

import (
	"bytes"
	"encoding/json"
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
	"time"

	"github.com/waflow/waflow/keys"
)

// fakeGraph is a stateful stand-in for the Graph API on 127.0.0.1: flows
// (create, list, get, update, assets, publish, preview, metrics), messages
// and the business public key. It records every request and checks each
// one's method, path, headers and body against protocol.md sections 1.6
// and 5; a request of the wrong shape is answered 400 and listed by
// violations.
type fakeGraph struct {
	srv     *httptest.Server
	token   string
	version string
	wabaID  string
	phoneID string

	mu         sync.Mutex
	log        []fakeRequest
	violations []string
	flows      map[string]*fakeFlow // by id
	nextID     int
	messages   []fakeMessage
	key        string // the business public key PEM, "" when none
	keyStatus  string
	injected   []fakeReply
	// metaErrors are the validation errors Meta reports for a flow's
	// uploads, by flow name.
	metaErrors map[string][]map[string]any
}

type fakeRequest struct {
	Method, Path string // Path without the version prefix
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// fakeFlow is a flow as the fake keeps it.
type fakeFlow struct {
	ID, Name    string
	Categories  []string
	Status      string
	JSON        []byte
	EndpointURI string
	Errors      []map[string]any
	Uploads     int
}

// fakeMessage is a message the fake accepted.
type fakeMessage struct {
	WAMID string
	Body  map[string]any
}

// fakeReply is a failure injected for the next request matching Method and
// Path (a regular expression over the path without version).
type fakeReply struct {
	Method, Path string
	Status       int
	Code         int
	UserMsg      string
	RetryAfter   string
	Hang         time.Duration
}

const (
	fakeToken   = "EAAG-fake-graph-token"
	fakeWABA    = "102290129340398"
	fakePhoneID = "106540352242922"
)

func newFakeGraph() *fakeGraph {
	f := &fakeGraph{token: fakeToken, version: "v25.0", wabaID: fakeWABA, phoneID: fakePhoneID,
		flows: map[string]*fakeFlow{}, nextID: 9100001, metaErrors: map[string][]map[string]any{}}
	// Only 127.0.0.1: the tests never listen on other interfaces.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	f.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(f.serve)}}
	f.srv.Start()
	return f
}

func (f *fakeGraph) Close() { f.srv.Close() }

func (f *fakeGraph) URL() string { return f.srv.URL }

// inject makes the next request matching method and path fail.
func (f *fakeGraph) inject(r fakeReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.injected = append(f.injected, r)
}

// requests returns "METHOD PATH" of every request so far.
func (f *fakeGraph) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.log {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (f *fakeGraph) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = nil
}

func (f *fakeGraph) violationList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.violations...)
}

func (f *fakeGraph) flowByName(name string) *fakeFlow {
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

func (f *fakeGraph) sentMessages() []fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMessage(nil), f.messages...)
}

// addFlow puts a flow on the fake as if another machine had deployed it.
func (f *fakeGraph) addFlow(name, status string, src []byte, endpointURI string) *fakeFlow {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := &fakeFlow{ID: fmt.Sprint(f.nextID), Name: name, Categories: []string{"OTHER"}, Status: status, JSON: src, EndpointURI: endpointURI}
	f.nextID++
	f.flows[fl.ID] = fl
	return fl
}

func (f *fakeGraph) setToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = token
}

func (f *fakeGraph) addMetaError(flow string, e map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.metaErrors[flow] = append(f.metaErrors[flow], e)
}

func (f *fakeGraph) fullLog() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.log...)
}

func (f *fakeGraph) currentKey() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.key
}

func (f *fakeGraph) setKey(pemText, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.key, f.keyStatus = pemText, status
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
)

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.URL.Path, "/download/") {
		f.download(w, r)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/"+f.version)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fakeRequest{Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
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

func (f *fakeGraph) sortedFlows() []*fakeFlow {
	var out []*fakeFlow
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
func (f *fakeGraph) createFlow(w http.ResponseWriter, r *http.Request, body []byte, bad func(string, ...any)) {
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
	fl := &fakeFlow{ID: fmt.Sprint(f.nextID), Name: req.Name, Categories: req.Categories, Status: "DRAFT"}
	f.nextID++
	f.flows[fl.ID] = fl
	writeJSON(w, 200, map[string]any{"id": fl.ID, "success": true, "validation_errors": []any{}})
}

func (f *fakeGraph) flowEdge(w http.ResponseWriter, r *http.Request, fl *fakeFlow, edge string, body []byte, bad func(string, ...any)) {
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
func (f *fakeGraph) getFlow(w http.ResponseWriter, r *http.Request, fl *fakeFlow, bad func(string, ...any)) {
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
		writeJSON(w, 200, map[string]any{"id": fl.ID, "name": fl.Name, "status": fl.Status, "categories": fl.Categories,
			"validation_errors": orEmpty(fl.Errors), "json_version": "7.3", "endpoint_uri": fl.EndpointURI,
			"health_status": map[string]any{"can_send_message": can, "entities": entities}})
	}
}

// uploadAsset: multipart POST /{FLOW_ID}/assets with file (application/json),
// name=flow.json and asset_type=FLOW_JSON (protocol.md 5.3).
func (f *fakeGraph) uploadAsset(w http.ResponseWriter, r *http.Request, fl *fakeFlow, body []byte, bad func(string, ...any)) {
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

func (f *fakeGraph) download(w http.ResponseWriter, r *http.Request) {
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
func (f *fakeGraph) sendMessage(w http.ResponseWriter, r *http.Request, body []byte, bad func(string, ...any)) {
	var m map[string]any
	if r.Method != "POST" || !wantContentType(r, "application/json") || json.Unmarshal(body, &m) != nil {
		bad("messages wants a JSON POST")
		return
	}
	if m["messaging_product"] != "whatsapp" || m["recipient_type"] != "individual" || m["to"] == "" {
		bad("message lacks messaging_product, recipient_type or to: %s", body)
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
	f.messages = append(f.messages, fakeMessage{WAMID: wamid, Body: m})
	writeJSON(w, 200, map[string]any{"messaging_product": "whatsapp",
		"contacts": []any{map[string]any{"input": m["to"], "wa_id": m["to"]}},
		"messages": []any{map[string]any{"id": wamid, "message_status": "accepted"}}})
}

// encryption: the business public key of a phone number (protocol.md 1.6).
func (f *fakeGraph) encryption(w http.ResponseWriter, r *http.Request, body []byte, bad func(string, ...any)) {
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
		if _, err := keys.ParsePublicKey([]byte(k)); err != nil {
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
