package flowjson

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidateSource parses src and validates it. A document that is not JSON
// gives a nil flow and one INVALID_FLOW_JSON problem at the position of the
// syntax error.
func ValidateSource(src []byte) (*Flow, Problems) {
	var size Problems
	if len(src) > maxFlowJSONBytes {
		size = Problems{{Code: CodeFlowJSONTooLarge, Line: 1, Column: 1,
			Message: fmt.Sprintf("the Flow JSON is %d bytes; Meta accepts at most 10 MB (%d bytes): move large images out of the flow", len(src), maxFlowJSONBytes)}}
	}
	f, err := Parse(src)
	if err != nil {
		p := Problem{Code: CodeInvalidFlowJSON, Message: err.Error()}
		if se, ok := err.(*SyntaxError); ok {
			p.Message, p.Line, p.Column = se.Msg, se.Pos.Line, se.Pos.Col
		}
		return nil, append(size, p)
	}
	ps := append(size, Validate(f)...)
	ps.sort()
	return f, ps
}

// Validate checks f as Meta's Flow Builder and Flows API do (protocol.md
// section 6) and returns every problem at once, sorted by position: unknown
// or misplaced properties, versions, limits, actions and where they may be
// used, the routing model as a graph, navigate payloads against the next
// screen's data model, screen data models, and every dynamic reference and
// nested expression against the field it names.
func Validate(f *Flow) Problems {
	v := &validator{f: f, screens: map[string]*screenInfo{}}
	v.run()
	v.probs.sort()
	return v.probs
}

type validator struct {
	f        *Flow
	ver      Version
	endpoint bool // data_api_version is set: an endpoint flow
	probs    Problems
	screens  map[string]*screenInfo
	list     []*screenInfo
	navs     []navEdge // every navigate action, for the routing checks
	// brokenNav: some navigate action has no valid target, so the graph
	// derived from navigate actions is incomplete.
	brokenNav bool
	carousel  int // ImageCarousels in the flow
}

type screenInfo struct {
	s       *Screen
	ptr     string
	inputs  map[string]*compInfo
	forms   map[string]*compInfo
	hasForm bool
	navList bool // the screen holds a NavigationList
}

type compInfo struct {
	c      *Component
	ptr    string
	inForm bool
}

type navEdge struct {
	from, to string
	ptr      string
	pos      Pos
}

// walkCtx is where a component sits in its screen.
type walkCtx struct {
	si       *screenInfo
	parent   string // "", "Form", "If" or "Switch"
	inForm   bool
	ifDepth  int
	inBranch bool
}

func (v *validator) add(sev Severity, code, ptr string, pos Pos, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	v.probs = append(v.probs, Problem{Severity: sev, Code: code, Message: msg, Pointer: ptr, Line: pos.Line, Column: pos.Col})
}

func (v *validator) errf(code, ptr string, pos Pos, format string, args ...any) {
	v.add(SeverityError, code, ptr, pos, format, args...)
}

func (v *validator) warnf(code, ptr string, pos Pos, format string, args ...any) {
	v.add(SeverityWarning, code, ptr, pos, format, args...)
}

// ptrKey appends an object key to a JSON pointer, escaped per RFC 6901.
func ptrKey(base, key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] == '~' || key[i] == '/' {
			key = strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
			break
		}
	}
	return base + "/" + key
}

func ptrIndex(base string, i int) string { return base + "/" + strconv.Itoa(i) }

func (v *validator) run() {
	f := v.f
	v.checkTop()
	for i, s := range f.Screens {
		si := &screenInfo{s: s, ptr: ptrIndex("/screens", i), inputs: map[string]*compInfo{}, forms: map[string]*compInfo{}}
		v.list = append(v.list, si)
		if s.ID != "" {
			if _, dup := v.screens[s.ID]; dup {
				v.errf(CodeDuplicateScreenIDs, ptrKey(si.ptr, "id"), s.posOf("id"), "screen id %q is used by more than one screen; screen ids must be unique", s.ID)
			} else {
				v.screens[s.ID] = si
			}
		}
		if s.Layout != nil {
			v.index(si, s.Layout.Children, ptrKey(ptrKey(si.ptr, "layout"), "children"), false)
		}
	}
	for _, si := range v.list {
		v.checkScreen(si)
	}
	v.checkTerminals()
	v.checkRouting()
	if v.carousel > 3 {
		v.errf(CodeInvalidPropertyValue, "/screens", f.posOf("screens"), "Maximum number of ImageCarousel allowed per flow is 3 but found %d", v.carousel)
	}
	if f.src != nil {
		v.checkDuplicateKeys(f.src, nil)
	}
}

// index records the inputs and forms of a screen (across all If/Switch
// branches) before any reference is checked, so references may point
// forward and to other screens.
func (v *validator) index(si *screenInfo, list []*Component, ptr string, inForm bool) {
	for i, c := range list {
		cp := ptrIndex(ptr, i)
		switch c.Type {
		case "Form":
			si.hasForm = true
			if c.Name != "" {
				si.forms[c.Name] = &compInfo{c: c, ptr: cp}
			}
			v.index(si, c.Children, ptrKey(cp, "children"), true)
			continue
		case "If":
			v.index(si, c.Then, ptrKey(cp, "then"), inForm)
			v.index(si, c.Else, ptrKey(cp, "else"), inForm)
			continue
		case "Switch":
			if c.Cases != nil {
				for _, k := range c.Cases.Cases {
					v.index(si, k.Children, ptrKey(ptrKey(cp, "cases"), k.Value), inForm)
				}
			}
			continue
		case "NavigationList":
			si.navList = true
		}
		if !IsInput(c.Type) || c.Name == "" {
			continue
		}
		if prev, dup := si.inputs[c.Name]; dup {
			v.errf(CodeDuplicateFormComponentNames, ptrKey(cp, "name"), c.posOf("name"),
				"the name %q is already used by the %s at %s; input names must be unique on a screen, across all If/Switch branches", c.Name, prev.c.Type, prev.ptr)
			continue
		}
		si.inputs[c.Name] = &compInfo{c: c, ptr: cp, inForm: inForm}
	}
}

