package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// FlowStatus is the lifecycle state of a flow (protocol.md 5.3, 3.3).
type FlowStatus string

// Flow statuses. DRAFT → PUBLISHED → DEPRECATED; health monitoring moves a
// published flow to THROTTLED or BLOCKED and back.
const (
	StatusDraft      FlowStatus = "DRAFT"
	StatusPublished  FlowStatus = "PUBLISHED"
	StatusDeprecated FlowStatus = "DEPRECATED"
	StatusThrottled  FlowStatus = "THROTTLED"
	StatusBlocked    FlowStatus = "BLOCKED"
)

// Category is a flow category; a flow has at least one.
type Category string

// Flow categories Meta accepts at creation.
const (
	CategorySignUp             Category = "SIGN_UP"
	CategorySignIn             Category = "SIGN_IN"
	CategoryAppointmentBooking Category = "APPOINTMENT_BOOKING"
	CategoryLeadGeneration     Category = "LEAD_GENERATION"
	CategoryContactUs          Category = "CONTACT_US"
	CategoryCustomerSupport    Category = "CUSTOMER_SUPPORT"
	CategorySurvey             Category = "SURVEY"
	CategoryOther              Category = "OTHER"
)

// MaxFlowJSONSize is the largest Flow JSON asset Meta accepts (10 MB).
const MaxFlowJSONSize = 10 << 20

// ErrFlowNotFound is returned by FindFlowByName when no flow of the WABA has
// the name.
var ErrFlowNotFound = errors.New("graph: no flow with that name")

// ValidationError is one problem Meta found in a Flow JSON, as listed in
// validation_errors (protocol.md 5.3). Lines and columns are 1-based
// positions in the uploaded JSON text; 0 when Meta gave none.
type ValidationError struct {
	Code        string              `json:"error"`      // such as "INVALID_PROPERTY_VALUE"
	Type        string              `json:"error_type"` // such as "FLOW_JSON_ERROR", "JSON_SCHEMA_ERROR"
	Message     string              `json:"message"`
	LineStart   int                 `json:"line_start"`
	LineEnd     int                 `json:"line_end"`
	ColumnStart int                 `json:"column_start"`
	ColumnEnd   int                 `json:"column_end"`
	Pointers    []ValidationPointer `json:"pointers,omitempty"`
}

// ValidationPointer is one place a ValidationError points at, with its JSON
// path.
type ValidationPointer struct {
	LineStart   int    `json:"line_start"`
	LineEnd     int    `json:"line_end"`
	ColumnStart int    `json:"column_start"`
	ColumnEnd   int    `json:"column_end"`
	Path        string `json:"path"`
}

// String returns "LINE:COL: MESSAGE (CODE)", to be prefixed with a file name
// as in "flow.json:12:5: ..." (the form waflow validate prints).
func (v ValidationError) String() string {
	line, col := v.LineStart, v.ColumnStart
	if line == 0 && len(v.Pointers) > 0 {
		line, col = v.Pointers[0].LineStart, v.Pointers[0].ColumnStart
	}
	msg := v.Message
	if v.Code != "" {
		msg += " (" + v.Code + ")"
	}
	return fmt.Sprintf("%d:%d: %s", line, col, msg)
}

// Timestamp is a time in a Graph API answer. Graph writes
// "2006-01-02T15:04:05-0700" (no colon in the offset), which encoding/json's
// RFC 3339 parser refuses; RFC 3339 and Unix seconds are accepted too.
type Timestamp struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var n int64
	if json.Unmarshal(b, &n) == nil {
		// Years 1970 to 9999: anything else is not a Graph timestamp.
		if n < 0 || n > 253402300799 {
			return fmt.Errorf("graph: timestamp %d is out of range", n)
		}
		t.Time = time.Unix(n, 0).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("graph: timestamp %s: not a string or number", b)
	}
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("graph: timestamp %q: want 2006-01-02T15:04:05-0700", s)
}

