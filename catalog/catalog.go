package catalog

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
)

//go:embed flows/*.json
var flowFiles embed.FS

// Names lists the catalog's flows in the seed's priority order.
var Names = []string{
	"appointment_booking",
	"expense_entry",
	"feedback_survey",
	"calendar_preferences",
	"budget_setup",
	"multi_day_schedule",
}

// Source returns the Flow JSON of the named catalog flow, as uploaded to Meta.
func Source(name string) ([]byte, error) {
	b, err := fs.ReadFile(flowFiles, path.Join("flows", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("catalog: no flow named %q (flows: %s)", name, strings.Join(Names, ", "))
	}
	return b, nil
}

// Flow is one ready-made flow.
type Flow struct {
	Name    string // the {flow} of POST /flows/{flow}
	Title   string // for people
	Summary string // one line on what it does
	// Source is the Flow JSON, as uploaded to Meta.
	Source []byte
	// Spec is Source parsed and validated.
	Spec *flowjson.Flow
	// Endpoint holds the data-endpoint handlers; nil for a flow that does
	// not use the endpoint.
	Endpoint *endpoint.Flow
	// Complete acts on the flow's completion webhook, idempotently on the
	// completion's message id.
	Complete func(ctx context.Context, c Completion) error
	// CheckCompletion, when set, checks a completion's values beyond what
	// the Flow JSON says (business rules, values the endpoint produced); an
	// error rejects the completion before it is recorded.
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

// Deps is what the catalog's flows run with.
type Deps struct {
	// Store keeps tokens, completions and each flow's own tables.
	Store Store
	// Settings are the business's choices; DefaultSettings() when nil.
	Settings *Settings
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger; slog.Default() when nil. Flows never log submitted values.
	Logger *slog.Logger
	// OnEnqueue, when set, is called after a flow put a message in the
	// outbox (a booking confirmation), to wake the sender.
	OnEnqueue func()
}

// Catalog is the loaded set of flows.
type Catalog struct {
	flows  []*Flow
	byName map[string]*Flow
}

// builders make each flow's handlers; one per name in Names.
var builders = map[string]func(*env) (*Flow, error){}

// env is what a flow builder gets: the dependencies with defaults filled.
type env struct {
	store     Store
	settings  *Settings
	now       func() time.Time
	log       *slog.Logger
	onEnqueue func()
}

// Load parses and validates every flow's Flow JSON and builds its handlers.
// A Flow JSON with an error, or settings that do not fit it, fail the load:
// a broken catalog never starts.
func Load(deps Deps) (*Catalog, error) {
	if deps.Store == nil {
		return nil, errors.New("catalog: a store is required")
	}
	return load(deps)
}

// Describe loads the catalog without a store, for listings and exports:
// its flows' handlers must not be called.
func Describe(settings *Settings) (*Catalog, error) {
	return load(Deps{Settings: settings})
}

func load(deps Deps) (*Catalog, error) {
	e := &env{store: deps.Store, settings: deps.Settings, now: deps.Now, log: deps.Logger, onEnqueue: deps.OnEnqueue}
	if e.settings == nil {
		s, err := DefaultSettings()
		if err != nil {
			return nil, err
		}
		e.settings = s
	}
	if err := e.settings.Validate(); err != nil {
		return nil, err
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	c := &Catalog{byName: map[string]*Flow{}}
	for _, name := range Names {
		build, ok := builders[name]
		if !ok {
			return nil, fmt.Errorf("catalog: flow %q has no handlers", name)
		}
		f, err := build(e)
		if err != nil {
			return nil, fmt.Errorf("catalog: flow %s: %w", name, err)
		}
		c.flows = append(c.flows, f)
		c.byName[name] = f
	}
	return c, nil
}

// Flows returns the flows in priority order.
func (c *Catalog) Flows() []*Flow { return c.flows }

// Flow returns the named flow, or nil.
func (c *Catalog) Flow(name string) *Flow { return c.byName[name] }

// loadSpec reads and validates the named flow's Flow JSON: any error
// (warnings are allowed) fails.
func loadSpec(name string) ([]byte, *flowjson.Flow, error) {
	src, err := Source(name)
	if err != nil {
		return nil, nil, err
	}
	spec, problems := flowjson.ValidateSource(src)
	if problems.HasErrors() {
		var b strings.Builder
		problems.WriteText(&b, "flows/"+name+".json")
		return nil, nil, fmt.Errorf("Flow JSON does not validate:\n%s", b.String())
	}
	return src, spec, nil
}

// ValidateCompletion checks a completion's values (response_json without
// flow_token) for the named flow: against the flow's complete actions, when
// the flow has any (static flows, and screens that end with complete), and
// against the flow's own rules. An error rejects the completion before it
// is recorded; it never includes the values.
func (c *Catalog) ValidateCompletion(flow string, values map[string]any) error {
	f := c.byName[flow]
	if f == nil {
		return fmt.Errorf("catalog: no flow named %q", flow)
	}
	if hasComplete(f.Spec) {
		if err := f.Spec.CheckCompletion(flowjson.Submission{Values: values}).Err(); err != nil {
			return err
		}
	}
	if f.CheckCompletion != nil {
		return f.CheckCompletion(values)
	}
	return nil
}

// hasComplete reports whether any terminal screen ends with complete;
// otherwise the completion carries the endpoint's SUCCESS params.
func hasComplete(spec *flowjson.Flow) bool {
	for _, s := range spec.Screens {
		if !s.IsTerminal() {
			continue
		}
		for _, a := range s.Actions() {
			if a.Action.Name == flowjson.ActionComplete {
				return true
			}
		}
	}
	return false
}