var flowKeyTypes = map[string]string{
	"version": "string", "data_api_version": "string", "routing_model": "object",
	"data_channel_uri": "string", "screens": "array of screen objects",
}

func (v *validator) checkTop() {
	f := v.f
	v.ver = Latest
	for _, m := range f.Extra {
		if t, ok := flowKeyTypes[m.Key]; ok {
			v.errf(CodeInvalidPropertyType, ptrKey("", m.Key), m.Value.Pos, "expected property '%s' to be of type %s, but found %s", m.Key, t, m.Value.Kind)
			continue
		}
		v.errf(CodeInvalidPropertyKey, ptrKey("", m.Key), m.KeyPos, "unknown top-level property '%s'; a Flow JSON may only have version, screens, data_api_version, routing_model and (before 3.0) data_channel_uri", m.Key)
	}
	switch vv := f.src.Get("version"); {
	case vv != nil && vv.Kind != String:
		// Reported as INVALID_PROPERTY_TYPE above; check against the latest version.
	case f.Version == "" && vv == nil:
		v.errf(CodeMissingFlowJSONVersion, "", f.pos(), "the flow has no \"version\"; add \"version\": %q", Latest.String())
	default:
		ver, ok := ParseVersion(f.Version)
		switch {
		case !ok:
			v.errf(CodeInvalidFlowJSONVersion, "/version", f.posOf("version"), "version %q is not a Flow JSON version; write it as a string such as %q", f.Version, Latest.String())
		case !ver.Known():
			v.errf(CodeUnsupportedFlowJSONVersion, "/version", f.posOf("version"), "Flow JSON version %s is not supported; use one of %s (%s recommended)", f.Version, versionList(), Latest)
		default:
			v.ver = ver
			if !ver.Publishable() {
				v.warnf(CodeFrozenVersion, "/version", f.posOf("version"), "Flow JSON %s is frozen: existing flows can still be sent, but new flows cannot be published with it; use %s", ver, Latest)
			}
		}
	}
	if f.DataAPIVersion != "" || f.has("data_api_version") {
		v.endpoint = true
		if !slices.Contains(DataAPIVersions, f.DataAPIVersion) {
			v.errf(CodeNoSupportedDataAPIVersion, "/data_api_version", f.posOf("data_api_version"), "data_api_version %q is not supported; use \"4.0\" (or \"3.0\")", f.DataAPIVersion)
		}
		if f.RoutingModel == nil && !f.has("routing_model") {
			v.errf(CodeMissingRequiredProperty, "/data_api_version", f.posOf("data_api_version"), "The property 'routing_model' is required for property 'data_api_version': add a routing_model listing every screen and the screens it may go to")
		}
	}
	if f.DataChannelURI != "" || f.has("data_channel_uri") {
		if v.ver.AtLeast(V3_0) {
			v.errf(CodeInvalidPropertyKey, "/data_channel_uri", f.posOf("data_channel_uri"), "data_channel_uri is no longer supported in Flow JSON as of version 3.0: remove it and set the endpoint URI through the Flows API (endpoint_uri)")
		} else if u, err := url.Parse(f.DataChannelURI); err != nil || u.Scheme != "https" || u.Host == "" {
			v.errf(CodeInvalidPropertyValueFormat, "/data_channel_uri", f.posOf("data_channel_uri"), "data_channel_uri %q must be an absolute https:// URI", f.DataChannelURI)
		}
	}
	switch {
	case f.Screens == nil && !f.has("screens"):
		v.errf(CodeMissingRequiredProperty, "", f.pos(), "the flow has no \"screens\"; add at least one screen")
	case f.Screens != nil && len(f.Screens) == 0:
		v.errf(CodeMinItemsRequired, "/screens", f.posOf("screens"), "\"screens\" is empty; a flow needs at least one screen")
	case len(f.Screens) > maxScreens:
		v.errf(CodeMaxScreensNumber, "/screens", f.posOf("screens"), "a flow may have at most %d screens but has %d", maxScreens, len(f.Screens))
	}
}

func versionList() string {
	var s []string
	for _, v := range KnownVersions() {
		s = append(s, v.String())
	}
	return strings.Join(s, ", ")
}

var screenIDPattern = regexp.MustCompile(`^[A-Za-z_]+$`)

var screenKeyTypes = map[string]string{
	"id": "string", "title": "string", "terminal": "boolean", "success": "boolean",
	"data": "object", "layout": "object", "refresh_on_back": "boolean", "sensitive": "array of strings",
}

