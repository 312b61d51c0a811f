package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/graph/graphtest"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/keyfiles"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/sqlite"
)

// cli runs waflow commands in-process against a fake Graph API, with a
// development data folder.
type cli struct {
	t   *testing.T
	g   *graphtest.Server
	dir string
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	g := graphtest.NewServer()
	t.Cleanup(g.Close)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "graph-token")
	if err := os.WriteFile(tokenFile, []byte(graphtest.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cli{t: t, g: g, dir: dir, env: map[string]string{
		"WAFLOW_DATA_DIR":                filepath.Join(dir, "data"),
		"WAFLOW_GRAPH_URL":               g.URL(),
		"WAFLOW_GRAPH_ACCESS_TOKEN_FILE": tokenFile,
		"WAFLOW_WABA_ID":                 graphtest.WABAID,
		"WAFLOW_PHONE_NUMBER_ID":         graphtest.PhoneNumberID,
		"WAFLOW_PHONE_NUMBER":            "+15550001111",
		"WAFLOW_PUBLIC_URL":              "https://flows.example.com",
		"WAFLOW_GRAPH_TIMEOUT":           "5s",
		"WAFLOW_LOG_LEVEL":               "warn",
	}}
	if _, err := testkeys.Development(c.env["WAFLOW_DATA_DIR"]); err != nil {
		t.Fatal(err)
	}
	return c
}

// seededDevelopment is keyfiles.Development on dataDir after a test key pair
// was put there (testkeys.Development): the files waflow serve writes on its
// first start, without the cost of generating a key.
func seededDevelopment(t *testing.T, dataDir string) (*keyfiles.Dev, error) {
	t.Helper()
	if _, err := testkeys.Development(dataDir); err != nil {
		t.Fatal(err)
	}
	return keyfiles.Development(dataDir)
}

// run runs waflow with args and returns its exit status and output.
func (c *cli) run(args ...string) (int, string, string) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return c.env[k] }}
	code := Main(context.Background(), args, env)
	if strings.Contains(out.String()+errOut.String(), graphtest.Token) {
		c.t.Errorf("waflow %s printed the access token", strings.Join(args, " "))
	}
	return code, out.String(), errOut.String()
}

