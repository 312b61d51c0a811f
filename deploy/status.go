package deploy

import (
	"context"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/graph"
)

// Sync says how a flow's deployed Flow JSON compares with the local one.
type Sync int

const (
	// SyncUnknown: no local flow and no deployment record of that name.
	SyncUnknown Sync = iota
	// SyncNotDeployed: a local flow that was never deployed from here.
	SyncNotDeployed
	// SyncUpToDate: the recorded deployment is the local Flow JSON.
	SyncUpToDate
	// SyncChanged: the local Flow JSON changed since it was deployed.
	SyncChanged
	// SyncNoLocal: a deployment record, but no local flow of that name.
	SyncNoLocal
)

// String is how "waflow flows status" says it.
func (s Sync) String() string {
	switch s {
	case SyncNotDeployed:
		return "not deployed"
	case SyncUpToDate:
		return "up to date"
	case SyncChanged:
		return "changed since deploy"
	case SyncNoLocal:
		return "deployed"
	}
	return "-"
}

// State is one flow as a status listing shows it: on Meta, recorded,
// local, or any of them.
type State struct {
	Name   string
	Remote *graph.Flow            // the flow on Meta; nil when not on Meta
	Record *waflow.FlowDeployment // its deployment record; nil when none
	Local  *Flow                  // the local flow; nil when none
	Sync   Sync
}

// LocalText says how the deployed Flow JSON compares with the local one:
// Sync's text, with the recorded hash when there is no local flow.
func (s State) LocalText() string {
	if s.Sync == SyncNoLocal {
		return "deployed " + shortHash(s.Record.ContentHash)
	}
	return s.Sync.String()
}

// Compare lists every flow on Meta (in Meta's order), then every local
// flow that is not on Meta (in local's order), each with its deployment
// record and how that compares with the local Flow JSON.
func Compare(remote []graph.Flow, records []waflow.FlowDeployment, local []Flow) []State {
	recs := map[string]*waflow.FlowDeployment{}
	for i := range records {
		recs[records[i].Flow] = &records[i]
	}
	locals := map[string]*Flow{}
	for i := range local {
		locals[local[i].Name] = &local[i]
	}
	state := func(name string) State {
		s := State{Name: name, Record: recs[name], Local: locals[name]}
		switch {
		case s.Local == nil && s.Record != nil:
			s.Sync = SyncNoLocal
		case s.Local == nil:
			s.Sync = SyncUnknown
		case s.Record == nil:
			s.Sync = SyncNotDeployed
		case s.Record.ContentHash == ContentHash(s.Local.Source):
			s.Sync = SyncUpToDate
		default:
			s.Sync = SyncChanged
		}
		return s
	}
	var out []State
	onMeta := map[string]bool{}
	for i := range remote {
		onMeta[remote[i].Name] = true
		s := state(remote[i].Name)
		s.Remote = &remote[i]
		out = append(out, s)
	}
	for _, f := range local {
		if !onMeta[f.Name] {
			out = append(out, state(f.Name))
		}
	}
	return out
}

// Status lists the flows of the WABA on Meta and the local flows with
// Compare.
func (d *Deployer) Status(ctx context.Context, local []Flow) ([]State, error) {
	remote, err := d.Client.ListFlows(ctx, d.WABAID)
	if err != nil {
		return nil, err
	}
	recs, err := d.Store.FlowDeployments(ctx, d.WABAID)
	if err != nil {
		return nil, err
	}
	return Compare(remote, recs, local), nil
}