func (v *validator) checkScreen(si *screenInfo) {
	s := si.s
	for _, m := range s.Extra {
		if t, ok := screenKeyTypes[m.Key]; ok {
			v.errf(CodeInvalidPropertyType, ptrKey(si.ptr, m.Key), m.Value.Pos, "expected property '%s' to be of type %s, but found %s", m.Key, t, m.Value.Kind)
			continue
		}
		v.errf(CodeInvalidPropertyKey, ptrKey(si.ptr, m.Key), m.KeyPos, "unknown screen property '%s'; a screen may have id, title, terminal, success, data, layout, refresh_on_back and sensitive", m.Key)
	}
	idPtr := ptrKey(si.ptr, "id")
	switch iv := s.src.Get("id"); {
	case iv != nil && iv.Kind != String:
		// Reported as INVALID_PROPERTY_TYPE above.
	case s.ID == "" && iv == nil:
		v.errf(CodeMissingRequiredProperty, si.ptr, s.pos(), "the screen has no \"id\"")
	case s.ID == "":
		v.errf(CodeMinCharsRequired, idPtr, s.posOf("id"), "the screen id is empty")
	case s.ID == "SUCCESS" || s.ID == "success":
		// Meta's docs reserve SUCCESS, its Flow Builder checks success:
		// both are reserved (protocol.md 6.3).
		v.errf(CodeScreenIDIsReservedKeyword, idPtr, s.posOf("id"), "'%s' is a reserved keyword and cannot be used as a screen id (the endpoint answers \"screen\": \"SUCCESS\" to complete a flow)", s.ID)
	case !screenIDPattern.MatchString(s.ID):
		v.errf(CodePatternMismatch, idPtr, s.posOf("id"), "screen id %q should only consist of alphabets and underscores", s.ID)
	}
	if s.Title != "" {
		v.checkString(si, s.Title, tString, ptrKey(si.ptr, "title"), s.posOf("title"), propCtx)
	}
	if s.Success != nil && !s.IsTerminal() {
		v.errf(CodeNotKeywordSchemaValidation, ptrKey(si.ptr, "success"), s.posOf("success"), "Property 'success' can only be specified on a terminal screen; remove it or set \"terminal\": true")
	}
	if s.RefreshOnBack != nil && *s.RefreshOnBack && !v.endpoint {
		v.errf(CodeInvalidPropertyValue, ptrKey(si.ptr, "refresh_on_back"), s.posOf("refresh_on_back"), "Property 'refresh_on_back' can be true only when property 'data_api_version' is set (the BACK request goes to the endpoint)")
	}
	if s.Sensitive != nil {
		sp := ptrKey(si.ptr, "sensitive")
		if v.ver.Less(V5_1) {
			v.errf(CodeInvalidPropertyKey, sp, s.posOf("sensitive"), "'sensitive' needs Flow JSON 5.1 or later; this flow is %s", v.ver)
		}
		for i, name := range s.Sensitive {
			// Meta looks the name up among the screen's named components.
			if si.inputs[name] == nil && si.forms[name] == nil {
				v.errf(CodeInvalidSensitiveField, ptrIndex(sp, i), itemPos(s.src.Get("sensitive"), i), "'sensitive' names %q, which is not an input component of screen %q", name, s.ID)
			}
		}
	}
	if s.Data != nil {
		v.checkDataModel(si)
	}
	lp := ptrKey(si.ptr, "layout")
	if s.Layout == nil {
		if !s.has("layout") {
			v.errf(CodeMissingRequiredProperty, si.ptr, s.pos(), "screen %q has no \"layout\"; add {\"type\": \"SingleColumnLayout\", \"children\": [...]}", s.ID)
		}
		return
	}
	l := s.Layout
	for _, m := range l.Extra {
		if m.Key == "type" || m.Key == "children" {
			v.errf(CodeInvalidPropertyType, ptrKey(lp, m.Key), m.Value.Pos, "expected property '%s' to be of type %s, but found %s", m.Key, map[string]string{"type": "string", "children": "array of components"}[m.Key], m.Value.Kind)
			continue
		}
		v.errf(CodeInvalidPropertyKey, ptrKey(lp, m.Key), m.KeyPos, "unknown layout property '%s'; a layout has only type and children", m.Key)
	}
	switch tv := l.src.Get("type"); {
	case tv != nil && tv.Kind != String:
		// Reported as INVALID_PROPERTY_TYPE above.
	case l.Type == "" && tv == nil:
		v.errf(CodeMissingRequiredProperty, lp, l.pos(), "the layout has no \"type\"; use \"SingleColumnLayout\"")
	case l.Type != "SingleColumnLayout":
		v.errf(CodeInvalidPropertyValue, ptrKey(lp, "type"), l.posOf("type"), "unknown layout type %q; the only layout is \"SingleColumnLayout\"", l.Type)
	}
	if l.Children == nil {
		if !l.has("children") {
			v.errf(CodeMissingRequiredProperty, lp, l.pos(), "the layout has no \"children\"")
		}
		return
	}
	cp := ptrKey(lp, "children")
	v.walk(l.Children, cp, walkCtx{si: si})
	v.checkScreenCounts(si, cp)
}

func itemPos(arr *Value, i int) Pos {
	if arr == nil || arr.Kind != Array || i >= len(arr.Items) {
		return Pos{}
	}
	return arr.Items[i].Pos
}

