package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/graph"
)

// Client is the part of the Graph API client a deploy calls; *graph.Client
// implements it.
type Client interface {
	ListFlows(ctx context.Context, wabaID string) ([]graph.Flow, error)
	FindFlowByName(ctx context.Context, wabaID, name string) (*graph.Flow, error)
	GetFlow(ctx context.Context, flowID string, opts *graph.GetFlowOptions) (*graph.Flow, error)
	CreateFlow(ctx context.Context, wabaID string, f graph.FlowCreate) (*graph.CreatedFlow, error)
	DownloadFlowJSON(ctx context.Context, flowID string) ([]byte, error)
	UploadFlowJSON(ctx context.Context, flowID string, flowJSON []byte) ([]graph.ValidationError, error)
	UpdateFlow(ctx context.Context, flowID string, u graph.FlowUpdate) error
	PublishFlow(ctx context.Context, flowID string) error
}

var _ Client = (*graph.Client)(nil)

// Flow is one flow to deploy.
type Flow struct {
	// Name is the flow's name on Meta, unique in the WABA.
	Name string
	// File is what problems are reported against (FILE:LINE:COL);
	// Name + ".json" when empty.
	File string
	// Source is the Flow JSON, uploaded as it is.
	Source []byte
	// Categories are the Meta categories the flow is created with; OTHER
	// when empty. An existing flow's categories are left alone.
	Categories []graph.Category
	// UsesEndpoint says the flow talks to the data endpoint: its
	// endpoint_uri is set to the deployer's PublicURL/flows/{Name}.
	UsesEndpoint bool
}

func (f *Flow) file() string {
	if f.File != "" {
		return f.File
	}
	return f.Name + ".json"
}

// Deployer deploys flows to one WhatsApp Business Account. Client, Store
// and WABAID are required.
type Deployer struct {
	Client Client
	// Store keeps a deployment record per flow: Meta's flow id and the
	// content hash of the Flow JSON uploaded last.
	Store  waflow.DeploymentStore
	WABAID string
	// PublicURL is the https base URL Meta reaches the data endpoint at,
	// such as https://flows.example.com; needed by flows that use it.
	PublicURL string
	// Publish publishes each flow that is a valid draft after deploying.
	Publish bool
	// Logger receives warnings; slog.Default() when nil.
	Logger *slog.Logger
	// Progress, when set, is called with each step, in order, from the
	// goroutine that called Deploy or DeployFlow.
	Progress func(Event)
}

// Step is what an Event reports.
type Step int

// The steps of a deploy, in the order they may happen for one flow.
const (
	// StepLocalProblems: local validation found Problems (errors or
	// warnings); with errors, the flow fails next.
	StepLocalProblems Step = iota + 1
	// StepRecordGone: the recorded flow FlowID is gone from Meta; the flow
	// is looked up by name.
	StepRecordGone
	// StepCreated: the flow FlowID was created on Meta.
	StepCreated
	// StepRecorded: Meta's Flow JSON is the local one (a flow deployed
	// from elsewhere); it is recorded, not uploaded.
	StepRecorded
	// StepUploaded: the Flow JSON with content hash Hash was uploaded.
	StepUploaded
	// StepEndpointSet: endpoint_uri was set to EndpointURI.
	StepEndpointSet
	// StepMetaProblems: Meta's validation found Problems; the flow fails
	// next.
	StepMetaProblems
	// StepPublished: the flow was published.
	StepPublished
	// StepUnchanged: nothing needed to change; Status is the flow's.
	StepUnchanged
	// StepFailed: the flow failed with Err.
	StepFailed
)

// Event is one step of deploying one flow.
type Event struct {
	Step        Step
	Flow        string            // the flow's name
	File        string            // what Problems are reported against
	FlowID      string            // Meta's id of the flow, once known
	Hash        string            // StepUploaded: the content hash
	EndpointURI string            // StepEndpointSet
	Status      graph.FlowStatus  // StepUnchanged
	Problems    flowjson.Problems // StepLocalProblems, StepMetaProblems
	Err         error             // StepFailed
}