// mustRun runs waflow and fails the test unless it exits 0.
func (c *cli) mustRun(args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	if code != 0 {
		c.t.Fatalf("waflow %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// store opens the data folder's database.
func (c *cli) store() *sqlite.DB {
	c.t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(c.env["WAFLOW_DATA_DIR"], "waflow.db"), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	return s
}

// checkShapes fails the test if the fake saw a request of the wrong shape.
func (c *cli) checkShapes() {
	c.t.Helper()
	if v := c.g.Violations(); len(v) > 0 {
		c.t.Fatalf("requests of the wrong shape:\n%s", strings.Join(v, "\n"))
	}
}

// requestsMatching counts the requests "METHOD PATH" matching re.
func (c *cli) requestsMatching(re string) int {
	n := 0
	for _, r := range c.g.Requests() {
		if regexp.MustCompile("^" + re + "$").MatchString(r) {
			n++
		}
	}
	return n
}

func flowParams(t *testing.T, m graphtest.Message) map[string]any {
	t.Helper()
	in, _ := m.Body["interactive"].(map[string]any)
	action, _ := in["action"].(map[string]any)
	p, _ := action["parameters"].(map[string]any)
	if p == nil {
		t.Fatalf("message %v has no flow parameters", m.Body)
	}
	return p
}

func TestSendIssuesRecordsAndSends(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	out := c.mustRun("send", "appointment_booking", "-to", "15550001111")
	c.checkShapes()
	msgs := c.g.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages sent, want 1", len(msgs))
	}
	if strings.TrimSpace(out) != msgs[0].WAMID {
		t.Fatalf("stdout %q, want the message id %s", out, msgs[0].WAMID)
	}
	p := flowParams(t, msgs[0])
	if p["flow_name"] != "appointment_booking" || p["flow_action"] != "data_exchange" || p["mode"] != "published" || p["flow_action_payload"] != nil || p["flow_cta"] != "Open" {
		t.Errorf("flow parameters %v: want flow_name appointment_booking, data_exchange, published, CTA Open", p)
	}
	if in := msgs[0].Body["interactive"].(map[string]any); in["body"].(map[string]any)["text"] != "Appointment Booking" {
		t.Errorf("body %v, want the catalog flow's title", in["body"])
	}

	// The token in the message verifies with the server's secret and is
	// recorded for the user, with the message id for context.id.
	dev, err := keyfiles.Development(c.env["WAFLOW_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := flowtoken.NewIssuer([]byte(dev.TokenSecret))
	claims, err := iss.Verify(p["flow_token"].(string), "appointment_booking")
	if err != nil {
		t.Fatalf("flow_token does not verify: %v", err)
	}
	rec, err := c.store().TokenByMessage(context.Background(), msgs[0].WAMID)
	if err != nil || rec.ID != claims.ID || rec.WAID != "15550001111" || rec.State != waflow.TokenIssued {
		t.Fatalf("token by message: %+v, %v; want the issued token %s of 15550001111", rec, err, claims.ID)
	}
}

func TestSendDraftStaticFlowWithScreen(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.mustRun("send", "feedback_survey", "-to", "15550001111", "-draft", "-screen", "RATE", "-data", `{"name":"Ana"}`, "-cta", "Rate us", "-body", "How did we do?")
	c.checkShapes()
	p := flowParams(t, c.g.Messages()[0])
	payload, _ := p["flow_action_payload"].(map[string]any)
	if p["mode"] != "draft" || p["flow_action"] != "navigate" || p["flow_cta"] != "Rate us" || payload["screen"] != "RATE" || payload["data"].(map[string]any)["name"] != "Ana" {
		t.Fatalf("flow parameters %v: want draft, navigate to RATE with data, CTA Rate us", p)
	}
}

func TestSendUsesDeployedFlowID(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.mustRun("flows", "deploy", "appointment_booking")
	c.mustRun("send", "appointment_booking", "-to", "15550001111")
	p := flowParams(t, c.g.Messages()[0])
	if id := c.g.Flow("appointment_booking").ID; p["flow_id"] != id || p["flow_name"] != nil {
		t.Fatalf("flow parameters %v: want flow_id %s and no flow_name", p, id)
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		setup    func(c *cli)
		args     []string
		code     int
		stderr   []string
		requests int // sends that reached the fake
	}{
		{"throttled 132069 is not retried", func(c *cli) {
			c.g.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/messages", Status: 400, Code: 132069})
		}, nil, 1, []string{"code 132069", "THROTTLED", "10 new flow messages an hour", "fbtrace_id AFakeTrace42"}, 1},
		{"500 may have been delivered", func(c *cli) {
			c.g.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/messages", Status: 500, Code: 2})
		}, nil, 1, []string{"outcome unknown", "may have been delivered: check the chat before sending again"}, 1},
		{"timeout may have been delivered", func(c *cli) {
			c.env["WAFLOW_GRAPH_TIMEOUT"] = "300ms"
			c.g.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/messages", Hang: 5 * time.Second})
		}, nil, 1, []string{"no complete answer within 300ms", "may have been delivered"}, 1},
		{"429 is retried after a backoff", func(c *cli) {
			c.g.Inject(graphtest.Reply{Method: "POST", Path: "/[0-9]+/messages", Status: 429, Code: 130429, RetryAfter: "1"})
		}, nil, 0, nil, 2},
		{"expired access token", func(c *cli) {
			c.g.SetToken("EAAG-a-newer-token")
		}, nil, 1, []string{"code 190", "access token is invalid or has expired"}, 1},
		{"no access token", func(c *cli) {
			delete(c.env, "WAFLOW_GRAPH_ACCESS_TOKEN_FILE")
		}, nil, 1, []string{"missing setting: WAFLOW_GRAPH_ACCESS_TOKEN_FILE"}, 0},
		{"no phone number id", func(c *cli) {
			delete(c.env, "WAFLOW_PHONE_NUMBER_ID")
		}, nil, 1, []string{"missing setting: WAFLOW_PHONE_NUMBER_ID"}, 0},
		{"no recipient", nil, []string{"send", "appointment_booking"}, 2, []string{"-to is required"}, 0},
		{"CTA too long", nil, []string{"send", "appointment_booking", "-to", "1555", "-cta", strings.Repeat("x", 31)}, 1, []string{"flow CTA is 31 characters, at most 30"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each case has its own fake and data folder; in parallel the
			// backoff and the timeout are waited out once, not in turn.
			t.Parallel()
			c := newCLI(t)
			if tc.setup != nil {
				tc.setup(c)
			}
			args := tc.args
			if args == nil {
				args = []string{"send", "appointment_booking", "-to", "15550001111"}
			}
			code, out, errOut := c.run(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr does not say %q:\n%s", s, errOut)
				}
			}
			if n := c.requestsMatching(`POST /[0-9]+/messages`); n != tc.requests {
				t.Errorf("%d send requests, want %d", n, tc.requests)
			}
			c.checkShapes()
		})
	}
}

// deployedRecords returns the deployment records, by flow.
func (c *cli) deployedRecords() map[string]waflow.FlowDeployment {
	c.t.Helper()
	recs, err := c.store().FlowDeployments(context.Background(), graphtest.WABAID)
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]waflow.FlowDeployment{}
	for _, r := range recs {
		out[r.Flow] = r
	}
	return out
}

// The whole catalog: each flow's categories and endpoint come from the
// registry, and the summary line counts what each run did.
func TestDeployCatalogTwice(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	out := c.mustRun("flows", "deploy", "-publish")
	c.checkShapes()
	if !strings.Contains(out, "6 flows: 6 created, 6 uploaded, 5 endpoint_uri set, 6 published, 0 unchanged, 0 failed") {
		t.Fatalf("first deploy:\n%s", out)
	}
	recs := c.deployedRecords()
	for _, name := range catalog.Names {
		fl := c.g.Flow(name)
		src, _ := catalog.Source(name)
		if fl == nil || fl.Status != "PUBLISHED" || !bytes.Equal(fl.JSON, src) {
			t.Fatalf("%s on Meta: %+v; want published with the catalog's Flow JSON", name, fl)
		}
		wantURI := ""
		if usesEndpoint(src) {
			wantURI = "https://flows.example.com/flows/" + name
		}
		if fl.EndpointURI != wantURI {
			t.Errorf("%s endpoint_uri %q, want %q", name, fl.EndpointURI, wantURI)
		}
		if r := recs[name]; r.FlowID != fl.ID || r.ContentHash != deploy.ContentHash(src) {
			t.Errorf("%s recorded as %+v, want flow %s with the source's hash", name, r, fl.ID)
		}
	}

	c.g.Reset()
	out = c.mustRun("flows", "deploy", "-publish")
	if !strings.Contains(out, "6 flows: 0 created, 0 uploaded, 0 endpoint_uri set, 0 published, 6 unchanged, 0 failed") {
		t.Fatalf("second deploy:\n%s", out)
	}
	for _, r := range c.g.Requests() {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("second deploy changed something on Meta: %s", r)
		}
	}
}

func TestDeployLocalErrorsUploadNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	bad := filepath.Join(c.dir, "broken_form.json")
	os.WriteFile(bad, []byte(`{
  "version": "7.3",
  "screens": [{"id": "FIRST", "title": "Hi", "terminal": true,
    "layout": {"type": "SingleColumnLayout", "children": [
      {"type": "Footer", "label": "Go", "on-click-action": {"name": "navigate", "next": {"type": "screen", "name": "NOWHERE"}, "payload": {}}}
    ]}}]
}
`), 0o644)
	code, out, _ := c.run("flows", "deploy", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(bad)+`:5:\d+: INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME: `).MatchString(out) || !regexp.MustCompile(`(?m)^broken_form: not uploaded: 1 error in `+regexp.QuoteMeta(bad)+` \(waflow validate shows the same\)$`).MatchString(out) {
		t.Fatalf("output does not show the local error as FILE:LINE:COL:\n%s", out)
	}
	if reqs := c.g.Requests(); len(reqs) != 0 {
		t.Fatalf("requests %v, want none: a flow with errors is not created nor uploaded", reqs)
	}
}

func TestDeployFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
		setup      func(c *cli)
	}{
		{"expired token", "access token is invalid or has expired", func(c *cli) { c.g.SetToken("EAAG-other") }},
		{"no public URL", "missing setting: WAFLOW_PUBLIC_URL", func(c *cli) { delete(c.env, "WAFLOW_PUBLIC_URL") }},
		{"http public URL", "want an absolute https URL", func(c *cli) { c.env["WAFLOW_PUBLIC_URL"] = "http://flows.example.com" }},
		{"no WABA", "missing setting: WAFLOW_WABA_ID", func(c *cli) { delete(c.env, "WAFLOW_WABA_ID") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			tc.setup(c)
			code, out, errOut := c.run("flows", "deploy", "appointment_booking")
			if code != 1 || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d, want 1 saying %q\nstdout: %s\nstderr: %s", code, tc.want, out, errOut)
			}
		})
	}
}

func TestFlowsStatus(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.mustRun("flows", "deploy", "-publish", "appointment_booking")
	c.mustRun("flows", "deploy", "feedback_survey")
	// No app subscribed to the WABA: publishing and webhooks cannot work,
	// and status says so and fails.
	code, out, errOut := c.run("flows", "status")
	if code != 1 || !strings.Contains(out, "FAIL subscription: no app is subscribed to WABA "+graphtest.WABAID) ||
		!strings.Contains(out, "refuses to publish flows") || !strings.Contains(out+errOut, "/subscribed_apps") {
		t.Fatalf("status without a subscribed app: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	c.g.SubscribeApp("1234567890", "waflow")
	st := c.store()
	if err := st.SetFlowHealth(context.Background(), waflow.FlowHealth{Flow: "appointment_booking", Status: "THROTTLED", Paused: true, UpdatedAt: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out = c.mustRun("flows", "status")
	if !strings.Contains(out, "appointment_booking: Meta reported it THROTTLED at 2026-12-03T10:00:00Z: the outbox holds its messages until it is PUBLISHED again") {
		t.Errorf("status does not say the flow is paused:\n%s", out)
	}
	if !strings.Contains(out, "OK   subscription: subscribed to WABA "+graphtest.WABAID+": waflow (1234567890)") {
		t.Errorf("status with a subscribed app does not say so:\n%s", out)
	}
	c.checkShapes()
	for _, re := range []string{
		`(?m)^FLOW +ID +STATUS +CAN SEND +META ERRORS +LOCAL$`,
		`(?m)^appointment_booking +\d+ +PUBLISHED +AVAILABLE +0 +up to date$`,
		`(?m)^feedback_survey +\d+ +DRAFT +BLOCKED +0 +up to date$`,
		`(?m)^expense_entry +- +not on Meta +- +- +not deployed$`,
		`(?m)^feedback_survey: FLOW \d+: error 139102: The flow is not published. Publish the flow.$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("status output does not match %s:\n%s", re, out)
		}
	}
	// The health is asked for the configured phone number.
	found := false
	for _, r := range c.g.Log() {
		if strings.Contains(r.Query.Get("fields"), "health_status.phone_number("+graphtest.PhoneNumberID+")") {
			found = true
		}
	}
	if !found {
		t.Error("status did not ask for health_status.phone_number(PHONE_NUMBER_ID)")
	}
}

func TestFlowsPreview(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.mustRun("flows", "deploy", "appointment_booking")
	out := c.mustRun("flows", "preview", "appointment_booking", "-debug")
	u, err := url.Parse(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !strings.HasPrefix(out, "https://business.facebook.com/wa/manage/flows/") || q.Get("token") != "b9d6e2f1" || q.Get("interactive") != "true" ||
		q.Get("flow_action") != "data_exchange" || q.Get("phone_number") != "+15550001111" || q.Get("debug") != "true" || q.Get("flow_token") == "" {
		t.Fatalf("preview link %s lacks the interactive parameters", out)
	}
	// The preview's token is recorded, so the data endpoint accepts it.
	dev, _ := keyfiles.Development(c.env["WAFLOW_DATA_DIR"])
	iss, _ := flowtoken.NewIssuer([]byte(dev.TokenSecret))
	claims, err := iss.Verify(q.Get("flow_token"), "appointment_booking")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.store().Token(context.Background(), claims.ID); err != nil {
		t.Fatalf("the preview's flow token is not recorded: %v", err)
	}

	// A flow without endpoint navigates, with the given screen and data.
	c.mustRun("flows", "deploy", "feedback_survey")
	out = c.mustRun("flows", "preview", "feedback_survey", "-screen", "RATE", "-data", `{"a":1}`)
	u, _ = url.Parse(strings.TrimSpace(out))
	if q := u.Query(); q.Get("flow_action") != "navigate" || q.Get("flow_action_payload") != `{"screen":"RATE","data":{"a":1}}` || q.Get("flow_token") != "" {
		t.Fatalf("static preview link %s", out)
	}
	c.checkShapes()

	code, _, errOut := c.run("flows", "preview", "expense_entry")
	if code != 1 || !strings.Contains(errOut, "deploy it first with waflow flows deploy expense_entry") {
		t.Fatalf("preview of a flow that is not on Meta: exit %d, %s", code, errOut)
	}
}

func TestFlowsMetrics(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.mustRun("flows", "deploy", "appointment_booking")
	out := c.mustRun("flows", "metrics", "appointment_booking", "-since", "2025-03-01", "-until", "2025-03-02")
	c.checkShapes()
	if !regexp.MustCompile(`(?s)ENDPOINT_REQUEST_COUNT \(DAY\)\nPERIOD +KEY +VALUE\n2025-03-01 +value +312\n2025-03-02 +value +287\n`).MatchString(out) {
		t.Fatalf("metrics output:\n%s", out)
	}
	log := c.g.Log()
	last := log[len(log)-1]
	if f := last.Query.Get("fields"); f != "metric.name(ENDPOINT_REQUEST_COUNT).granularity(DAY).since(2025-03-01).until(2025-03-02)" {
		t.Fatalf("metrics asked for fields %q", f)
	}

	c.g.Inject(graphtest.Reply{Method: "GET", Path: "/[0-9]+", Status: 400, Code: 139006})
	code, _, errOut := c.run("flows", "metrics", "appointment_booking")
	if code != 1 || !strings.Contains(errOut, "fewer than 250 data-endpoint requests") {
		t.Fatalf("below the threshold: exit %d, %s", code, errOut)
	}
}

func TestKeysUploadThenCheck(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	out := c.mustRun("keys", "upload")
	c.checkShapes()
	dev, _ := keyfiles.Development(c.env["WAFLOW_DATA_DIR"])
	priv, _ := keys.ParsePrivateKey([]byte(dev.PrivateKeyPEM), nil)
	fp := keys.Fingerprint(&priv.PublicKey)
	if !strings.Contains(out, "uploaded public key "+fp) || !strings.Contains(out, "OK: WhatsApp encrypts to our current key") {
		t.Fatalf("upload output:\n%s", out)
	}
	out = c.mustRun("keys", "check")
	if !strings.Contains(out, "Meta's key for phone number "+graphtest.PhoneNumberID+": "+fp+" (signature VALID)") || !strings.Contains(out, "OK:") {
		t.Fatalf("check output:\n%s", out)
	}
}

func TestKeysCheckMismatch(t *testing.T) {
	t.Parallel()
	other := testkeys.Key(1)
	otherPEM, _ := keys.MarshalPublicKey(&other.PublicKey)
	for _, tc := range []struct {
		name      string
		key       string
		status    string
		wantLines []string
	}{
		{"another key", string(otherPEM), "VALID", []string{"MISMATCH: WhatsApp encrypts to a key we do not have", "answered 421", "Run: waflow keys upload"}},
		{"signature mismatch", "", "MISMATCH", []string{"signature over the key is MISMATCH", "Run: waflow keys upload"}},
		{"no key", "-", "", []string{"Meta has no business public key for phone number " + graphtest.PhoneNumberID, "Run: waflow keys upload"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.mustRun("keys", "upload")
			switch tc.key {
			case "":
				c.g.SetKey(c.g.Key(), tc.status)
			case "-":
				c.g.SetKey("", "")
			default:
				c.g.SetKey(tc.key, tc.status)
			}
			code, out, _ := c.run("keys", "check")
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, out)
			}
			for _, s := range tc.wantLines {
				if !strings.Contains(out, s) {
					t.Errorf("check output does not say %q:\n%s", s, out)
				}
			}
		})
	}
}

// Meta still has the previous key after a rotation: serve decrypts it, but
// check says to finish the rotation.
func TestKeysCheckPreviousKey(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.mustRun("keys", "upload") // the development key
	dev, _ := keyfiles.Development(c.env["WAFLOW_DATA_DIR"])
	newKey := testkeys.Key(2)
	newPEM, _ := keys.MarshalPrivateKey(newKey, nil)
	keyFile := filepath.Join(c.dir, "keys.pem")
	os.WriteFile(keyFile, append(newPEM, dev.PrivateKeyPEM...), 0o600)
	c.env["WAFLOW_PRIVATE_KEY_FILE"] = keyFile
	c.env["WAFLOW_APP_SECRET"] = "app-secret"
	code, out, _ := c.run("keys", "check")
	if code != 1 || !strings.Contains(out, "Meta has our previous key (number 2 of the configured keys)") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	c.mustRun("keys", "upload")
	if out := c.mustRun("keys", "check"); !strings.Contains(out, keys.Fingerprint(&newKey.PublicKey)+" (signature VALID)") {
		t.Fatalf("after uploading the new key:\n%s", out)
	}
}

func TestCommandsListedInHelp(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	out := c.mustRun("help")
	for _, name := range []string{"flows", "send", "keys"} {
		if !regexp.MustCompile(`(?m)^  ` + name + ` `).MatchString(out) {
			t.Errorf("help does not list %s:\n%s", name, out)
		}
	}
	if !slices.ContainsFunc(commands(), func(c *Command) bool { return c.Name == "flows" }) {
		t.Error("flows is not a command")
	}
}
