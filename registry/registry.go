// Package registry holds the flows a waflow server runs: one value per flow
// (its name, Flow JSON, how its data endpoint is answered, what its
// completion does, its Meta categories), whatever their source.
//
// The catalog's six flows are one source (catalog.Register adds them);
// a flows folder is another. Everything that acts on flows reads the one
// registry: serve routes /flows/{name} and the completion webhook by it,
// deploy uploads its Flow JSON, and simulate, preview and bench play it.
//
// A Registry is filled at start and then only read: Add is not safe to
// call concurrently with the other methods.
package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/graph"
)

// Origins of flows, for listings.
const (
	OriginCatalog = "catalog" // one of package catalog's ready flows
	OriginFile    = "file"    // a Flow JSON file
	OriginFolder  = "folder"  // a flow of the flows folder (package flowsdir)
)

// Flow is one flow the server runs.
type Flow struct {
	// Name is the flow's name: the {flow} of POST /flows/{flow}, the name
	// it is deployed under, and the flow a flow token is issued for.
	Name    string
	Title   string // for people; Name when empty
	Summary string // one line on what the flow does
	// Origin says where the flow comes from (OriginCatalog, OriginFile...).
	Origin string
	// Source is the Flow JSON, as uploaded to Meta.
	Source []byte
	// Spec is Source parsed and validated; Add fills it from Source when
	// nil.
	Spec *flowjson.Flow
	// Categories are the Meta categories the flow is created with;
	// OTHER when empty.
	Categories []graph.Category
	// Endpoint holds the data-endpoint handlers; nil for a flow that does
	// not use the data endpoint.
	Endpoint *endpoint.Flow
	// Complete, when set, acts on the flow's completion webhook,
	// idempotently on the completion's message id. It returns an error
	// matching waflow.ErrRejected for a completion that can never succeed
	// (not retried); any other error is retried.
	Complete func(ctx context.Context, c Completion) error
	// CheckCompletion, when set, checks a completion's values beyond what
	// the Flow JSON says (business rules, values the endpoint produced); an
	// error rejects the completion before it is recorded. It must not
	// include the values in the error.
	CheckCompletion func(values map[string]any) error
}

// Completion is a recorded flow completion as a flow's Complete sees it.
type Completion struct {
	waflow.Completion
	// Values is response_json without flow_token. Personal data: never log it.
	Values map[string]any
	Token  waflow.FlowToken
}

// UsesEndpoint reports whether the flow talks to the data endpoint.
func (f *Flow) UsesEndpoint() bool { return f.Endpoint != nil }

// Field is one input of a flow, for listings.
type Field struct {
	Screen    string
	Name      string
	Component string // TextInput, DatePicker, ...
}

// Fields lists the flow's inputs, screen by screen.
func (f *Flow) Fields() []Field {
	var out []Field
	for _, s := range f.Spec.Screens {
		for _, c := range s.Components() {
			if c.Name != "" && flowjson.IsInput(c.Type) {
				out = append(out, Field{Screen: s.ID, Name: c.Name, Component: c.Type})
			}
		}
	}
	return out
}

// ScreenIDs lists the flow's screens in order.
func (f *Flow) ScreenIDs() []string {
	ids := make([]string, len(f.Spec.Screens))
	for i, s := range f.Spec.Screens {
		ids[i] = s.ID
	}
	return ids
}

// CheckValues checks a completion's values (response_json without
// flow_token): against the flow's complete actions
// (flowjson.Flow.CheckCompletion, which takes the values of a flow its
// endpoint completes as the endpoint's params), then with CheckCompletion.
// An error never includes the values.
func (f *Flow) CheckValues(values map[string]any) error {
	if err := f.Spec.CheckCompletion(flowjson.Submission{Values: values}).Err(); err != nil {
		return err
	}
	if f.CheckCompletion != nil {
		return f.CheckCompletion(values)
	}
	return nil
}

// ErrDuplicate means a flow of that name is already registered.
var ErrDuplicate = errors.New("registry: a flow of that name is already registered")

// validName is what a flow name may be: it is a URL path segment and a
// file name, so letters, digits, '_', '-' and '.', not starting with '.'.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$`)

// CheckName returns an error when name cannot be a flow's name.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("registry: flow name %q: use letters, digits, '_', '-' and '.' (at most 100)", name)
	}
	return nil
}

// Registry is the set of flows, in the order they were added.
type Registry struct {
	flows  []*Flow
	byName map[string]*Flow
}

// New returns an empty registry.
func New() *Registry { return &Registry{byName: map[string]*Flow{}} }

// Add registers f. It fails when the name is not a valid flow name, is
// taken (ErrDuplicate), when the Flow JSON has errors (warnings are
// allowed), or when f.Endpoint is named otherwise than f.
func (r *Registry) Add(f *Flow) error {
	if err := CheckName(f.Name); err != nil {
		return err
	}
	if prev := r.byName[f.Name]; prev != nil {
		return fmt.Errorf("%w: %s (%s)", ErrDuplicate, f.Name, originOf(prev))
	}
	if f.Endpoint != nil && f.Endpoint.Name() != f.Name {
		return fmt.Errorf("registry: flow %s: its endpoint handlers are named %q", f.Name, f.Endpoint.Name())
	}
	if f.Spec == nil {
		spec, problems := flowjson.ValidateSource(f.Source)
		if problems.HasErrors() {
			var b strings.Builder
			problems.WriteText(&b, f.Name+".json")
			return fmt.Errorf("registry: flow %s: Flow JSON does not validate:\n%s", f.Name, b.String())
		}
		f.Spec = spec
	}
	if f.Title == "" {
		f.Title = f.Name
	}
	r.flows = append(r.flows, f)
	r.byName[f.Name] = f
	return nil
}

// Remove takes the named flow out, for a source that switches a flow off;
// it reports whether there was one.
func (r *Registry) Remove(name string) bool {
	if r.byName[name] == nil {
		return false
	}
	delete(r.byName, name)
	for i, f := range r.flows {
		if f.Name == name {
			r.flows = append(r.flows[:i:i], r.flows[i+1:]...)
			break
		}
	}
	return true
}

func originOf(f *Flow) string {
	if f.Origin == "" {
		return "already registered"
	}
	return "already registered from " + f.Origin
}

// Flows returns the flows in the order they were added.
func (r *Registry) Flows() []*Flow { return r.flows }

// Flow returns the named flow, or nil.
func (r *Registry) Flow(name string) *Flow { return r.byName[name] }

// Names lists the flows' names in the order they were added.
func (r *Registry) Names() []string {
	out := make([]string, len(r.flows))
	for i, f := range r.flows {
		out[i] = f.Name
	}
	return out
}

// Endpoints returns the data-endpoint handlers of the flows that have one,
// in order.
func (r *Registry) Endpoints() []*endpoint.Flow {
	var out []*endpoint.Flow
	for _, f := range r.flows {
		if f.Endpoint != nil {
			out = append(out, f.Endpoint)
		}
	}
	return out
}

// ValidateCompletion checks a completion's values for the named flow (see
// Flow.CheckValues); it has the signature of webhook.CompletionValidator.
func (r *Registry) ValidateCompletion(_ context.Context, flow string, values map[string]any) error {
	f := r.byName[flow]
	if f == nil {
		return fmt.Errorf("registry: no flow named %q", flow)
	}
	return f.CheckValues(values)
}