// checkScreenCounts applies the per-screen limits of protocol.md 6.3 and 6.7.
func (v *validator) checkScreenCounts(si *screenInfo, ptr string) {
	s := si.s
	counts := map[string]int{}
	var first = map[string]*Component{}
	total := 0
	var count func([]*Component)
	count = func(list []*Component) {
		for _, c := range list {
			switch c.Type {
			case "Form":
				count(c.Children)
				continue
			case "If":
				count(c.Then)
				count(c.Else)
				continue
			case "Switch":
				if c.Cases != nil {
					for _, k := range c.Cases.Cases {
						count(k.Children)
					}
				}
				continue
			}
			total++
			counts[c.Type]++
			if first[c.Type] == nil {
				first[c.Type] = c
			}
		}
	}
	count(s.Layout.Children)
	pos := s.Layout.posOf("children")
	if total > maxComponentsPerScreen {
		v.errf(CodeMaxComponentsPerScreen, ptr, pos, "screen %q has %d components; a screen may have at most %d: split it into several screens", s.ID, total, maxComponentsPerScreen)
	}
	limit := func(typ string, max int, code string) {
		if n := counts[typ]; n > max {
			v.errf(code, ptr, pos, "Maximum number of %s allowed per screen is %d but found %d", typ, max, n)
		}
	}
	limit("EmbeddedLink", 2, CodeMaxEmbeddedLinkPerScreen)
	limit("Image", 3, CodeMaxImagePerScreen)
	limit("OptIn", 5, CodeMaxOptInPerScreen)
	limit("ImageCarousel", 2, CodeComponentTypeMaxNumberPerScreen)
	limit("NavigationList", 2, CodeComponentTypeMaxNumberPerScreen)
	v.carousel += counts["ImageCarousel"]
	if n := counts["PhotoPicker"] + counts["DocumentPicker"]; n > 1 {
		v.errf(CodeComponentTypeMaxNumberPerScreen, ptr, pos, "You can only have a maximum of 1 component of type PhotoPicker or DocumentPicker per screen, but screen %q has %d", s.ID, n)
	}
	if n := counts["NavigationList"]; n > 0 {
		if s.IsTerminal() {
			// Meta reports the screen's "terminal" as not allowed.
			v.errf(CodeInvalidPropertyKey, ptrKey(si.ptr, "terminal"), s.posOf("terminal"), "a screen with a NavigationList cannot be terminal; move the NavigationList to a screen before %q", s.ID)
		}
		if total > n {
			v.errf(CodeInvalidComponentPlacement, ptr, pos, "a screen with a NavigationList cannot have other components, but screen %q has %d more", s.ID, total-n)
		}
	}
	if n := counts["RichText"]; n > 0 {
		others := total - n
		if v.ver.AtLeast(V6_3) {
			others -= counts["Footer"]
		}
		if others > 0 || n > 1 {
			if v.ver.AtLeast(V6_3) {
				v.errf(CodeInvalidComponentPlacement, ptr, pos, "RichText must be the only component on its screen apart from a Footer, but screen %q has other components", s.ID)
			} else {
				v.errf(CodeInvalidComponentPlacement, ptr, pos, "before Flow JSON 6.3 RichText must be the only component on its screen, but screen %q has other components", s.ID)
			}
		}
	}
	// Footers: at most one on any path through If/Switch branches.
	n := footersOnPath(s.Layout.Children)
	if n > 1 {
		code := CodeMaxFooterPerScreen
		if footerInBranch(s.Layout.Children, false) {
			code = CodeMoreThanOneFooter
		}
		v.errf(code, ptr, pos, "Maximum number of Footer allowed per screen is 1 but found %d on screen %q", n, s.ID)
	}
	if s.IsTerminal() && counts["Footer"] == 0 {
		v.errf(CodeMissingFooterOnTerminalScreen, si.ptr, s.pos(), "terminal screen %q has no Footer; a terminal screen needs a Footer (usually with a complete action)", s.ID)
	}
}

// footersOnPath is the most Footers one rendering of list can show.
func footersOnPath(list []*Component) int {
	n := 0
	for _, c := range list {
		switch c.Type {
		case "Footer":
			n++
		case "Form":
			n += footersOnPath(c.Children)
		case "If":
			n += max(footersOnPath(c.Then), footersOnPath(c.Else))
		case "Switch":
			m := 0
			if c.Cases != nil {
				for _, k := range c.Cases.Cases {
					m = max(m, footersOnPath(k.Children))
				}
			}
			n += m
		}
	}
	return n
}

func footerInBranch(list []*Component, inBranch bool) bool {
	for _, c := range list {
		switch c.Type {
		case "Footer":
			if inBranch {
				return true
			}
		case "Form":
			if footerInBranch(c.Children, inBranch) {
				return true
			}
		case "If":
			if footerInBranch(c.Then, true) || footerInBranch(c.Else, true) {
				return true
			}
		case "Switch":
			if c.Cases != nil {
				for _, k := range c.Cases.Cases {
					if footerInBranch(k.Children, true) {
						return true
					}
				}
			}
		}
	}
	return false
}

func (v *validator) checkTerminals() {
	if len(v.f.Screens) == 0 {
		return
	}
	terminal, success := 0, 0
	var lastTerminal *screenInfo
	for _, si := range v.list {
		if si.s.IsTerminal() {
			terminal++
			lastTerminal = si
			if si.s.Success == nil || *si.s.Success {
				success++
			}
		}
	}
	if terminal == 0 {
		v.errf(CodeMissingTerminalScreen, "/screens", v.f.posOf("screens"), "the flow has no terminal screen; set \"terminal\": true on the last screen")
		return
	}
	if success == 0 {
		v.errf(CodeInvalidPropertyValue, ptrKey(lastTerminal.ptr, "success"), lastTerminal.s.posOf("success"), "At least one terminal screen must have property 'success' set as true")
	}
}

// checkDuplicateKeys reports objects that repeat a property.
func (v *validator) checkDuplicateKeys(val *Value, path []string) {
	switch val.Kind {
	case Object:
		// Objects in a flow are small: a quadratic scan beats a map.
		for i, m := range val.Members {
			for _, prev := range val.Members[:i] {
				if prev.Key == m.Key {
					v.errf(CodeDuplicateKey, joinPtr(append(path, m.Key)), m.KeyPos, "property '%s' appears more than once in this object; only the last one counts: remove the others", m.Key)
					break
				}
			}
		}
		for _, m := range val.Members {
			if m.Value.Kind == Object || m.Value.Kind == Array {
				v.checkDuplicateKeys(m.Value, append(path, m.Key))
			}
		}
	case Array:
		for i, it := range val.Items {
			if it.Kind == Object || it.Kind == Array {
				v.checkDuplicateKeys(it, append(path, strconv.Itoa(i)))
			}
		}
	}
}

