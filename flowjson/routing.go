package flowjson

import (
	"maps"
	"slices"
	"strings"
)

// The routing model as a graph (protocol.md 6.6).

// Routes returns the allowed forward transitions: the routing model when
// the flow has one, else the graph its navigate actions form (which is what
// Meta generates for flows without an endpoint). Every screen is a key, in
// screen order; unknown screens in the routing model are left out.
func (f *Flow) Routes() map[string][]string {
	out := make(map[string][]string, len(f.Screens))
	for _, s := range f.Screens {
		if s.ID != "" {
			out[s.ID] = []string{}
		}
	}
	add := func(from, to string) {
		if _, ok := out[from]; !ok {
			return
		}
		if _, ok := out[to]; !ok || slices.Contains(out[from], to) {
			return
		}
		out[from] = append(out[from], to)
	}
	if f.RoutingModel != nil {
		for _, r := range f.RoutingModel.Routes {
			for _, to := range r.To {
				add(r.From, to)
			}
		}
		return out
	}
	for _, s := range f.Screens {
		for _, a := range s.Actions() {
			if a.Action.Name == ActionNavigate && a.Action.Next != nil {
				add(s.ID, a.Action.Next.Name)
			}
		}
	}
	return out
}

// CanTransition reports whether the client accepts a move from screen from
// to screen to: a route of [Flow.Routes], or staying on the same screen
// (an endpoint may refresh the current screen, protocol.md 2.4). "SUCCESS"
// (completing the flow) is always allowed.
func (f *Flow) CanTransition(from, to string) bool {
	if to == "SUCCESS" || (from == to && f.Screen(from) != nil) {
		return true
	}
	return slices.Contains(f.Routes()[from], to)
}

// EntryScreens returns the screens a flow can start on: those no route
// leads to, in screen order. A flow whose graph has no such screen (a
// loop, which Validate reports, or from 6.2 a navigate-only flow with a
// NavigationList, which Meta allows) starts on its first screen.
func (f *Flow) EntryScreens() []string {
	routes := f.Routes()
	inbound := map[string]bool{}
	for _, tos := range routes {
		for _, to := range tos {
			inbound[to] = true
		}
	}
	var out []string
	for _, s := range f.Screens {
		if s.ID != "" && !inbound[s.ID] {
			out = append(out, s.ID)
		}
	}
	if len(out) == 0 && len(f.Screens) > 0 {
		out = append(out, f.Screens[0].ID)
	}
	return out
}

func (v *validator) checkRouting() {
	f := v.f
	if len(v.screens) == 0 {
		return
	}
	if f.RoutingModel != nil {
		v.checkRoutingModel()
		return
	}
	if v.endpoint {
		return // routing_model missing: already reported
	}
	v.checkNavigateGraph()
}

// checkNavigateGraph checks a flow without routing_model. Meta derives a
// routing model from its navigate actions and checks only that every screen
// is connected and that some screen is an entry screen: back links (B → A
// after A → B) and loops are allowed here (protocol.md 6.6).
func (v *validator) checkNavigateGraph() {
	g := newGraph(v, nil)
	for _, e := range v.navs {
		g.addEdge(e.from, e.to, e.ptr, e.pos)
	}
	navLists := false
	if v.ver.AtLeast(V6_2) {
		// Meta's derived routing model links a screen holding a
		// NavigationList to every other screen: its items may be data that
		// names any screen (protocol.md 6.6).
		for _, si := range v.list {
			if !si.navList || v.screens[si.s.ID] != si {
				continue
			}
			navLists = true
			for _, n := range g.nodes {
				if n != si.s.ID {
					g.addEdge(si.s.ID, n, si.ptr, si.s.pos())
				}
			}
		}
	}
	if v.brokenNav {
		// A navigate action without a valid target (reported) leaves the
		// graph incomplete: its connectivity would only repeat that error.
		return
	}
	if len(v.list) > 1 {
		for _, si := range v.list {
			id := si.s.ID
			if id != "" && len(g.out[id]) == 0 && len(g.in[id]) == 0 {
				v.errf(CodeInvalidRoutingModel, si.ptr, si.s.pos(), "Screen %q is not connected to any of the screens: no navigate action leads to it or from it. A connection is formed by the navigate screen action", id)
			}
		}
	}
	// From 6.2 a flow with a NavigationList needs no entry screen.
	if !navLists && len(g.nodes) > 0 && len(g.entries(nil)) == 0 {
		v.errf(CodeInvalidRoutingModel, "/screens", v.f.posOf("screens"), "No entry screen found: every screen is the next screen of some navigate action. The flow needs a screen that no navigate action leads to")
	}
	v.checkConnected(g, "/screens", v.f.posOf("screens"), false)
}

