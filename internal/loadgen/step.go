package loadgen

import (
	"context"
	"errors"
	"fmt"

	"github.com/waflow/waflow/simulator"
)

// StepOptions configure NewStep.
type StepOptions struct {
	// Client is the simulator's configuration: the flow, the endpoint's
	// URL and keys, the flow token.
	Client simulator.Config
	// Scenario is played once; Name names it in errors (its file).
	Scenario *simulator.Scenario
	Name     string
	// Step is the endpoint request of the scenario to repeat, from 1.
	Step int
	// Pool is how many times it is encrypted afresh (at least once).
	Pool int
}

// StepRangeError means StepOptions.Step is past the requests the scenario
// sends.
type StepRangeError struct{ Step, Requests int }

func (e *StepRangeError) Error() string {
	return fmt.Sprintf("step %d: the scenario sends %d requests", e.Step, e.Requests)
}

// NewStep plays a simulator scenario once against the endpoint, then
// returns a Source that repeats its n-th endpoint request: the same screen
// and submitted values, encrypted afresh Pool times, each answer checked as
// the simulator checks it. The Source's name is "step ACTION SCREEN".
func NewStep(ctx context.Context, o StepOptions) (Source, error) {
	if o.Step < 1 {
		return nil, &StepRangeError{Step: o.Step}
	}
	c, err := simulator.NewClient(o.Client)
	if err != nil {
		return nil, err
	}
	rep, err := simulator.Play(ctx, simulator.NewSession(c), o.Scenario, nil)
	if err != nil {
		return nil, fmt.Errorf("playing %s: %w", o.Name, err)
	}
	if len(rep.Failures) > 0 {
		return nil, fmt.Errorf("the scenario fails against %s: %s", o.Client.URL, rep.Failures[0])
	}
	var reqs []simulator.Request
	for _, st := range rep.Steps {
		if r, ok := st.Request(); ok {
			reqs = append(reqs, r)
		}
	}
	if o.Step > len(reqs) {
		return nil, &StepRangeError{Step: o.Step, Requests: len(reqs)}
	}
	r := reqs[o.Step-1]
	pool := make([]*Request, max(o.Pool, 1))
	for i := range pool {
		p, err := c.Prepare(r)
		if err != nil {
			return nil, err
		}
		pool[i] = &Request{Body: p.Body, Header: p.Header, Check: p.Check}
	}
	label := r.Action
	if r.Screen != "" {
		label += " " + r.Screen
	}
	return &preparedSource{name: "step " + label, reqs: pool}, nil
}

// preparedSource sends requests prepared up front, in turn.
type preparedSource struct {
	name string
	reqs []*Request
}

func (p *preparedSource) Name() string { return p.name }

func (p *preparedSource) Request(i int64) (*Request, error) {
	if len(p.reqs) == 0 {
		return nil, errors.New("no request prepared")
	}
	return p.reqs[i%int64(len(p.reqs))], nil
}

// WAID is the WhatsApp user id of simulated user i, for the flow tokens of
// a run.
func WAID(i int) string { return fmt.Sprintf("4915%09d", i%1_000_000_000) }