func joinPtr(path []string) string {
	s := ""
	for _, p := range path {
		s = ptrKey(s, p)
	}
	return s
}

// Component checks.

var componentInfo = infoOf(reflect.TypeFor[Component]())

// componentKeyKinds names the expected JSON type of the typed (non-*Value)
// component properties, for INVALID_PROPERTY_TYPE messages.
var componentKeyKinds = map[string]string{
	"type": "string", "name": "string",
	"data-source": "array of options or a ${data.x} reference",
	"list-items":  "array of items or a ${data.x} reference",
	"images":      "array of images or a ${data.x} reference",
	"then":        "array of components", "else": "array of components", "children": "array of components",
	"cases":           "object of arrays of components",
	"on-click-action": "object", "on-select-action": "object", "on-unselect-action": "object",
}

func (v *validator) walk(list []*Component, ptr string, ctx walkCtx) {
	for i, c := range list {
		v.checkComponent(c, ptrIndex(ptr, i), ctx)
	}
}

func (v *validator) checkComponent(c *Component, ptr string, ctx walkCtx) {
	if c.Type == "" {
		if c.src.Get("type") == nil {
			v.errf(CodeMissingRequiredTypeProperty, ptr, c.pos(), "Required property 'type' is missing: every component needs a \"type\"")
		} else {
			v.errf(CodeInvalidPropertyType, ptrKey(ptr, "type"), c.posOf("type"), "expected property 'type' to be of type string, but found %s", c.src.Get("type").Kind)
		}
		return
	}
	spec := componentSpecs[c.Type]
	if spec == nil {
		v.errf(CodeInvalidPropertyValue, ptrKey(ptr, "type"), c.posOf("type"), "unknown component type %q; use one of %s", c.Type, strings.Join(componentTypes, ", "))
		return
	}
	if v.ver.Less(spec.since) {
		v.errf(CodeInvalidPropertyValue, ptrKey(ptr, "type"), c.posOf("type"), "%s needs Flow JSON %s or later; this flow is %s", c.Type, spec.since, v.ver)
	}
	v.checkPlacement(c, ptr, ctx)

	// Properties.
	for i := range componentValueProps {
		p := &componentValueProps[i]
		if val := p.get(c); val != nil {
			if ps, ok := v.propAllowed(c, spec, p.key, ptr, ctx); ok && ps.kind != pStructure {
				v.checkProp(ctx.si, c, p.key, ps, val, lazyPtr{ptr, p.key})
			}
		}
	}
	for _, p := range [...]struct {
		key string
		set bool
	}{
		{"name", c.Name != "" || c.src.Get("name") != nil && c.src.Get("name").Kind == String},
		{"data-source", c.DataSource != nil}, {"images", c.Images != nil}, {"list-items", c.ListItems != nil},
		{"on-click-action", c.OnClickAction != nil}, {"on-select-action", c.OnSelectAction != nil},
		{"on-unselect-action", c.OnUnselectAction != nil}, {"then", c.Then != nil}, {"else", c.Else != nil},
		{"cases", c.Cases != nil}, {"children", c.Children != nil},
	} {
		if p.set {
			v.propAllowed(c, spec, p.key, ptr, ctx)
		}
	}
	for _, m := range c.Extra {
		if t, ok := componentKeyKinds[m.Key]; ok {
			if _, allowed := spec.props[m.Key]; allowed {
				v.errf(CodeInvalidPropertyType, ptrKey(ptr, m.Key), m.Value.Pos, "expected property '%s' of %s to be of type %s, but found %s", m.Key, c.Type, t, m.Value.Kind)
				continue
			}
		}
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, m.Key), m.KeyPos, "%s has no property '%s'%s", c.Type, m.Key, propHint(spec, m.Key))
	}
	for _, key := range spec.required {
		ps := spec.props[key]
		req := ps.required || v.ver.AtLeast(ps.requiredSince)
		if req && !c.hasProp(key) {
			v.errf(CodeMissingRequiredProperty, ptr, c.pos(), "%s is missing the required property '%s'", c.Type, key)
		}
	}
	if c.Name == "" && c.src.Get("name") != nil && c.src.Get("name").Kind == String {
		v.errf(CodeMinCharsRequired, ptrKey(ptr, "name"), c.posOf("name"), "the name of %s is empty", c.Type)
	}

	v.checkSpecific(c, ptr, ctx)

	// Actions.
	for _, ev := range []struct {
		key string
		a   *Action
	}{{"on-click-action", c.OnClickAction}, {"on-select-action", c.OnSelectAction}, {"on-unselect-action", c.OnUnselectAction}} {
		if _, ok := spec.props[ev.key]; ok && ev.a != nil {
			v.checkAction(ctx.si, ev.a, ptrKey(ptr, ev.key), c.Type, ev.key, c)
		}
	}

	// Children.
	switch c.Type {
	case "Form":
		inner := ctx
		inner.parent, inner.inForm = "Form", true
		v.walk(c.Children, ptrKey(ptr, "children"), inner)
	case "If":
		inner := ctx
		inner.parent, inner.ifDepth, inner.inBranch = "If", ctx.ifDepth+1, true
		v.walk(c.Then, ptrKey(ptr, "then"), inner)
		v.walk(c.Else, ptrKey(ptr, "else"), inner)
	case "Switch":
		inner := ctx
		inner.parent, inner.inBranch = "Switch", true
		if c.Cases != nil {
			for _, k := range c.Cases.Cases {
				if k.Children != nil {
					v.walk(k.Children, ptrKey(ptrKey(ptr, "cases"), k.Value), inner)
				}
			}
		}
	}
}