// Preview is a flow's web preview (protocol.md 5.3).
type Preview struct {
	URL       string    `json:"preview_url"`
	ExpiresAt Timestamp `json:"expires_at"` // 30 days after creation
}

// Account is a reference to a WhatsApp Business Account.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Application is the Meta app connected to a flow; every endpoint flow needs
// one.
type Application struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Link string `json:"link"`
}

// HealthStatus says whether a flow can be sent and, if not, what blocks it.
type HealthStatus struct {
	CanSendMessage string         `json:"can_send_message"` // AVAILABLE, LIMITED or BLOCKED
	Entities       []HealthEntity `json:"entities"`
}

// HealthEntity is the sendability of one entity involved in sending a flow
// (the flow, the phone number, the WABA, the business, the app).
type HealthEntity struct {
	EntityType     string        `json:"entity_type"`
	ID             string        `json:"id"`
	CanSendMessage string        `json:"can_send_message"`
	Errors         []HealthIssue `json:"errors,omitempty"`
	AdditionalInfo []string      `json:"additional_info,omitempty"`
}

// HealthIssue is one reason an entity limits or blocks sending.
type HealthIssue struct {
	ErrorCode        int    `json:"error_code"`
	ErrorDescription string `json:"error_description"`
	PossibleSolution string `json:"possible_solution"`
}

// Flow is a flow as the Graph API describes it. Fields that were not asked
// for are zero.
type Flow struct {
	ID                      string            `json:"id"`
	Name                    string            `json:"name"`
	Status                  FlowStatus        `json:"status"`
	Categories              []Category        `json:"categories"`
	ValidationErrors        []ValidationError `json:"validation_errors"`
	JSONVersion             string            `json:"json_version"`
	DataAPIVersion          string            `json:"data_api_version"`
	EndpointURI             string            `json:"endpoint_uri"`
	Preview                 *Preview          `json:"preview"`
	WhatsAppBusinessAccount *Account          `json:"whatsapp_business_account"`
	Application             *Application      `json:"application"`
	HealthStatus            *HealthStatus     `json:"health_status"`
}

// FlowCreate describes a flow to create with CreateFlow.
type FlowCreate struct {
	Name       string     // unique in the WABA, required
	Categories []Category // at least one
	// FlowJSON is uploaded with the creation when set; otherwise upload it
	// later with UploadFlowJSON.
	FlowJSON []byte
	// Publish publishes at once when FlowJSON is valid.
	Publish     bool
	CloneFlowID string // copy an existing flow instead of starting empty
	EndpointURI string // the data endpoint, for Flow JSON 3.0 and later
}

// CreatedFlow is the answer to CreateFlow.
type CreatedFlow struct {
	ID               string
	ValidationErrors []ValidationError // of FlowJSON, if given
}

// FlowUpdate changes a flow's metadata with UpdateFlow. Empty fields are
// left as they are.
type FlowUpdate struct {
	Name          string     `json:"name,omitempty"`
	Categories    []Category `json:"categories,omitempty"`
	EndpointURI   string     `json:"endpoint_uri,omitempty"`
	ApplicationID string     `json:"application_id,omitempty"`
}

// flowCreateBody is the wire shape of POST /{WABA_ID}/flows.
type flowCreateBody struct {
	Name        string     `json:"name"`
	Categories  []Category `json:"categories"`
	FlowJSON    string     `json:"flow_json,omitempty"` // a string holding the JSON
	Publish     bool       `json:"publish,omitempty"`
	CloneFlowID string     `json:"clone_flow_id,omitempty"`
	EndpointURI string     `json:"endpoint_uri,omitempty"`
}

