package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/graph"
)

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKey
}

func spkiPEM(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&testKey(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestOperations runs every operation once against the fake Graph API and
// checks the request's method, path, query, headers and body against the
// shapes of protocol.md section 5 (and 1.6, 3.3), and the decoded answer.
func TestOperations(t *testing.T) {
	t.Parallel()
	pubPEM := spkiPEM(t)
	flowJSON := []byte(`{"version":"7.3","screens":[{"id":"WELCOME","terminal":true,"layout":{"type":"SingleColumnLayout","children":[]}}]}`)

	cases := []struct {
		name        string
		reply       reply
		call        func(ctx context.Context, c *graph.Client) (any, error)
		method      string
		path        string
		query       url.Values
		contentType string // "" for no body
		body        string // JSON expected, when contentType is application/json
		checkBody   func(t *testing.T, r request)
		want        any
	}{
		{
			name:  "send flow message navigate",
			reply: ok(`{"messaging_product":"whatsapp","contacts":[{"input":"+49 151 1234","wa_id":"491511234"}],"messages":[{"id":"wamid.HBgLNDk=","message_status":"accepted"}]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.Send(ctx, "106540352242922", &graph.FlowMessage{
					To: "+49 151 1234", Header: "Book", Body: "Pick a time", Footer: "waflow",
					FlowID: "1234567890", CTA: "Book!", Token: "wf1.tok",
					Screen: "DATE_SELECTION", Data: map[string]any{"min_date": "2026-02-01"},
					ReplyTo: "wamid.prev",
				})
			},
			method: "POST", path: "/106540352242922/messages", contentType: "application/json",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+49 151 1234","type":"interactive",
				"context":{"message_id":"wamid.prev"},
				"interactive":{"type":"flow","header":{"type":"text","text":"Book"},"body":{"text":"Pick a time"},"footer":{"text":"waflow"},
				"action":{"name":"flow","parameters":{"flow_message_version":"3","flow_id":"1234567890","flow_cta":"Book!",
				"flow_token":"wf1.tok","mode":"published","flow_action":"navigate",
				"flow_action_payload":{"screen":"DATE_SELECTION","data":{"min_date":"2026-02-01"}}}}}}`,
			want: &graph.SendResult{MessageID: "wamid.HBgLNDk=", Status: "accepted", WAID: "491511234", Input: "+49 151 1234"},
		},
		{
			name:  "send flow message by name, draft, data_exchange",
			reply: ok(`{"messaging_product":"whatsapp","contacts":[{"input":"491511234","wa_id":"491511234"}],"messages":[{"id":"wamid.X"}]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.Send(ctx, "106540352242922", &graph.FlowMessage{
					To: "491511234", Body: "Expenses", FlowName: "expense_entry", CTA: "Open",
					Token: "wf1.t2", Mode: graph.ModeDraft, Action: graph.ActionDataExchange,
				})
			},
			method: "POST", path: "/106540352242922/messages", contentType: "application/json",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"491511234","type":"interactive",
				"interactive":{"type":"flow","body":{"text":"Expenses"},
				"action":{"name":"flow","parameters":{"flow_message_version":"3","flow_name":"expense_entry","flow_cta":"Open",
				"flow_token":"wf1.t2","mode":"draft","flow_action":"data_exchange"}}}}`,
			want: &graph.SendResult{MessageID: "wamid.X", WAID: "491511234", Input: "491511234"},
		},
		{
			name:  "send template with flow button",
			reply: ok(`{"messaging_product":"whatsapp","contacts":[{"input":"491511234","wa_id":"491511234"}],"messages":[{"id":"wamid.T","message_status":"accepted"}]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.Send(ctx, "106540352242922", &graph.TemplateMessage{
					To: "491511234", Name: "booking_invite", Language: "en_US",
					BodyParameters: []string{"Ada"},
					FlowButton:     &graph.FlowButton{Index: 0, Token: "wf1.t3", ActionData: map[string]any{"service": "haircut"}},
				})
			},
			method: "POST", path: "/106540352242922/messages", contentType: "application/json",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"491511234","type":"template",
				"template":{"name":"booking_invite","language":{"code":"en_US"},"components":[
				{"type":"body","parameters":[{"type":"text","text":"Ada"}]},
				{"type":"button","sub_type":"flow","index":"0","parameters":[{"type":"action",
				 "action":{"flow_token":"wf1.t3","flow_action_data":{"service":"haircut"}}}]}]}}`,
			want: &graph.SendResult{MessageID: "wamid.T", Status: "accepted", WAID: "491511234", Input: "491511234"},
		},
		{
			name:  "send text",
			reply: ok(`{"messaging_product":"whatsapp","contacts":[{"input":"491511234","wa_id":"491511234"}],"messages":[{"id":"wamid.Y"}]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.Send(ctx, "106540352242922", &graph.TextMessage{To: "491511234", Body: "Booked for Monday 10:00.", ReplyTo: "wamid.done"})
			},
			method: "POST", path: "/106540352242922/messages", contentType: "application/json",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"491511234","type":"text",
				"context":{"message_id":"wamid.done"},"text":{"preview_url":false,"body":"Booked for Monday 10:00."}}`,
			want: &graph.SendResult{MessageID: "wamid.Y", WAID: "491511234", Input: "491511234"},
		},
		{
			name:  "create flow",
			reply: ok(`{"id":"8812","success":true,"validation_errors":[]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.CreateFlow(ctx, "102290129340398", graph.FlowCreate{
					Name: "appointment_booking", Categories: []graph.Category{graph.CategoryAppointmentBooking},
					FlowJSON: flowJSON, EndpointURI: "https://flows.example.com/endpoint",
				})
			},
			method: "POST", path: "/102290129340398/flows", contentType: "application/json",
			body: `{"name":"appointment_booking","categories":["APPOINTMENT_BOOKING"],
				"flow_json":` + jsonString(string(flowJSON)) + `,"endpoint_uri":"https://flows.example.com/endpoint"}`,
			want: &graph.CreatedFlow{ID: "8812", ValidationErrors: []graph.ValidationError{}},
		},
		{
			name: "get flow",
			reply: ok(`{"id":"8812","name":"appointment_booking","categories":["APPOINTMENT_BOOKING"],
				"preview":{"preview_url":"https://business.facebook.com/wa/manage/flows/8812/preview/?token=abc","expires_at":"2026-12-26T11:18:09+0000"},
				"status":"DRAFT","validation_errors":[{"error":"INVALID_PROPERTY_VALUE","error_type":"FLOW_JSON_ERROR",
				"message":"Invalid value found for property 'type'.","line_start":10,"line_end":10,"column_start":21,"column_end":34,
				"pointers":[{"line_start":10,"line_end":10,"column_start":21,"column_end":34,"path":"screens[0].layout.children[0].type"}]}],
				"json_version":"7.3","data_api_version":"3.0","endpoint_uri":"https://flows.example.com/endpoint",
				"whatsapp_business_account":{"id":"102290129340398","name":"Salon"},
				"application":{"link":"https://example.com","name":"waflow","id":"634974688087057"},
				"health_status":{"can_send_message":"BLOCKED","entities":[{"entity_type":"FLOW","id":"8812","can_send_message":"BLOCKED",
				"errors":[{"error_code":139100,"error_description":"Flow is in draft","possible_solution":"Publish the flow"}]}]}}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.GetFlow(ctx, "8812", &graph.GetFlowOptions{PhoneNumberID: "106540352242922"})
			},
			method: "GET", path: "/8812",
			query: url.Values{"fields": {"id,name,categories,preview,status,validation_errors,json_version,data_api_version,endpoint_uri,whatsapp_business_account,application,health_status.phone_number(106540352242922)"}},
			want: &graph.Flow{
				ID: "8812", Name: "appointment_booking", Status: graph.StatusDraft,
				Categories: []graph.Category{graph.CategoryAppointmentBooking},
				ValidationErrors: []graph.ValidationError{{
					Code: "INVALID_PROPERTY_VALUE", Type: "FLOW_JSON_ERROR", Message: "Invalid value found for property 'type'.",
					LineStart: 10, LineEnd: 10, ColumnStart: 21, ColumnEnd: 34,
					Pointers: []graph.ValidationPointer{{LineStart: 10, LineEnd: 10, ColumnStart: 21, ColumnEnd: 34, Path: "screens[0].layout.children[0].type"}},
				}},
				JSONVersion: "7.3", DataAPIVersion: "3.0", EndpointURI: "https://flows.example.com/endpoint",
				Preview: &graph.Preview{
					URL:       "https://business.facebook.com/wa/manage/flows/8812/preview/?token=abc",
					ExpiresAt: graph.Timestamp{Time: time.Date(2026, 12, 26, 11, 18, 9, 0, time.FixedZone("", 0))},
				},
				WhatsAppBusinessAccount: &graph.Account{ID: "102290129340398", Name: "Salon"},
				Application:             &graph.Application{ID: "634974688087057", Name: "waflow", Link: "https://example.com"},
				HealthStatus: &graph.HealthStatus{CanSendMessage: "BLOCKED", Entities: []graph.HealthEntity{{
					EntityType: "FLOW", ID: "8812", CanSendMessage: "BLOCKED",
					Errors: []graph.HealthIssue{{ErrorCode: 139100, ErrorDescription: "Flow is in draft", PossibleSolution: "Publish the flow"}},
				}}},
			},
		},
		{
			name:  "list flows",
			reply: ok(`{"data":[{"id":"1","name":"a","status":"PUBLISHED","categories":["OTHER"],"validation_errors":[]}],"paging":{"cursors":{"before":"QVFI","after":"QVFI"}}}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.ListFlows(ctx, "102290129340398")
			},
			method: "GET", path: "/102290129340398/flows",
			query: url.Values{"fields": {"id,name,status,categories,validation_errors"}},
			want:  []graph.Flow{{ID: "1", Name: "a", Status: graph.StatusPublished, Categories: []graph.Category{graph.CategoryOther}, ValidationErrors: []graph.ValidationError{}}},
		},
		{
			name:  "update flow metadata",
			reply: ok(`{"success":true}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return nil, c.UpdateFlow(ctx, "8812", graph.FlowUpdate{EndpointURI: "https://flows.example.com/endpoint", ApplicationID: "634974688087057"})
			},
			method: "POST", path: "/8812", contentType: "application/json",
			body: `{"endpoint_uri":"https://flows.example.com/endpoint","application_id":"634974688087057"}`,
		},
		{
			name:  "upload flow json",
			reply: ok(`{"success":true,"validation_errors":[{"error":"MISSING_REQUIRED_PROPERTY","error_type":"JSON_SCHEMA_ERROR","message":"The property 'data_api_version' is required.","line_start":1,"line_end":1,"column_start":1,"column_end":2}]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.UploadFlowJSON(ctx, "8812", flowJSON)
			},
			method: "POST", path: "/8812/assets", contentType: "multipart/form-data",
			checkBody: func(t *testing.T, r request) {
				_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
				if err != nil {
					t.Fatal(err)
				}
				mr := multipart.NewReader(strings.NewReader(string(r.Body)), params["boundary"])
				fields := map[string]string{}
				for {
					p, err := mr.NextPart()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(p)
					if p.FormName() == "file" {
						if p.FileName() != "flow.json" || p.Header.Get("Content-Type") != "application/json" {
							t.Errorf("file part: filename %q, content type %q; want flow.json, application/json", p.FileName(), p.Header.Get("Content-Type"))
						}
					}
					fields[p.FormName()] = string(b)
				}
				want := map[string]string{"file": string(flowJSON), "name": "flow.json", "asset_type": "FLOW_JSON"}
				if d := cmp.Diff(want, fields); d != "" {
					t.Errorf("multipart fields (-want +got):\n%s", d)
				}
			},
			want: []graph.ValidationError{{Code: "MISSING_REQUIRED_PROPERTY", Type: "JSON_SCHEMA_ERROR", Message: "The property 'data_api_version' is required.", LineStart: 1, LineEnd: 1, ColumnStart: 1, ColumnEnd: 2}},
		},
		{
			name:   "publish flow",
			reply:  ok(`{"success":true}`),
			call:   func(ctx context.Context, c *graph.Client) (any, error) { return nil, c.PublishFlow(ctx, "8812") },
			method: "POST", path: "/8812/publish",
		},
		{
			name:   "deprecate flow",
			reply:  ok(`{"success":true}`),
			call:   func(ctx context.Context, c *graph.Client) (any, error) { return nil, c.DeprecateFlow(ctx, "8812") },
			method: "POST", path: "/8812/deprecate",
		},
		{
			name:   "delete flow",
			reply:  ok(`{"success":true}`),
			call:   func(ctx context.Context, c *graph.Client) (any, error) { return nil, c.DeleteFlow(ctx, "8812") },
			method: "DELETE", path: "/8812",
		},
		{
			name:  "flow preview",
			reply: ok(`{"preview":{"preview_url":"https://business.facebook.com/wa/manage/flows/8812/preview/?token=def","expires_at":"2026-12-26T11:18:09+0000"},"id":"8812"}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.FlowPreview(ctx, "8812", true)
			},
			method: "GET", path: "/8812", query: url.Values{"fields": {"preview.invalidate(true)"}},
			want: &graph.Preview{URL: "https://business.facebook.com/wa/manage/flows/8812/preview/?token=def", ExpiresAt: graph.Timestamp{Time: time.Date(2026, 12, 26, 11, 18, 9, 0, time.FixedZone("", 0))}},
		},
		{
			name: "flow metrics",
			reply: ok(`{"id":"8812","metric":{"granularity":"DAY","name":"ENDPOINT_REQUEST_ERROR","data_points":[
				{"timestamp":"2026-01-28T08:00:00+0000","data":[{"key":"timeout_error","value":3},{"key":"unexpected_http_status_code","value":1}]}]}}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.FlowMetrics(ctx, "8812", graph.MetricsRequest{
					Name: graph.MetricRequestError, Granularity: graph.GranularityDay,
					Since: time.Date(2026, 1, 28, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 1, 30, 23, 0, 0, 0, time.UTC),
				})
			},
			method: "GET", path: "/8812",
			query: url.Values{"fields": {"metric.name(ENDPOINT_REQUEST_ERROR).granularity(DAY).since(2026-01-28).until(2026-01-30)"}},
			want: &graph.Metric{Name: graph.MetricRequestError, Granularity: graph.GranularityDay, DataPoints: []graph.DataPoint{{
				Timestamp: graph.Timestamp{Time: time.Date(2026, 1, 28, 8, 0, 0, 0, time.FixedZone("", 0))},
				Data:      []graph.MetricValue{{Key: "timeout_error", Value: 3}, {Key: "unexpected_http_status_code", Value: 1}},
			}}},
		},
		{
			name:  "set business public key",
			reply: ok(`{"success":true}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return nil, c.SetBusinessPublicKey(ctx, "106540352242922", pubPEM)
			},
			method: "POST", path: "/106540352242922/whatsapp_business_encryption", contentType: "application/x-www-form-urlencoded",
			checkBody: func(t *testing.T, r request) {
				form, err := url.ParseQuery(string(r.Body))
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(url.Values{"business_public_key": {pubPEM}}, form); d != "" {
					t.Errorf("form (-want +got):\n%s", d)
				}
			},
		},
		{
			name:  "get business public key",
			reply: ok(`{"data":[{"business_public_key":` + jsonString(pubPEM) + `,"business_public_key_signature_status":"VALID"}]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.BusinessPublicKey(ctx, "106540352242922")
			},
			method: "GET", path: "/106540352242922/whatsapp_business_encryption",
			want: &graph.BusinessPublicKey{PEM: pubPEM, SignatureStatus: graph.SignatureValid},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, tc.reply)
			got, err := tc.call(t.Context(), s.client)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			r := s.fake.only(t)
			if r.Method != tc.method || r.Path != tc.path {
				t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, tc.method, tc.path)
			}
			if tc.query == nil {
				tc.query = url.Values{}
			}
			if d := cmp.Diff(tc.query, r.Query); d != "" {
				t.Errorf("query (-want +got):\n%s", d)
			}
			if a := r.Header.Get("Authorization"); a != "Bearer "+testToken {
				t.Errorf("Authorization = %q, want the bearer token", a)
			}
			ct := r.Header.Get("Content-Type")
			switch {
			case tc.contentType == "" && (ct != "" || len(r.Body) != 0):
				t.Errorf("Content-Type %q and %d body bytes, want no body", ct, len(r.Body))
			case tc.contentType != "" && !strings.HasPrefix(ct, tc.contentType):
				t.Errorf("Content-Type = %q, want %s", ct, tc.contentType)
			}
			if tc.body != "" {
				jsonEqual(t, "body", r.Body, tc.body)
			}
			if tc.checkBody != nil {
				tc.checkBody(t, r)
			}
			if tc.want != nil {
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("result (-want +got):\n%s", d)
				}
			}
		})
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestListFlowsFollowsCursors(t *testing.T) {
	t.Parallel()
	s := newSetup(t,
		ok(`{"data":[{"id":"1","name":"a"}],"paging":{"cursors":{"before":"B1","after":"A1"},"next":"https://graph.facebook.com/v25.0/102290129340398/flows?after=A1"}}`),
		ok(`{"data":[{"id":"2","name":"appointment_booking"}],"paging":{"cursors":{"before":"B2","after":"A2"}}}`),
	)
	f, err := s.client.FindFlowByName(t.Context(), "102290129340398", "appointment_booking")
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "2" {
		t.Errorf("found flow %q, want 2", f.ID)
	}
	reqs := s.fake.requests()
	if len(reqs) != 2 || reqs[0].Query.Get("after") != "" || reqs[1].Query.Get("after") != "A1" || reqs[1].Path != "/102290129340398/flows" {
		t.Fatalf("requests = %+v; want the second to follow cursor A1 on our base URL", reqs)
	}
}

func TestFindFlowByNameNotFound(t *testing.T) {
	t.Parallel()
	s := newSetup(t, ok(`{"data":[{"id":"1","name":"other"}]}`))
	_, err := s.client.FindFlowByName(t.Context(), "102290129340398", "appointment_booking")
	if !errors.Is(err, graph.ErrFlowNotFound) || !strings.Contains(err.Error(), "appointment_booking") {
		t.Fatalf("err = %v, want ErrFlowNotFound naming the flow", err)
	}
}

func TestBusinessPublicKeyShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       *graph.BusinessPublicKey
		wantErr    error
	}{
		{"flat", `{"business_public_key":"-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n","business_public_key_signature_status":"MISMATCH"}`,
			&graph.BusinessPublicKey{PEM: "-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n", SignatureStatus: graph.SignatureMismatch}, nil},
		{"wrapped", `{"data":[{"business_public_key":"K","business_public_key_signature_status":"VALID"}]}`,
			&graph.BusinessPublicKey{PEM: "K", SignatureStatus: graph.SignatureValid}, nil},
		{"none", `{"data":[]}`, nil, graph.ErrNoPublicKey},
		{"empty key", `{"data":[{"business_public_key":"","business_public_key_signature_status":"MISMATCH"}]}`, nil, graph.ErrNoPublicKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, ok(tc.body))
			got, err := s.client.BusinessPublicKey(t.Context(), "106540352242922")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("key (-want +got):\n%s", d)
			}
		})
	}
}

// TestRefusedBeforeSending checks that bad input gets a clear error and never
// reaches Meta.
func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&testKey(t).PublicKey)}))
	flow := func(mod func(*graph.FlowMessage)) *graph.FlowMessage {
		m := &graph.FlowMessage{To: "491511234", Body: "b", FlowID: "1", CTA: "Go", Token: "t"}
		mod(m)
		return m
	}
	send := func(m graph.Message) func(context.Context, *graph.Client) error {
		return func(ctx context.Context, c *graph.Client) error {
			_, err := c.Send(ctx, "106540352242922", m)
			return err
		}
	}
	cases := []struct {
		name    string
		call    func(context.Context, *graph.Client) error
		wantErr error
		wantMsg string
	}{
		{"no flow", send(flow(func(m *graph.FlowMessage) { m.FlowID = "" })), graph.ErrInvalidRequest, "flow id or a flow name"},
		{"id and name", send(flow(func(m *graph.FlowMessage) { m.FlowName = "x" })), graph.ErrInvalidRequest, "give one"},
		{"no recipient", send(flow(func(m *graph.FlowMessage) { m.To = "" })), graph.ErrInvalidRequest, "recipient"},
		{"no cta", send(flow(func(m *graph.FlowMessage) { m.CTA = "" })), graph.ErrInvalidRequest, "CTA"},
		{"no body", send(flow(func(m *graph.FlowMessage) { m.Body = "" })), graph.ErrInvalidRequest, "body"},
		{"long cta", send(flow(func(m *graph.FlowMessage) { m.CTA = strings.Repeat("é", 31) })), graph.ErrInvalidRequest, "31 characters, at most 30"},
		{"data without screen", send(flow(func(m *graph.FlowMessage) { m.Data = map[string]any{"a": 1} })), graph.ErrInvalidRequest, "no entry screen"},
		{"data_exchange with payload", send(flow(func(m *graph.FlowMessage) { m.Action = graph.ActionDataExchange; m.Screen = "S" })), graph.ErrInvalidRequest, "data_exchange"},
		{"bad mode", send(flow(func(m *graph.FlowMessage) { m.Mode = "live" })), graph.ErrInvalidRequest, `"live"`},
		{"bad action", send(flow(func(m *graph.FlowMessage) { m.Action = "open" })), graph.ErrInvalidRequest, `"open"`},
		{"template without language", send(&graph.TemplateMessage{To: "1", Name: "t"}), graph.ErrInvalidRequest, "language"},
		{"empty text", send(&graph.TextMessage{To: "1"}), graph.ErrInvalidRequest, "empty"},
		{"long text", send(&graph.TextMessage{To: "1", Body: strings.Repeat("a", 4097)}), graph.ErrInvalidRequest, "4097"},
		{"phone id with slash", func(ctx context.Context, c *graph.Client) error {
			_, err := c.Send(ctx, "../123", &graph.TextMessage{To: "1", Body: "x"})
			return err
		}, graph.ErrInvalidID, "not a Graph object id"},
		{"empty flow id", func(ctx context.Context, c *graph.Client) error { return c.PublishFlow(ctx, "") }, graph.ErrInvalidID, "flow ID is empty"},
		{"encoded body not a message", func(ctx context.Context, c *graph.Client) error {
			_, err := c.SendEncoded(ctx, "106540352242922", []byte(`{"to":"1"}`))
			return err
		}, graph.ErrInvalidRequest, "messaging_product"},
		{"flow json not json", func(ctx context.Context, c *graph.Client) error {
			_, err := c.UploadFlowJSON(ctx, "8812", []byte(`{"version":`))
			return err
		}, graph.ErrInvalidRequest, "not valid JSON"},
		{"flow json too large", func(ctx context.Context, c *graph.Client) error {
			_, err := c.UploadFlowJSON(ctx, "8812", make([]byte, graph.MaxFlowJSONSize+1))
			return err
		}, graph.ErrInvalidRequest, "at most 10485760"},
		{"create without categories", func(ctx context.Context, c *graph.Client) error {
			_, err := c.CreateFlow(ctx, "1", graph.FlowCreate{Name: "x"})
			return err
		}, graph.ErrInvalidRequest, "category"},
		{"update nothing", func(ctx context.Context, c *graph.Client) error { return c.UpdateFlow(ctx, "8812", graph.FlowUpdate{}) }, graph.ErrInvalidRequest, "nothing to update"},
		{"update http endpoint", func(ctx context.Context, c *graph.Client) error {
			return c.UpdateFlow(ctx, "8812", graph.FlowUpdate{EndpointURI: "http://flows.example.com/"})
		}, graph.ErrInvalidRequest, "https"},
		{"pkcs1 public key", func(ctx context.Context, c *graph.Client) error {
			return c.SetBusinessPublicKey(ctx, "106540352242922", pkcs1)
		}, graph.ErrInvalidRequest, "SPKI"},
		{"metrics bad granularity", func(ctx context.Context, c *graph.Client) error {
			_, err := c.FlowMetrics(ctx, "8812", graph.MetricsRequest{Name: graph.MetricRequestCount, Granularity: "WEEK"})
			return err
		}, graph.ErrInvalidRequest, "WEEK"},
		{"metrics injected name", func(ctx context.Context, c *graph.Client) error {
			_, err := c.FlowMetrics(ctx, "8812", graph.MetricsRequest{Name: "X).foo(", Granularity: graph.GranularityDay})
			return err
		}, graph.ErrInvalidRequest, "metric name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t) // no scripted reply: any request fails the test
			err := tc.call(t.Context(), s.client)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.wantErr, tc.wantMsg)
			}
			if n := len(s.fake.requests()); n != 0 {
				t.Fatalf("%d requests reached the Graph API", n)
			}
		})
	}
}

func TestEncodeMessageRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSetup(t, ok(`{"messages":[{"id":"wamid.Z"}]}`))
	body, err := graph.EncodeMessage(&graph.TextMessage{To: "491511234", Body: "Your booking is confirmed."})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.client.SendEncoded(t.Context(), "106540352242922", body)
	if err != nil || res.MessageID != "wamid.Z" {
		t.Fatalf("SendEncoded = %+v, %v", res, err)
	}
	if r := s.fake.only(t); string(r.Body) != string(body) {
		t.Errorf("sent %s, want exactly the encoded %s", r.Body, body)
	}
}

// A flow message goes to a phone number (to) or, when no phone number is
// known, a business-scoped user id (recipient): Meta takes to over
// recipient, so with both only to is sent; never to nobody.
func TestFlowMessageRecipient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		to, recipient, want string
	}{
		{"15550001111", "", `"to":"15550001111","type"`},
		{"", "US.13491208655302741918", `"recipient_type":"individual","recipient":"US.13491208655302741918","type"`},
		{"15550001111", "US.1", `"recipient_type":"individual","to":"15550001111","type"`},
	} {
		b, err := graph.EncodeMessage(&graph.FlowMessage{To: tc.to, Recipient: tc.recipient, Body: "b", CTA: "c", FlowName: "f"})
		if err != nil || !strings.Contains(string(b), tc.want) {
			t.Errorf("to %q recipient %q: %s, %v; want %s", tc.to, tc.recipient, b, err, tc.want)
		}
	}
	if _, err := graph.EncodeMessage(&graph.FlowMessage{Body: "b", CTA: "c", FlowName: "f"}); !errors.Is(err, graph.ErrInvalidRequest) {
		t.Errorf("no recipient at all: %v", err)
	}
}

func TestPreviewLink(t *testing.T) {
	t.Parallel()
	p := &graph.Preview{URL: "https://business.facebook.com/wa/manage/flows/8812/preview/?token=abc"}
	link, err := p.Link(graph.PreviewParams{
		FlowToken: "wf1.x", Screen: "DATE_SELECTION", Data: map[string]any{"day": "monday"},
		PhoneNumber: "15550001111", Debug: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := url.Values{
		"token": {"abc"}, "interactive": {"true"}, "flow_action": {"navigate"}, "flow_token": {"wf1.x"},
		"flow_action_payload": {`{"screen":"DATE_SELECTION","data":{"day":"monday"}}`},
		"phone_number":        {"15550001111"}, "debug": {"true"},
	}
	if d := cmp.Diff(want, q); d != "" {
		t.Errorf("preview query (-want +got):\n%s", d)
	}
	if u.Host != "business.facebook.com" || u.Path != "/wa/manage/flows/8812/preview/" {
		t.Errorf("link %s changed the preview URL", link)
	}
	if _, err := p.Link(graph.PreviewParams{Action: graph.ActionDataExchange, Screen: "S"}); !errors.Is(err, graph.ErrInvalidRequest) {
		t.Errorf("data_exchange with screen: err = %v, want ErrInvalidRequest", err)
	}
}

func TestValidationErrorString(t *testing.T) {
	t.Parallel()
	v := graph.ValidationError{Code: "INVALID_PROPERTY_VALUE", Message: "Invalid value found for property 'type'.", LineStart: 10, ColumnStart: 21}
	if got, want := v.String(), "10:21: Invalid value found for property 'type'. (INVALID_PROPERTY_VALUE)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	v = graph.ValidationError{Message: "m", Pointers: []graph.ValidationPointer{{LineStart: 3, ColumnStart: 7}}}
	if got, want := v.String(), "3:7: m"; got != want {
		t.Errorf("String from pointer = %q, want %q", got, want)
	}
}

func TestFlowAssets(t *testing.T) {
	t.Parallel()
	s := newSetup(t, ok(`{"data":[{"name":"flow.json","asset_type":"FLOW_JSON","download_url":"https://mmg.whatsapp.net/d/f/abc.json?sig=x"}],"paging":{}}`))
	got, err := s.client.FlowAssets(t.Context(), "8812")
	if err != nil {
		t.Fatal(err)
	}
	want := []graph.FlowAsset{{Name: "flow.json", AssetType: "FLOW_JSON", DownloadURL: "https://mmg.whatsapp.net/d/f/abc.json?sig=x"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("assets (-want +got):\n%s", diff)
	}
	r := s.fake.only(t)
	if r.Method != "GET" || r.Path != "/8812/assets" || r.Header.Get("Authorization") != "Bearer "+testToken || len(r.Body) != 0 {
		t.Errorf("request %s %s, Authorization %q, body %q; want GET /8812/assets with the token and no body", r.Method, r.Path, r.Header.Get("Authorization"), r.Body)
	}
}

// TestDownloadFlowJSON: the FLOW_JSON asset is fetched from its
// download_url, and the access token never goes to another host.
func TestDownloadFlowJSON(t *testing.T) {
	t.Parallel()
	const flowJSON = `{"version":"7.3","screens":[{"id":"A","terminal":true,"layout":{"type":"SingleColumnLayout","children":[]}}]}`
	var cdnAuth atomic.Value
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnAuth.Store(r.Header.Get("Authorization"))
		io.WriteString(w, flowJSON)
	}))
	t.Cleanup(cdn.Close)
	s := newSetup(t, ok(`{"data":[{"name":"x.png","asset_type":"IMAGE","download_url":"`+cdn.URL+`/img"},{"name":"flow.json","asset_type":"FLOW_JSON","download_url":"`+cdn.URL+`/f.json?sig=secret"}]}`))
	got, err := s.client.DownloadFlowJSON(t.Context(), "8812")
	if err != nil || string(got) != flowJSON {
		t.Fatalf("DownloadFlowJSON = %q, %v; want the CDN's Flow JSON", got, err)
	}
	if a, _ := cdnAuth.Load().(string); a != "" {
		t.Errorf("the CDN got Authorization %q; the access token must stay with the Graph API", a)
	}

	// On the Graph API's own host the download is authenticated.
	s = newSetup(t, ok(`{"data":[{"name":"flow.json","asset_type":"FLOW_JSON","download_url":"FAKE/v25.0/download/8812"}]}`), ok(flowJSON))
	s.fake.replies[0].body = strings.ReplaceAll(s.fake.replies[0].body, "FAKE", s.fake.srv.URL)
	if got, err = s.client.DownloadFlowJSON(t.Context(), "8812"); err != nil || string(got) != flowJSON {
		t.Fatalf("DownloadFlowJSON = %q, %v", got, err)
	}
	reqs := s.fake.requests()
	if len(reqs) != 2 || reqs[1].Path != "/download/8812" || reqs[1].Header.Get("Authorization") != "Bearer "+testToken {
		t.Errorf("requests %v; want the download on the Graph host, with the token", summarize(reqs))
	}

	for _, tc := range []struct{ name, assets, want string }{
		{"no FLOW_JSON asset", `{"data":[]}`, "no FLOW_JSON asset"},
		{"not an http URL", `{"data":[{"asset_type":"FLOW_JSON","download_url":"file:///etc/passwd?sig=SECRET"}]}`, "is not an http(s) URL"},
	} {
		s := newSetup(t, ok(tc.assets))
		_, err := s.client.DownloadFlowJSON(t.Context(), "8812")
		if !errors.Is(err, graph.ErrUnexpectedResponse) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: err = %v, want ErrUnexpectedResponse saying %q, without the URL's query", tc.name, err, tc.want)
		}
		if n := len(s.fake.requests()); n != 1 {
			t.Errorf("%s: %d requests, want only the listing", tc.name, n)
		}
	}
}