// propAllowed reports whether component c may have property key in this
// flow's version and place, and reports it when not.
func (v *validator) propAllowed(c *Component, spec *componentSpec, key, ptr string, ctx walkCtx) (propSpec, bool) {
	ps, ok := spec.props[key]
	if !ok {
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, key), c.keyPos(key), "%s has no property '%s'%s", c.Type, key, propHint(spec, key))
		return ps, false
	}
	if v.ver.Less(ps.since) {
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, key), c.keyPos(key), "'%s' of %s needs Flow JSON %s or later; this flow is %s", key, c.Type, ps.since, v.ver)
	}
	if ctx.inForm && spec.input && (key == "init-value" || key == "error-message") {
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, key), c.keyPos(key), "'%s' is only available outside a Form; inside a Form use the Form's '%ss'", key, key)
	}
	return ps, true
}

// lazyPtr is a JSON pointer built only when a problem needs it: most
// properties are fine, and building every pointer would dominate the cost
// of validating a large flow.
type lazyPtr struct{ base, key string }

func (p lazyPtr) String() string { return ptrKey(p.base, p.key) }

// keyPos is the position of a property's key (or of the component).
func (c *Component) keyPos(key string) Pos {
	if m := c.src.member(key); m != nil {
		return m.KeyPos
	}
	return c.pos()
}

// hasProp reports whether the component has property key, set in Go or
// present in the source (even with a wrong type).
func (c *Component) hasProp(key string) bool {
	if c.src != nil && c.src.Get(key) != nil {
		return true
	}
	idx, ok := componentInfo.byKey[key]
	if !ok {
		return false
	}
	fi := &componentInfo.fields[idx]
	return isSet(fi, reflect.ValueOf(c).Elem().Field(fi.index), c.src)
}

// propHint suggests the property the author probably meant.
func propHint(spec *componentSpec, key string) string {
	for _, cand := range []string{strings.ReplaceAll(key, "_", "-"), strings.ToLower(key), camelToKebab(key)} {
		if _, ok := spec.props[cand]; ok && cand != key {
			return fmt.Sprintf("; did you mean '%s'? (component properties are kebab-case)", cand)
		}
	}
	return ""
}