// CreateFlow creates a flow in the WhatsApp Business Account wabaID with
// POST /{WABA_ID}/flows. A second flow with the same name is refused by Meta
// with code 100. CreateFlow is not retried once Meta may have acted on it
// (see the package documentation): use FindFlowByName after an
// ErrOutcomeUnknown.
func (c *Client) CreateFlow(ctx context.Context, wabaID string, f FlowCreate) (*CreatedFlow, error) {
	op := fmt.Sprintf("create flow %q", f.Name)
	if err := checkID("WABA ID", wabaID); err != nil {
		return nil, fmt.Errorf("graph: %s: %w", op, err)
	}
	switch {
	case f.Name == "":
		return nil, fmt.Errorf("graph: create flow: %w", invalid("flow name is empty"))
	case len(f.Categories) == 0:
		return nil, fmt.Errorf("graph: %s: %w", op, invalid("a flow needs at least one category, such as %s", CategoryOther))
	}
	if f.FlowJSON != nil {
		if err := checkFlowJSON(f.FlowJSON); err != nil {
			return nil, fmt.Errorf("graph: %s: %w", op, err)
		}
	}
	cl, err := jsonCall(op, "POST", flowCreateBody{
		Name: f.Name, Categories: f.Categories, FlowJSON: string(f.FlowJSON),
		Publish: f.Publish, CloneFlowID: f.CloneFlowID, EndpointURI: f.EndpointURI,
	}, wabaID, "flows")
	if err != nil {
		return nil, err
	}
	cl.unsafe = true
	var r struct {
		ID               string            `json:"id"`
		ValidationErrors []ValidationError `json:"validation_errors"`
	}
	if err := c.do(ctx, cl, &r); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, fmt.Errorf("graph: %s: %w: no flow id in the answer", op, ErrUnexpectedResponse)
	}
	return &CreatedFlow{ID: r.ID, ValidationErrors: r.ValidationErrors}, nil
}

// checkFlowJSON refuses what Meta would refuse anyway, before sending it.
func checkFlowJSON(b []byte) error {
	if len(b) > MaxFlowJSONSize {
		return invalid("Flow JSON is %d bytes, Meta accepts at most %d", len(b), MaxFlowJSONSize)
	}
	if !json.Valid(b) {
		return invalid("Flow JSON is not valid JSON (run waflow validate for the position)")
	}
	return nil
}

// DefaultFlowFields are the fields GetFlow asks for (protocol.md 5.3).
var DefaultFlowFields = []string{
	"id", "name", "categories", "preview", "status", "validation_errors",
	"json_version", "data_api_version", "endpoint_uri",
	"whatsapp_business_account", "application", "health_status",
}

// GetFlowOptions refines GetFlow.
type GetFlowOptions struct {
	// PhoneNumberID narrows health_status to sending from that phone
	// number: health_status.phone_number(ID).
	PhoneNumberID string
	// Fields replaces DefaultFlowFields when not empty.
	Fields []string
}