// String says what happened in a line for people, without the flow's
// name; the problem steps give one FILE:LINE:COL: CODE: message line per
// problem.
func (e Event) String() string {
	switch e.Step {
	case StepLocalProblems, StepMetaProblems:
		lines := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			lines[i] = p.Format(e.File)
		}
		return strings.Join(lines, "\n")
	case StepRecordGone:
		return fmt.Sprintf("recorded flow %s is gone from Meta; looking it up by name", e.FlowID)
	case StepCreated:
		return "created flow " + e.FlowID
	case StepRecorded:
		return "Flow JSON on Meta is the local one; recorded"
	case StepUploaded:
		return "uploaded Flow JSON " + shortHash(e.Hash)
	case StepEndpointSet:
		return "endpoint_uri set to " + e.EndpointURI
	case StepPublished:
		return "published"
	case StepUnchanged:
		return fmt.Sprintf("unchanged (flow %s, %s)", e.FlowID, e.Status)
	case StepFailed:
		return e.Err.Error()
	}
	return fmt.Sprintf("step %d", int(e.Step))
}

// Result is what deploying one flow did. A flow that failed may have been
// changed before it failed (created, uploaded...).
type Result struct {
	Flow        string
	FlowID      string           // "" when the flow failed before it was found or created
	Status      graph.FlowStatus // as of the end of the deploy
	Created     bool
	Uploaded    bool
	EndpointSet bool
	Published   bool
	Err         error
}

// Unchanged reports whether the deploy succeeded without changing anything.
func (r Result) Unchanged() bool {
	return r.Err == nil && !r.Created && !r.Uploaded && !r.EndpointSet && !r.Published
}

// Counts adds up results.
type Counts struct {
	Created, Uploaded, EndpointsSet, Published, Unchanged, Failed int
}