func camelToKebab(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('-')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkPlacement enforces where a component may sit (protocol.md 6.4, 6.7).
func (v *validator) checkPlacement(c *Component, ptr string, ctx walkCtx) {
	if ctx.parent == "" && c.Type != "If" && c.Type != "Footer" && !(IsInput(c.Type) && (v.ver.Less(V4_0) || ctx.si.hasForm)) {
		return // nothing to check: the common case, kept cheap
	}
	tp := ptrKey(ptr, "type")
	pos := c.posOf("type")
	switch ctx.parent {
	case "If":
		if !allowedInIf[c.Type] && !(c.Type == "ChipsSelector" && v.ver.AtLeast(V7_1)) {
			v.errf(CodeComponentNotAllowed, tp, pos, "%s is not allowed inside If", c.Type)
		}
	case "Switch":
		if !allowedInIf[c.Type] && !(c.Type == "ChipsSelector" && v.ver.AtLeast(V7_1)) || c.Type == "If" || c.Type == "Switch" {
			v.errf(CodeComponentNotAllowed, tp, pos, "%s is not allowed inside a Switch case", c.Type)
		}
	case "Form":
		if c.Type == "Form" {
			v.errf(CodeComponentNotAllowed, tp, pos, "a Form cannot contain another Form")
		}
	}
	if c.Type == "If" && ctx.ifDepth >= maxIfDepth {
		v.errf(CodeMaximumIfNesting, tp, pos, "If can only be nested up to %d levels deep; this one is level %d", maxIfDepth, ctx.ifDepth+1)
	}
	if c.Type == "Footer" && ctx.ifDepth > 1 {
		v.errf(CodeComponentNotAllowed, tp, pos, "a Footer inside If is only allowed at the first level of If, not in a nested If")
	}
	if IsInput(c.Type) {
		if v.ver.Less(V4_0) && !ctx.inForm {
			v.errf(CodeKeywordOneOf, tp, pos, "%s %q must be defined inside parent property 'Form' before Flow JSON 4.0", c.Type, c.Name)
		} else if ctx.si.hasForm && !ctx.inForm {
			v.errf(CodeComponentsOutsideForm, tp, pos, "%s %q is outside the screen's Form; when a screen has a Form, every input must be inside it", c.Type, c.Name)
		}
	}
}

// Property checks.

// refCtx says which error code a failed reference gets.
type refCtx uint8

const (
	propCtx    refCtx = iota // a component or screen property
	payloadCtx               // an action payload
)

// checkProp checks one *Value property of a component against its spec.
func (v *validator) checkProp(si *screenInfo, c *Component, key string, ps propSpec, val *Value, lp lazyPtr) {
	// Fast paths for the common, correct literals.
	switch {
	case (ps.kind == pString || ps.kind == pEnum || ps.kind == pText) && val.Kind == String && classify(val.Str) == dynLiteral:
		if !literalOK(ps, val.Str) {
			v.checkLiteral(key, ps, val.Str, lp.String(), val.Pos)
		}
		return
	case ps.kind == pBool && val.Kind == Bool:
		return
	case ps.kind == pInt && val.Kind == Number:
		if n, ok := val.AsInt(); ok && n >= 0 {
			return
		}
	}
	ptr := lp.String()
	if ps.rangeable && val.Kind == Object {
		if !isRange(c) {
			v.errf(CodeInvalidPropertyType, ptr, val.Pos, "'%s' can be a {\"start-date\", \"end-date\"} object only when \"mode\" is \"range\"", key)
			return
		}
		for _, m := range val.Members {
			if m.Key != "start-date" && m.Key != "end-date" {
				v.errf(CodeInvalidPropertyKey, ptrKey(ptr, m.Key), m.KeyPos, "'%s' in range mode has only \"start-date\" and \"end-date\"", key)
				continue
			}
			inner := ps
			inner.rangeable = false
			v.checkProp(si, c, key, inner, m.Value, lazyPtr{ptr, m.Key})
		}
		return
	}
	switch ps.kind {
	case pString, pEnum:
		if val.Kind != String {
			v.typeError(key, "string", val, ptr)
			return
		}
		if v.checkString(si, val.Str, tString, ptr, val.Pos, propCtx) {
			v.checkLiteral(key, ps, val.Str, ptr, val.Pos)
		}
	case pText:
		switch {
		case val.Kind == String:
			if v.checkString(si, val.Str, tString, ptr, val.Pos, propCtx) {
				v.checkLiteral(key, ps, val.Str, ptr, val.Pos)
			}
		case val.Kind == Array && v.ver.AtLeast(V5_1):
			if len(val.Items) == 0 && ps.nonEmpty {
				v.errf(CodeMinItemsRequired, ptr, val.Pos, "'%s' is an empty array", key)
			}
			total := 0
			for i, it := range val.Items {
				ip := ptrIndex(ptr, i)
				if it.Kind != String {
					v.typeError(key+" item", "string", it, ip)
					continue
				}
				if v.checkString(si, it.Str, tString, ip, it.Pos, propCtx) {
					total += utf8.RuneCountInString(it.Str)
				}
			}
			if ps.maxLen > 0 && total > ps.maxLen {
				v.errf(CodeMaxCharsExceeded, ptr, val.Pos, "'%s' has %d characters; the limit is %d", key, total, ps.maxLen)
			}
		case val.Kind == Array:
			v.errf(CodeInvalidPropertyType, ptr, val.Pos, "'%s' can be an array of strings only from Flow JSON 5.1; this flow is %s", key, v.ver)
		default:
			v.typeError(key, "string", val, ptr)
		}
	case pBool:
		switch val.Kind {
		case Bool:
		case String:
			if classify(val.Str) == dynLiteral {
				v.typeError(key, "boolean", val, ptr)
				return
			}
			v.checkString(si, val.Str, tBool, ptr, val.Pos, propCtx)
		default:
			v.typeError(key, "boolean", val, ptr)
		}
	case pInt:
		switch val.Kind {
		case Number:
			n, ok := val.AsInt()
			if !ok {
				v.errf(CodeInvalidPropertyType, ptr, val.Pos, "'%s' must be a whole number, found %s", key, val.Str)
			} else if n < 0 {
				v.errf(CodeMinimumValueRequired, ptr, val.Pos, "'%s' must be 0 or more, found %d", key, n)
			}
		case String:
			if classify(val.Str) == dynLiteral {
				if _, err := strconv.ParseUint(val.Str, 10, 31); err != nil {
					v.errf(CodePatternMismatch, ptr, val.Pos, "'%s' must be a number or a ${data.x} reference, found %q", key, val.Str)
				}
				return
			}
			v.checkString(si, val.Str, tNumber, ptr, val.Pos, propCtx)
		default:
			v.typeError(key, "number", val, ptr)
		}
	case pNumber:
		switch val.Kind {
		case Number:
			if f, _ := val.AsFloat(); f <= 0 {
				v.errf(CodeMinimumValueRequired, ptr, val.Pos, "'%s' must be greater than 0", key)
			}
		case String:
			if classify(val.Str) == dynLiteral {
				v.typeError(key, "number", val, ptr)
				return
			}
			v.checkString(si, val.Str, tNumber, ptr, val.Pos, propCtx)
		default:
			v.typeError(key, "number", val, ptr)
		}
	case pStrings, pDates:
		switch val.Kind {
		case Array:
			for i, it := range val.Items {
				ip := ptrIndex(ptr, i)
				if it.Kind != String {
					v.typeError(key+" item", "string", it, ip)
					continue
				}
				if v.checkString(si, it.Str, tString, ip, it.Pos, propCtx) {
					if ps.kind == pDates {
						v.checkDate(c, key, it.Str, ip, it.Pos)
					} else if ps.enum != nil && !slices.Contains(ps.enum, it.Str) {
						v.errf(CodeInvalidEnumValue, ip, it.Pos, "Value should be one of: [%s], found %q", strings.Join(ps.enum, ", "), it.Str)
					}
				}
			}
		case String:
			if classify(val.Str) == dynLiteral {
				v.typeError(key, "array", val, ptr)
				return
			}
			v.checkString(si, val.Str, tArray, ptr, val.Pos, propCtx)
		default:
			v.typeError(key, "array", val, ptr)
		}
	case pDate:
		if val.Kind != String {
			v.typeError(key, "string", val, ptr)
			return
		}
		if v.checkString(si, val.Str, tString, ptr, val.Pos, propCtx) {
			v.checkDate(c, key, val.Str, ptr, val.Pos)
		}
	case pInit:
		v.checkInitValue(si, c, val, ptr)
	case pErrMsg:
		switch val.Kind {
		case String:
			if v.checkString(si, val.Str, tString|tObject, ptr, val.Pos, propCtx) {
				v.checkLiteral(key, ps, val.Str, ptr, val.Pos)
			}
		case Object:
			for _, m := range val.Members {
				if m.Value.Kind != String {
					v.typeError(key+" entry", "string", m.Value, ptrKey(ptr, m.Key))
				}
			}
		default:
			v.typeError(key, "string or object", val, ptr)
		}
	case pObject:
		switch val.Kind {
		case Object:
		case String:
			if classify(val.Str) == dynLiteral {
				v.typeError(key, "object", val, ptr)
				return
			}
			v.checkString(si, val.Str, tObject, ptr, val.Pos, propCtx)
		default:
			v.typeError(key, "object", val, ptr)
		}
	}
}

func (v *validator) typeError(key, want string, val *Value, ptr string) {
	v.errf(CodeInvalidPropertyType, ptr, val.Pos, "expected property '%s' to be of type %s, but found %s", key, want, val.Kind)
}

// literalOK reports whether a static string passes checkLiteral.
func literalOK(ps propSpec, s string) bool {
	if ps.nonEmpty && strings.TrimSpace(s) == "" {
		return false
	}
	if limit := max(ps.softLen, ps.maxLen); ps.softLen > 0 {
		limit = ps.softLen
		if len(s) > limit && utf8.RuneCountInString(s) > limit {
			return false
		}
	} else if limit > 0 && len(s) > limit && utf8.RuneCountInString(s) > limit {
		return false
	}
	return ps.kind != pEnum || slices.Contains(ps.enum, s)
}

// checkLiteral applies the limits of a static string.
func (v *validator) checkLiteral(key string, ps propSpec, s string, ptr string, pos Pos) {
	if classify(s) != dynLiteral {
		return
	}
	if ps.nonEmpty && strings.TrimSpace(s) == "" {
		v.errf(CodeMinCharsRequired, ptr, pos, "'%s' should not be blank", key)
	}
	if ps.maxLen > 0 {
		switch n := utf8.RuneCountInString(s); {
		case n > ps.maxLen:
			v.errf(CodeMaxCharsExceeded, ptr, pos, "'%s' has %d characters; the limit is %d", key, n, ps.maxLen)
		case ps.softLen > 0 && n > ps.softLen:
			v.warnf(CodeMaxCharsExceeded, ptr, pos, "'%s' has %d characters; Meta documents a limit of %d (other sources say %d): keep it within %d so no client cuts it", key, n, ps.softLen, ps.maxLen, ps.softLen)
		}
	}
	if ps.kind == pEnum && !slices.Contains(ps.enum, s) {
		v.errf(CodeInvalidEnumValue, ptr, pos, "Value should be one of: [%s], found %q", strings.Join(ps.enum, ", "), s)
	}
}

// isRange reports whether a CalendarPicker is in range mode.
func isRange(c *Component) bool {
	m, _ := c.Mode.AsString()
	return m == "range"
}

// dateFormat says how a DatePicker/CalendarPicker date must be written:
// "YYYY-MM-DD", except DatePicker before Flow JSON 5.0, which uses a UTC
// millisecond timestamp in a string (protocol.md 6.7).
func (v *validator) checkDate(c *Component, key, s, ptr string, pos Pos) {
	if classify(s) != dynLiteral {
		return
	}
	if c.Type == "DatePicker" && v.ver.Less(V5_0) {
		if _, ok := parseMillis(s); !ok {
			v.errf(CodeInvalidPropertyValueFormat, ptr, pos, "'%s' must be a UTC timestamp in milliseconds, written as a string (e.g. \"1767225600000\"), before Flow JSON 5.0; found %q (\"YYYY-MM-DD\" dates need Flow JSON 5.0 or later)", key, s)
		}
		return
	}
	if _, ok := parseDate(s); !ok {
		v.errf(CodeInvalidPropertyValueFormat, ptr, pos, "'%s' must be a date written as \"YYYY-MM-DD\", found %q", key, s)
	}
}

func (v *validator) checkInitValue(si *screenInfo, c *Component, val *Value, ptr string) {
	spec := componentSpecs[c.Type]
	want := spec.value
	if c.Type == "CalendarPicker" {
		want = tString
		if isRange(c) {
			want = tObject
		}
	}
	if val.Kind == String && classify(val.Str) != dynLiteral {
		v.checkString(si, val.Str, want, ptr, val.Pos, propCtx)
		return
	}
	if kindType(val.Kind)&want == 0 {
		v.typeError("init-value", want.String(), val, ptr)
		return
	}
	switch {
	case val.Kind == Array:
		for i, it := range val.Items {
			if it.Kind != String {
				v.typeError("init-value item", "string", it, ptrIndex(ptr, i))
			}
		}
	case c.Type == "DatePicker" || c.Type == "CalendarPicker" && val.Kind == String:
		v.checkDate(c, "init-value", val.Str, ptr, val.Pos)
	case c.Type == "CalendarPicker" && val.Kind == Object:
		for _, m := range val.Members {
			if m.Key != "start-date" && m.Key != "end-date" {
				v.errf(CodeInvalidPropertyKey, ptrKey(ptr, m.Key), m.KeyPos, "a range init-value has only \"start-date\" and \"end-date\"")
			} else if s, ok := m.Value.AsString(); ok {
				v.checkDate(c, "init-value", s, ptrKey(ptr, m.Key), m.Value.Pos)
			} else {
				v.typeError("init-value "+m.Key, "string", m.Value, ptrKey(ptr, m.Key))
			}
		}
	}
}