// GetFlow returns a flow with GET /{FLOW_ID}?fields=..., including its
// validation_errors, preview and health_status. opts may be nil.
func (c *Client) GetFlow(ctx context.Context, flowID string, opts *GetFlowOptions) (*Flow, error) {
	op := "get flow " + flowID
	if err := checkID("flow ID", flowID); err != nil {
		return nil, fmt.Errorf("graph: get flow: %w", err)
	}
	fields := DefaultFlowFields
	if opts != nil && len(opts.Fields) > 0 {
		fields = opts.Fields
	}
	if opts != nil && opts.PhoneNumberID != "" {
		if err := checkID("phone number ID", opts.PhoneNumberID); err != nil {
			return nil, fmt.Errorf("graph: %s: %w", op, err)
		}
		fields = append([]string(nil), fields...)
		for i, f := range fields {
			if f == "health_status" {
				fields[i] = "health_status.phone_number(" + opts.PhoneNumberID + ")"
			}
		}
	}
	var f Flow
	cl := &call{op: op, method: "GET", segments: []string{flowID}, query: url.Values{"fields": {strings.Join(fields, ",")}}}
	if err := c.do(ctx, cl, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// listFields are the fields ListFlows asks for.
const listFields = "id,name,status,categories,validation_errors"

// maxListPages bounds how many pages ListFlows follows, so a server that
// keeps answering with a next cursor cannot hold it forever.
const maxListPages = 100

// ListFlows returns every flow of the WABA with GET /{WABA_ID}/flows,
// following the paging cursors.
func (c *Client) ListFlows(ctx context.Context, wabaID string) ([]Flow, error) {
	op := "list flows"
	if err := checkID("WABA ID", wabaID); err != nil {
		return nil, fmt.Errorf("graph: %s: %w", op, err)
	}
	var all []Flow
	after := ""
	for page := 0; page < maxListPages; page++ {
		q := url.Values{"fields": {listFields}}
		if after != "" {
			q.Set("after", after)
		}
		var r struct {
			Data   []Flow `json:"data"`
			Paging *struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.do(ctx, &call{op: op, method: "GET", segments: []string{wabaID, "flows"}, query: q}, &r); err != nil {
			return nil, err
		}
		all = append(all, r.Data...)
		// Graph sets "next" only when there is another page; the cursor
		// is followed on our base URL rather than the absolute next URL.
		if r.Paging == nil || r.Paging.Next == "" || r.Paging.Cursors.After == "" || r.Paging.Cursors.After == after || len(r.Data) == 0 {
			return all, nil
		}
		after = r.Paging.Cursors.After
	}
	return nil, fmt.Errorf("graph: %s: %w: more than %d pages", op, ErrUnexpectedResponse, maxListPages)
}

// FindFlowByName returns the flow of the WABA called name, or
// ErrFlowNotFound. Names are unique in a WABA.
func (c *Client) FindFlowByName(ctx context.Context, wabaID, name string) (*Flow, error) {
	flows, err := c.ListFlows(ctx, wabaID)
	if err != nil {
		return nil, err
	}
	for i := range flows {
		if flows[i].Name == name {
			return &flows[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrFlowNotFound, name)
}

// UpdateFlow changes a flow's metadata (name, categories, endpoint_uri,
// application) with POST /{FLOW_ID}. Setting the same values twice has the
// same effect as once, so it is retried like a read.
func (c *Client) UpdateFlow(ctx context.Context, flowID string, u FlowUpdate) error {
	op := "update flow " + flowID
	if err := checkID("flow ID", flowID); err != nil {
		return fmt.Errorf("graph: update flow: %w", err)
	}
	if u.Name == "" && len(u.Categories) == 0 && u.EndpointURI == "" && u.ApplicationID == "" {
		return fmt.Errorf("graph: %s: %w", op, invalid("nothing to update"))
	}
	if u.EndpointURI != "" {
		if p, err := url.Parse(u.EndpointURI); err != nil || p.Scheme != "https" || p.Host == "" {
			return fmt.Errorf("graph: %s: %w", op, invalid("endpoint URI %q: Meta calls only absolute https URLs", u.EndpointURI))
		}
	}
	cl, err := jsonCall(op, "POST", u, flowID)
	if err != nil {
		return err
	}
	return c.doSuccess(ctx, cl)
}

// UploadFlowJSON uploads flowJSON as the flow's Flow JSON asset with a
// multipart POST /{FLOW_ID}/assets (file "flow.json", asset_type FLOW_JSON)
// and returns the validation errors Meta found in it; an empty list means
// the JSON is valid for Meta. Uploading the same content again has the same
// effect, so it is retried like a read.
func (c *Client) UploadFlowJSON(ctx context.Context, flowID string, flowJSON []byte) ([]ValidationError, error) {
	op := "upload Flow JSON of flow " + flowID
	if err := checkID("flow ID", flowID); err != nil {
		return nil, fmt.Errorf("graph: upload Flow JSON: %w", err)
	}
	if err := checkFlowJSON(flowJSON); err != nil {
		return nil, fmt.Errorf("graph: %s: %w", op, err)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("name", "flow.json")
	_ = w.WriteField("asset_type", "FLOW_JSON")
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="flow.json"`)
	h.Set("Content-Type", "application/json")
	part, _ := w.CreatePart(h)
	_, _ = part.Write(flowJSON) // writes to a bytes.Buffer cannot fail
	_ = w.Close()
	cl := &call{op: op, method: "POST", segments: []string{flowID, "assets"}, body: buf.Bytes(), contentType: w.FormDataContentType()}
	var r struct {
		Success          bool              `json:"success"`
		ValidationErrors []ValidationError `json:"validation_errors"`
	}
	if err := c.do(ctx, cl, &r); err != nil {
		return nil, err
	}
	if !r.Success {
		return nil, fmt.Errorf("graph: %s: %w: Meta answered without \"success\": true", op, ErrUnexpectedResponse)
	}
	return r.ValidationErrors, nil
}

// PublishFlow publishes a DRAFT flow with POST /{FLOW_ID}/publish. A refusal
// is an *Error with code 139002 whose UserMessage says why (see
// IsPublishRefused).
func (c *Client) PublishFlow(ctx context.Context, flowID string) error {
	return c.flowAction(ctx, "publish", "POST", flowID, "publish")
}

// DeprecateFlow deprecates a PUBLISHED flow with POST /{FLOW_ID}/deprecate;
// it can no longer be sent or opened. Other statuses fail with 139003.
func (c *Client) DeprecateFlow(ctx context.Context, flowID string) error {
	return c.flowAction(ctx, "deprecate", "POST", flowID, "deprecate")
}

// DeleteFlow deletes a DRAFT flow with DELETE /{FLOW_ID}. A published flow
// fails with 139004.
func (c *Client) DeleteFlow(ctx context.Context, flowID string) error {
	return c.flowAction(ctx, "delete", "DELETE", flowID, "")
}

// flowAction runs one of the state changes. They are not retried once Meta
// may have acted: a repeat would fail where the first attempt succeeded
// (publishing a flow that is no longer a draft).
func (c *Client) flowAction(ctx context.Context, verb, method, flowID, edge string) error {
	op := verb + " flow " + flowID
	if err := checkID("flow ID", flowID); err != nil {
		return fmt.Errorf("graph: %s flow: %w", verb, err)
	}
	segs := []string{flowID}
	if edge != "" {
		segs = append(segs, edge)
	}
	return c.doSuccess(ctx, &call{op: op, method: method, segments: segs, unsafe: true})
}

// FlowPreview returns the flow's web preview with GET
// /{FLOW_ID}?fields=preview.invalidate(BOOL). invalidate makes a new URL and
// revokes the old one.
func (c *Client) FlowPreview(ctx context.Context, flowID string, invalidate bool) (*Preview, error) {
	op := "get preview of flow " + flowID
	if err := checkID("flow ID", flowID); err != nil {
		return nil, fmt.Errorf("graph: get flow preview: %w", err)
	}
	var r struct {
		Preview *Preview `json:"preview"`
	}
	q := url.Values{"fields": {fmt.Sprintf("preview.invalidate(%t)", invalidate)}}
	if err := c.do(ctx, &call{op: op, method: "GET", segments: []string{flowID}, query: q}, &r); err != nil {
		return nil, err
	}
	if r.Preview == nil || r.Preview.URL == "" {
		return nil, fmt.Errorf("graph: %s: %w: no preview_url in the answer", op, ErrUnexpectedResponse)
	}
	return r.Preview, nil
}

// PreviewParams are the interactive parameters of a preview link
// (protocol.md 5.3): with them the preview behaves like a sent message,
// calling the data endpoint.
type PreviewParams struct {
	FlowToken string     // flow_token sent to the endpoint
	Action    FlowAction // navigate or data_exchange; navigate when empty
	Screen    string     // entry screen, for navigate
	Data      map[string]any
	// PhoneNumber is the business phone number (not its id) whose public
	// key the preview encrypts to.
	PhoneNumber string
	Debug       bool // show the debug panel
}

// Link returns the preview URL with interactive=true and p's parameters
// added; flow_action_payload is JSON in the query.
func (p *Preview) Link(params PreviewParams) (string, error) {
	u, err := url.Parse(p.URL)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("graph: preview URL %q is not an absolute URL", p.URL)
	}
	q := u.Query()
	q.Set("interactive", "true")
	action := params.Action
	if action == "" {
		action = ActionNavigate
	}
	q.Set("flow_action", string(action))
	if params.FlowToken != "" {
		q.Set("flow_token", params.FlowToken)
	}
	if params.Screen != "" || len(params.Data) > 0 {
		if action != ActionNavigate {
			return "", invalid("a preview with %s cannot carry a screen or data", action)
		}
		if params.Screen == "" {
			return "", invalid("preview data needs an entry screen")
		}
		payload, err := json.Marshal(flowActionPayload{Screen: params.Screen, Data: params.Data})
		if err != nil {
			return "", fmt.Errorf("graph: preview payload: %w", err)
		}
		q.Set("flow_action_payload", string(payload))
	}
	if params.PhoneNumber != "" {
		q.Set("phone_number", params.PhoneNumber)
	}
	if params.Debug {
		q.Set("debug", "true")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// FlowAsset is one asset of a flow, as GET /{FLOW_ID}/assets lists it
// (protocol.md 5.3).
type FlowAsset struct {
	Name        string `json:"name"`
	AssetType   string `json:"asset_type"` // "FLOW_JSON"
	DownloadURL string `json:"download_url"`
}

// FlowAssets lists the assets of a flow. A read: retried like the others.
func (c *Client) FlowAssets(ctx context.Context, flowID string) ([]FlowAsset, error) {
	op := "list assets of flow " + flowID
	if err := checkID("flow ID", flowID); err != nil {
		return nil, fmt.Errorf("graph: list assets: %w", err)
	}
	var r struct {
		Data []FlowAsset `json:"data"`
	}
	if err := c.do(ctx, &call{op: op, method: "GET", segments: []string{flowID, "assets"}}, &r); err != nil {
		return nil, err
	}
	return r.Data, nil
}

// DownloadFlowJSON returns the Flow JSON Meta holds for a flow: its
// FLOW_JSON asset, fetched from the asset's download_url. The access token
// is sent with that download only when the URL is on the Graph API's host.
// Meta may return the JSON reformatted: compare values, not bytes.
func (c *Client) DownloadFlowJSON(ctx context.Context, flowID string) ([]byte, error) {
	assets, err := c.FlowAssets(ctx, flowID)
	if err != nil {
		return nil, err
	}
	for _, a := range assets {
		if a.AssetType != "FLOW_JSON" || a.DownloadURL == "" {
			continue
		}
		u, err := url.Parse(a.DownloadURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			shown, _, _ := strings.Cut(a.DownloadURL, "?") // a signed URL's query is a credential
			return nil, fmt.Errorf("graph: flow %s: %w: asset download_url %q is not an http(s) URL", flowID, ErrUnexpectedResponse, shown)
		}
		var raw json.RawMessage
		cl := &call{op: "download the Flow JSON of flow " + flowID, method: "GET", download: u}
		if err := c.do(ctx, cl, &raw); err != nil {
			return nil, err
		}
		if len(raw) > MaxFlowJSONSize {
			return nil, fmt.Errorf("graph: flow %s: %w: Flow JSON of %d bytes, more than %d", flowID, ErrUnexpectedResponse, len(raw), MaxFlowJSONSize)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("graph: flow %s: %w: no FLOW_JSON asset", flowID, ErrUnexpectedResponse)
}