func (v *validator) checkRoutingModel() {
	rm := v.f.RoutingModel
	rp := "/routing_model"
	rpos := v.f.posOf("routing_model")
	listed := map[string]bool{}
	for _, r := range rm.Routes {
		listed[r.From] = true
		for _, to := range r.To {
			listed[to] = true
		}
	}
	// Terminal screens count as listed: a flow whose only screen is
	// terminal may have "routing_model": {} (protocol.md 6.6). An unlisted
	// terminal screen still has to be connected to the others.
	nodes := maps.Clone(listed)
	for _, si := range v.list {
		if si.s.IsTerminal() {
			nodes[si.s.ID] = true
		}
	}
	g := newGraph(v, nodes)
	incomplete := false
	for _, r := range rm.Routes {
		kp := ptrKey(rp, r.From)
		kpos := rm.posOf(r.From)
		if r.Raw != nil {
			v.errf(CodeInvalidPropertyType, kp, r.Raw.Pos, "expected the routes of %q to be an array of screen ids, but found %s", r.From, r.Raw.Kind)
			incomplete = true
			continue
		}
		if v.screens[r.From] == nil {
			v.errf(CodeInvalidRoutingModel, kp, kpos, "Invalid screens found in the routing model: %q is not a screen of the flow", r.From)
			continue
		}
		if len(r.To) > 10 {
			v.errf(CodeInvalidRoutingModel, kp, kpos, "Number of branches exceeds the max limit of 10 for screen %q (found %d)", r.From, len(r.To))
		}
		arr := rm.src.Get(r.From)
		for i, to := range r.To {
			tp, tpos := ptrIndex(kp, i), itemPos(arr, i)
			switch {
			case v.screens[to] == nil:
				v.errf(CodeInvalidRoutingModel, tp, tpos, "Invalid screens found in the routing model: %q (a route of %q) is not a screen of the flow", to, r.From)
			case to == r.From:
				v.errf(CodeInvalidRoutingModel, tp, tpos, "Loop detected in the routing model: %q routes to itself; remove it (an endpoint may refresh the current screen without a route)", to)
			default:
				g.addEdge(r.From, to, tp, tpos)
			}
		}
	}
	if incomplete {
		return // the graph checks would only repeat the type error
	}
	var missing []string
	for _, si := range v.list {
		if id := si.s.ID; id != "" && !nodes[id] && v.screens[id] == si {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		v.errf(CodeInvalidRoutingModel, rp, rpos, "Following screens are missing in the routing model: %s; add each as a key with the screens it may go to (an empty array for none)", strings.Join(missing, ", "))
	}
	// A navigate action needs a route between its two screens, in either
	// direction; from 6.2 a screen holding a NavigationList is exempt
	// (protocol.md 6.6).
	for _, e := range v.navs {
		if g.has(e.from, e.to) || g.has(e.to, e.from) {
			continue
		}
		if si := v.screens[e.from]; si != nil && si.navList && v.ver.AtLeast(V6_2) {
			continue
		}
		v.errf(CodeInvalidRoutingModel, e.ptr, e.pos, "Missing direct route from screen %q to screen %q in the routing model, while it exists in the navigate screen action", e.from, e.to)
	}
	v.checkBackRoutes(g)
	// Entry screen: one no route leads to.
	if len(g.nodes) > 0 && len(g.entries(nil)) == 0 {
		v.errf(CodeInvalidRoutingModel, rp, rpos, "No entry screen found in the routing model. Expected a screen with no inbound edges")
	} else if v.ver.AtLeast(V7_3) && len(g.nodes) > 0 {
		// Meta's 7.3 builder also counts the next screens of navigate
		// actions as inbound edges. Only its client-side check is known to
		// do so: a warning, not an error (protocol.md 6.6).
		inbound := map[string]bool{}
		for _, e := range v.navs {
			inbound[e.to] = true
		}
		if len(g.entries(inbound)) == 0 {
			v.warnf(CodeInvalidRoutingModel, rp, rpos, "every screen is the next screen of a route or of a navigate action: Meta's Flow Builder for Flow JSON 7.3 counts both as inbound edges and may report that the routing model has no entry screen")
		}
	}
	v.checkConnected(g, rp, rpos, true)
}

type edge struct {
	to  string
	ptr string
	pos Pos
}

type graph struct {
	nodes []string // screen ids in screen order
	out   map[string][]edge
	in    map[string][]string
}

// newGraph makes a graph of the flow's screens, or of those in only.
func newGraph(v *validator, only map[string]bool) *graph {
	g := &graph{out: map[string][]edge{}, in: map[string][]string{}}
	for _, si := range v.list {
		if id := si.s.ID; id != "" && v.screens[id] == si && (only == nil || only[id]) {
			g.nodes = append(g.nodes, id)
		}
	}
	return g
}

func (g *graph) has(from, to string) bool {
	for _, e := range g.out[from] {
		if e.to == to {
			return true
		}
	}
	return false
}

func (g *graph) addEdge(from, to, ptr string, pos Pos) {
	if g.has(from, to) {
		return
	}
	g.out[from] = append(g.out[from], edge{to, ptr, pos})
	g.in[to] = append(g.in[to], from)
}

// entries returns the nodes without an inbound edge that are not in
// inbound either.
func (g *graph) entries(inbound map[string]bool) []string {
	var out []string
	for _, n := range g.nodes {
		if len(g.in[n]) == 0 && !inbound[n] {
			out = append(out, n)
		}
	}
	return out
}

// checkConnected reports the screens not connected (ignoring direction)
// with the first screen's group. explicit says whether the graph is the
// flow's routing_model (at ptr) or derived from its navigate actions.
func (v *validator) checkConnected(g *graph, ptr string, pos Pos, explicit bool) {
	if len(g.nodes) < 2 {
		return
	}
	comp := g.components()
	for _, c := range comp[1:] {
		// Screens without any edge are reported on their own for
		// navigate-derived graphs.
		if !explicit && len(c) == 1 && len(g.out[c[0]]) == 0 && len(g.in[c[0]]) == 0 {
			continue
		}
		v.errf(CodeInvalidRoutingModel, ptr, pos, "Screens %s are not connected with the rest of the screens (%s...)", strings.Join(c, ", "), comp[0][0])
	}
}

// checkBackRoutes reports a route A → B together with B → A in a routing
// model. Longer loops are allowed as long as the flow keeps an entry screen
// (protocol.md 6.6).
func (v *validator) checkBackRoutes(g *graph) {
	back := map[[2]string]bool{}
	for _, a := range g.nodes {
		for _, e := range g.out[a] {
			if g.has(e.to, a) && !back[[2]string{e.to, a}] {
				back[[2]string{a, e.to}] = true
				for _, r := range g.out[e.to] {
					if r.to == a {
						v.errf(CodeInvalidRoutingModel, r.ptr, r.pos, "Backward route [%s-%s] corresponding to forward route [%s-%s] is not allowed. Only forward routes can be specified: going back is implicit (the back button)", e.to, a, a, e.to)
					}
				}
			}
		}
	}
}

func (g *graph) position(id string) int { return slices.Index(g.nodes, id) }

// components returns the weakly connected components, each in screen order,
// the one holding the first screen first.
func (g *graph) components() [][]string {
	seen := map[string]bool{}
	var out [][]string
	for _, n := range g.nodes {
		if seen[n] {
			continue
		}
		var comp []string
		queue := []string{n}
		seen[n] = true
		for len(queue) > 0 {
			m := queue[0]
			queue = queue[1:]
			comp = append(comp, m)
			var nb []string
			for _, e := range g.out[m] {
				nb = append(nb, e.to)
			}
			nb = append(nb, g.in[m]...)
			for _, x := range nb {
				if !seen[x] {
					seen[x] = true
					queue = append(queue, x)
				}
			}
		}
		slices.SortFunc(comp, func(a, b string) int { return g.position(a) - g.position(b) })
		out = append(out, comp)
	}
	return out
}