// Count adds up results.
func Count(results []Result) Counts {
	var c Counts
	for _, r := range results {
		c.Created += b2i(r.Created)
		c.Uploaded += b2i(r.Uploaded)
		c.EndpointsSet += b2i(r.EndpointSet)
		c.Published += b2i(r.Published)
		c.Unchanged += b2i(r.Unchanged())
		c.Failed += b2i(r.Err != nil)
	}
	return c
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// InvalidError is the error of a flow whose Flow JSON has errors: it is not
// uploaded. The problems were reported with StepLocalProblems.
type InvalidError struct {
	File   string
	Errors int // how many errors
}

// Error says how many errors kept the file from being uploaded.
func (e *InvalidError) Error() string {
	return fmt.Sprintf("not uploaded: %s in %s", plural(e.Errors, "error"), e.File)
}

// Deploy deploys flows in order and returns the result of each one it
// tried. It stops after a failure that every other flow would meet too (an
// access token Meta refuses, a closed store), so there may be fewer results
// than flows.
func (d *Deployer) Deploy(ctx context.Context, flows []Flow) []Result {
	var results []Result
	for i := range flows {
		r := d.DeployFlow(ctx, flows[i])
		results = append(results, r)
		if r.Err != nil && (graph.IsAccessTokenError(r.Err) || errors.Is(r.Err, waflow.ErrClosed)) {
			break
		}
	}
	return results
}

// DeployFlow brings one flow on Meta to f's Flow JSON; the steps that would
// change nothing are skipped, so that a second run makes no change.
func (d *Deployer) DeployFlow(ctx context.Context, f Flow) Result {
	r := Result{Flow: f.Name}
	if err := d.deploy(ctx, &f, &r); err != nil {
		r.Err = err
		d.report(&f, Event{Step: StepFailed, FlowID: r.FlowID, Err: err})
	}
	return r
}

func (d *Deployer) report(f *Flow, e Event) {
	if d.Progress == nil {
		return
	}
	e.Flow, e.File = f.Name, f.file()
	d.Progress(e)
}

func (d *Deployer) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// deployFields are the fields deploy reads of a flow.
var deployFields = []string{"id", "name", "status", "validation_errors", "endpoint_uri", "json_version"}

func (d *Deployer) deploy(ctx context.Context, f *Flow, r *Result) error {
	if d.WABAID == "" {
		return errors.New("deploy: no WhatsApp Business Account id")
	}
	c := d.Client

	// 1. Local validation: a flow with errors is not uploaded.
	_, problems := flowjson.ValidateSource(f.Source)
	if len(problems) > 0 {
		d.report(f, Event{Step: StepLocalProblems, Problems: problems})
	}
	if problems.HasErrors() {
		return &InvalidError{File: f.file(), Errors: problems.Errors()}
	}
	var wantURI string
	if f.UsesEndpoint {
		uri, err := EndpointURI(d.PublicURL, f.Name)
		if err != nil {
			return err
		}
		wantURI = uri
	}
	hash := ContentHash(f.Source)

	// 2. The flow on Meta: by our record, else by name, else created.
	var flow *graph.Flow
	rec, err := d.Store.FlowDeployment(ctx, d.WABAID, f.Name)
	switch {
	case err == nil:
		flow, err = c.GetFlow(ctx, rec.FlowID, &graph.GetFlowOptions{Fields: deployFields})
		if graph.CodeOf(err) == graph.CodeInvalidParameter {
			d.report(f, Event{Step: StepRecordGone, FlowID: rec.FlowID})
			flow, err, rec = nil, nil, waflow.FlowDeployment{}
		}
		if err != nil {
			return err
		}
	case errors.Is(err, waflow.ErrNotFound):
	default:
		return err
	}
	if flow == nil {
		found, err := c.FindFlowByName(ctx, d.WABAID, f.Name)
		switch {
		case err == nil:
			if flow, err = c.GetFlow(ctx, found.ID, &graph.GetFlowOptions{Fields: deployFields}); err != nil {
				return err
			}
		case errors.Is(err, graph.ErrFlowNotFound):
		default:
			return err
		}
	}
	if flow == nil {
		id, err := d.create(ctx, f)
		if err != nil {
			return err
		}
		r.Created = true
		flow = &graph.Flow{ID: id, Name: f.Name, Status: graph.StatusDraft}
		d.report(f, Event{Step: StepCreated, FlowID: id})
	}
	r.FlowID, r.Status = flow.ID, flow.Status
	if flow.Status == graph.StatusDeprecated {
		return fmt.Errorf("flow %s is DEPRECATED on Meta and can no longer change; delete it there or deploy under another name", flow.ID)
	}
	record := waflow.FlowDeployment{WABAID: d.WABAID, Flow: f.Name, FlowID: flow.ID, ContentHash: hash}

	// 3. The Flow JSON: uploaded only when it differs from what Meta has.
	upToDate := rec.FlowID == flow.ID && rec.ContentHash == hash
	if !upToDate && !r.Created && rec.FlowID == "" {
		// No record (another machine deployed it): compare with Meta's
		// copy, as an upload would put a published flow back to DRAFT.
		remote, err := c.DownloadFlowJSON(ctx, flow.ID)
		switch {
		case err != nil:
			d.logger().Warn("could not compare with Meta's Flow JSON; uploading", "flow", f.Name, "error", err)
		case sameJSON(remote, f.Source):
			upToDate = true
			if err := d.Store.SaveFlowDeployment(ctx, record); err != nil {
				return err
			}
			d.report(f, Event{Step: StepRecorded, FlowID: flow.ID})
		}
	}
	if !upToDate {
		if _, err := c.UploadFlowJSON(ctx, flow.ID, f.Source); err != nil {
			return err
		}
		if err := d.Store.SaveFlowDeployment(ctx, record); err != nil {
			return err
		}
		r.Uploaded = true
		d.report(f, Event{Step: StepUploaded, FlowID: flow.ID, Hash: hash})
		// The upload may have moved the flow back to DRAFT, and Meta
		// validated it: read the flow again.
		if flow, err = c.GetFlow(ctx, flow.ID, &graph.GetFlowOptions{Fields: deployFields}); err != nil {
			return err
		}
		r.Status = flow.Status
	}

	// 4. endpoint_uri, when it is not already ours.
	if wantURI != "" && flow.EndpointURI != wantURI {
		if err := c.UpdateFlow(ctx, flow.ID, graph.FlowUpdate{EndpointURI: wantURI}); err != nil {
			return err
		}
		r.EndpointSet = true
		d.report(f, Event{Step: StepEndpointSet, FlowID: flow.ID, EndpointURI: wantURI})
	}

	// 5. Meta's own validation.
	if n := len(flow.ValidationErrors); n > 0 {
		ps := make(flowjson.Problems, n)
		for i, v := range flow.ValidationErrors {
			ps[i] = MetaProblem(v)
		}
		d.report(f, Event{Step: StepMetaProblems, FlowID: flow.ID, Problems: ps})
		//lint:ignore ST1005 Meta is a name
		return fmt.Errorf("Meta found %s in the Flow JSON of flow %s; it cannot be published", plural(n, "validation error"), flow.ID)
	}

	// 6. Publishing, on request, of a valid draft.
	if d.Publish && flow.Status == graph.StatusDraft {
		if err := c.PublishFlow(ctx, flow.ID); err != nil {
			var ge *graph.Error
			if graph.IsPublishRefused(err) && errors.As(err, &ge) {
				return fmt.Errorf("publishing refused: %s [code %d, fbtrace_id %s]", publishReason(ge), ge.Code, ge.FBTraceID)
			}
			return err
		}
		r.Published = true
		r.Status = graph.StatusPublished
		d.report(f, Event{Step: StepPublished, FlowID: flow.ID})
	}
	if r.Unchanged() {
		d.report(f, Event{Step: StepUnchanged, FlowID: flow.ID, Status: r.Status})
	}
	return nil
}

// create creates the flow on Meta. Creating is not safe to repeat: when
// Meta's answer was lost, the flow is looked up by name instead.
func (d *Deployer) create(ctx context.Context, f *Flow) (string, error) {
	cats := f.Categories
	if len(cats) == 0 {
		cats = []graph.Category{graph.CategoryOther}
	}
	cf, err := d.Client.CreateFlow(ctx, d.WABAID, graph.FlowCreate{Name: f.Name, Categories: cats})
	if errors.Is(err, graph.ErrOutcomeUnknown) {
		found, ferr := d.Client.FindFlowByName(ctx, d.WABAID, f.Name)
		if ferr == nil {
			return found.ID, nil
		}
		return "", fmt.Errorf("%w; and it is not on Meta yet: %w", err, ferr)
	}
	if err != nil {
		return "", err
	}
	return cf.ID, nil
}

// publishReason is Meta's reason for refusing to publish (error_user_msg).
func publishReason(e *graph.Error) string {
	for _, s := range []string{e.UserMessage, e.Details, e.UserTitle, e.Message} {
		if s != "" {
			return s
		}
	}
	return "no reason given"
}

// EndpointURI returns the endpoint_uri of flow: publicURL with
// /flows/{flow}, where waflow serve answers its data endpoint. Meta only
// calls absolute https URLs (protocol.md 5.3).
func EndpointURI(publicURL, flow string) (string, error) {
	if publicURL == "" {
		return "", errors.New("no public URL for the data endpoint: the https address Meta reaches it at, such as https://flows.example.com")
	}
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("public URL %q: want an absolute https URL without query, such as https://flows.example.com (Meta calls only https endpoints)", publicURL)
	}
	return u.JoinPath("flows", flow).String(), nil
}

// ContentHash is the hash a deployment record keeps of a Flow JSON:
// "sha256:" and the lowercase hex SHA-256 of its bytes.
func ContentHash(src []byte) string {
	sum := sha256.Sum256(src)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// shortHash shortens a content hash for people.
func shortHash(h string) string {
	if len(h) > len("sha256:")+12 {
		return h[:len("sha256:")+12]
	}
	return h
}

// MetaProblem turns one of Meta's validation_errors into the form local
// validation reports: FILE:LINE:COL: CODE: message once formatted.
func MetaProblem(v graph.ValidationError) flowjson.Problem {
	line, col := v.LineStart, v.ColumnStart
	if line == 0 && len(v.Pointers) > 0 {
		line, col = v.Pointers[0].LineStart, v.Pointers[0].ColumnStart
	}
	code := v.Code
	if code == "" {
		code = v.Type
	}
	return flowjson.Problem{Severity: flowjson.SeverityError, Code: code, Message: v.Message, Line: line, Column: col}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
