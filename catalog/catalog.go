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

	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/registry"
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
	// RemindersOff: no reminders are sent (package reminders is not run),
	// so a booking's confirmation promises none.
	RemindersOff bool
	// BudgetAlertsOff: an expense's completion sends no budget alert.
	BudgetAlertsOff bool
	// OnBooked, when set, is told about each booking the
	// appointment_booking flow made, and again when a replayed submission
	// finds it (so it must be idempotent on the booking's Ref: package
	// events emits booking.created with a stable id). It runs in the data
	// endpoint's request: keep it short. Its error is logged, the booking
	// stands.
	OnBooked func(ctx context.Context, b catalogstore.Booking) error
}

// builders make each flow's handlers; one per name in Names.
var builders = map[string]func(*env) (*registry.Flow, error){}

// env is what a flow builder gets: the dependencies with defaults filled.
type env struct {
	store     Store
	settings  *Settings
	now       func() time.Time
	log       *slog.Logger
	onEnqueue func()
	deps      Deps
	onBooked  func(ctx context.Context, b catalogstore.Booking) error
}

// Categories are the Meta categories each catalog flow is created with.
var Categories = map[string][]graph.Category{
	"appointment_booking":  {graph.CategoryAppointmentBooking},
	"feedback_survey":      {graph.CategorySurvey},
	"expense_entry":        {graph.CategoryOther},
	"calendar_preferences": {graph.CategoryOther},
	"budget_setup":         {graph.CategoryOther},
	"multi_day_schedule":   {graph.CategoryAppointmentBooking},
}

// Register parses and validates every catalog flow's Flow JSON, builds its
// handlers and adds it to r, in priority order (Names). A Flow JSON with an
// error, settings that do not fit it, or a name r already holds fail the
// registration: a broken catalog never starts.
func Register(r *registry.Registry, deps Deps) error {
	if deps.Store == nil {
		return errors.New("catalog: a store is required")
	}
	return register(r, deps)
}

// Load returns a registry holding the catalog's flows and nothing else.
func Load(deps Deps) (*registry.Registry, error) {
	r := registry.New()
	if err := Register(r, deps); err != nil {
		return nil, err
	}
	return r, nil
}

// Describe returns a registry of the catalog's flows built without a store,
// for listings and exports: their handlers must not be called.
func Describe(settings *Settings) (*registry.Registry, error) {
	r := registry.New()
	if err := register(r, Deps{Settings: settings}); err != nil {
		return nil, err
	}
	return r, nil
}

func register(r *registry.Registry, deps Deps) error {
	e := &env{store: deps.Store, settings: deps.Settings, now: deps.Now, log: deps.Logger, onEnqueue: deps.OnEnqueue, deps: deps, onBooked: deps.OnBooked}
	if e.settings == nil {
		s, err := DefaultSettings()
		if err != nil {
			return err
		}
		e.settings = s
	}
	if err := e.settings.Validate(); err != nil {
		return err
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	for _, name := range Names {
		build, ok := builders[name]
		if !ok {
			return fmt.Errorf("catalog: flow %q has no handlers", name)
		}
		f, err := build(e)
		if err != nil {
			return fmt.Errorf("catalog: flow %s: %w", name, err)
		}
		f.Origin = registry.OriginCatalog
		f.Categories = Categories[name]
		if err := r.Add(f); err != nil {
			return fmt.Errorf("catalog: %w", err)
		}
	}
	return nil
}

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
		return nil, nil, fmt.Errorf("the Flow JSON does not validate:\n%s", b.String())
	}
	return src, spec, nil
}
