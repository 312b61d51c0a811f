package flowjson

import (
	"net/url"
	"slices"
	"strings"
)

// References, expressions, action payloads and actions.

// dynType returns the type of a string property value: tString for a
// literal, the referenced field's type for a reference, the result type of
// a nested expression. It reports bad references and expressions.
func (v *validator) dynType(si *screenInfo, s string, ptr string, pos Pos, rc refCtx) (vtype, dynForm) {
	form := classify(s)
	switch form {
	case dynLiteral:
		return tString, form
	case dynRef:
		r, ok := ParseRef(s)
		if !ok {
			v.errf(CodeInvalidPropertyValue, ptr, pos, "%q is not a valid reference; use ${data.x}, ${form.x}, ${screen.ID.data.x} or ${screen.ID.form.x}", s)
			return tAny, form
		}
		return v.resolveRef(si, &r, ptr, pos, rc), form
	case dynExpr:
		if v.ver.Less(V6_0) {
			v.errf(CodeInvalidPropertyValue, ptr, pos, "nested expressions in backticks need Flow JSON 6.0 or later; this flow is %s", v.ver)
			return tAny, form
		}
		n, err := parseExpr(s[1:len(s)-1], true)
		if err != nil {
			v.errf(CodeInvalidPropertyValue, ptr, pos, "invalid nested expression %s: %s", s, err.Error())
			return tAny, form
		}
		return v.exprType(si, n, s, ptr, pos, rc), form
	}
	v.errf(CodeInvalidPropertyValue, ptr, pos, "%q mixes text with a dynamic reference; a property is either static or a single reference: wrap the whole value in backticks as a nested expression, e.g. \"`'Hello ' ${data.name}`\" (Flow JSON 6.0+)", s)
	return tString, form
}

// exprType resolves every reference of an expression (reporting unknown
// ones) and type-checks it.
func (v *validator) exprType(si *screenInfo, n *exprNode, text, ptr string, pos Pos, rc refCtx) vtype {
	types := map[*Ref]vtype{}
	n.refs(func(r *Ref) { types[r] = v.resolveRef(si, r, ptr, pos, rc) })
	t, err := n.typeCheck(func(r *Ref) vtype { return types[r] })
	if err != nil {
		v.errf(CodeInvalidPropertyValue, ptr, pos, "invalid expression %s: %s", text, err.Error())
		return tAny
	}
	return t
}

// checkString checks a string value against the accepted types want and
// reports whether it is a literal (so the caller applies literal limits).
func (v *validator) checkString(si *screenInfo, s string, want vtype, ptr string, pos Pos, rc refCtx) bool {
	t, form := v.dynType(si, s, ptr, pos, rc)
	switch form {
	case dynLiteral:
		return true
	case dynRef:
		if t != tAny && t&want == 0 {
			v.errf(CodeInvalidScreenDynamicData, ptr, pos, "%s is %s, but this property needs %s", s, t, want)
		}
	case dynExpr:
		if t != tAny && t&want == 0 {
			v.errf(CodeInvalidPropertyValue, ptr, pos, "the expression gives %s, but this property needs %s", t, want)
		}
	}
	return false
}

// resolveRef finds the field a reference names and returns its type, or
// reports it and returns tAny.
func (v *validator) resolveRef(si *screenInfo, r *Ref, ptr string, pos Pos, rc refCtx) vtype {
	missingCode := CodeInvalidScreenDynamicData
	if rc == payloadCtx {
		missingCode = CodeInvalidOnClickActionPayload
	}
	target := si
	if r.Kind == RefScreenData || r.Kind == RefScreenForm {
		// Meta's Flow Builder reports a bad global reference in a component
		// property as INVALID_SCREEN_DYNAMIC_DATA; its error-code page names
		// INVALID_SCREEN_DATA, kept for payloads (protocol.md 6.8).
		missingCode = CodeInvalidScreenData
		if rc == propCtx {
			missingCode = CodeInvalidScreenDynamicData
		}
		if v.ver.Less(V4_0) {
			v.errf(CodeInvalidScreenData, ptr, pos, "%s: global references ${screen.ID...} need Flow JSON 4.0 or later; this flow is %s", r.Text, v.ver)
			return tAny
		}
		target = v.screens[r.Screen]
		if target == nil {
			v.errf(missingCode, ptr, pos, "%s refers to screen %q, which does not exist", r.Text, r.Screen)
			return tAny
		}
		if target == si {
			local := "${form." + r.Name() + "}"
			if r.Kind == RefScreenData {
				local = "${data." + strings.Join(r.Path, ".") + "}"
			}
			v.errf(missingCode, ptr, pos, "%s refers to the current screen; use %s", r.Text, local)
			return tAny
		}
	}
	sid := target.s.ID
	switch r.Kind {
	case RefData, RefScreenData:
		t, ok := lookupData(target.s.Data, r.Path)
		if !ok {
			v.errf(missingCode, ptr, pos, "Missing dynamic data '%s' in the data model of screen %q: declare it under the screen's \"data\"", r.Text, sid)
			return tAny
		}
		return t
	default:
		ci := target.inputs[r.Name()]
		if ci == nil {
			if target.forms[r.Name()] != nil {
				v.errf(missingCode, ptr, pos, "Value of 'Form' component cannot be used in form binding: %s names the Form itself; name one of its inputs", r.Text)
			} else {
				v.errf(missingCode, ptr, pos, "Missing Form component %s for screen %q: no input on that screen is named %q", r.Text, sid, r.Name())
			}
			return tAny
		}
		return formType(ci.c)
	}
}

// formType is the type of the value a form component produces.
func formType(c *Component) vtype {
	switch c.Type {
	case "CalendarPicker":
		if isRange(c) {
			return tObject
		}
		return tString
	case "TextInput":
		// A number input is sent as a string but compares as a number in
		// expressions (Meta's own 6.0 sample: "${form.number} == 42").
		if it, _ := c.InputType.AsString(); it == "number" {
			return tString | tNumber
		}
	}
	if s := componentSpecs[c.Type]; s != nil {
		return s.value
	}
	return tAny
}

// lookupData finds the type of a data path in a data model.
func lookupData(fields Fields, path []string) (vtype, bool) {
	f := fields.Field(path[0])
	if f == nil {
		return 0, false
	}
	if f.Schema == nil {
		return tAny, true // a broken declaration, reported by the data model check
	}
	s := f.Schema
	for _, p := range path[1:] {
		if s.Type != "object" {
			return 0, false
		}
		if s.Properties == nil && s.src.Get("properties") == nil {
			return tAny, true // fields not declared (a warning): any field
		}
		pf := s.Properties.Field(p)
		if pf == nil {
			return 0, false
		}
		if pf.Schema == nil {
			return tAny, true
		}
		s = pf.Schema
	}
	if t, ok := schemaType(s.Type); ok {
		return t, true
	}
	return tAny, true
}

// payloadEntry is one top-level key of an action payload.
type payloadEntry struct {
	key string
	val *Value
	t   vtype
	ptr string
	dyn map[*Value]vtype // types of the dynamic strings inside val
}

// pickerUse is a PhotoPicker/DocumentPicker value used in a payload.
type pickerUse struct {
	c        *Component
	ptr      string
	pos      Pos
	topLevel bool // the whole top-level value is the reference
}

// checkPayload checks every value of a payload object and returns its
// top-level entries and the media pickers it uses.
func (v *validator) checkPayload(si *screenInfo, payload *Value, ptr string) ([]payloadEntry, []pickerUse) {
	if payload == nil || payload.Kind != Object {
		return nil, nil
	}
	var entries []payloadEntry
	var pickers []pickerUse
	var dyn map[*Value]vtype
	var walk func(val *Value, p string, top bool) vtype
	walk = func(val *Value, p string, top bool) vtype {
		switch val.Kind {
		case String:
			t, form := v.dynType(si, val.Str, p, val.Pos, payloadCtx)
			v.findPickers(si, val.Str, form, p, val.Pos, top, &pickers)
			if form != dynLiteral {
				if dyn == nil {
					dyn = map[*Value]vtype{}
				}
				dyn[val] = t
			}
			return t
		case Object:
			for _, m := range val.Members {
				walk(m.Value, ptrKey(p, m.Key), false)
			}
		case Array:
			for i, it := range val.Items {
				walk(it, ptrIndex(p, i), false)
			}
		}
		return kindType(val.Kind)
	}
	for _, m := range payload.Members {
		mp := ptrKey(ptr, m.Key)
		dyn = nil
		t := walk(m.Value, mp, true)
		entries = append(entries, payloadEntry{key: m.Key, val: m.Value, t: t, ptr: mp, dyn: dyn})
	}
	return entries, pickers
}

func (v *validator) findPickers(si *screenInfo, s string, form dynForm, ptr string, pos Pos, top bool, out *[]pickerUse) {
	var refs []Ref
	switch form {
	case dynRef:
		if r, ok := ParseRef(s); ok {
			refs = append(refs, r)
		}
	case dynExpr:
		if n, err := parseExpr(s[1:len(s)-1], true); err == nil {
			n.refs(func(r *Ref) { refs = append(refs, *r) })
		}
	}
	for _, r := range refs {
		target := si
		switch r.Kind {
		case RefScreenForm:
			target = v.screens[r.Screen]
		case RefForm:
		default:
			continue
		}
		if target == nil || target.inputs[r.Name()] == nil {
			continue
		}
		c := target.inputs[r.Name()].c
		if c.Type == "PhotoPicker" || c.Type == "DocumentPicker" {
			*out = append(*out, pickerUse{c: c, ptr: ptr, pos: pos, topLevel: top && form == dynRef})
		}
	}
}

var actionKeyTypes = map[string]string{"name": "string", "next": "object", "url": "string"}

// checkAction checks an action fired by event of owner (a component type or
// an item pseudo-type) on screen si.
func (v *validator) checkAction(si *screenInfo, a *Action, ptr, owner, event string, c *Component) {
	for _, m := range a.Extra {
		if t, ok := actionKeyTypes[m.Key]; ok {
			v.errf(CodeInvalidPropertyType, ptrKey(ptr, m.Key), m.Value.Pos, "expected property '%s' of the action to be of type %s, but found %s", m.Key, t, m.Value.Kind)
			continue
		}
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, m.Key), m.KeyPos, "an action has no property '%s'; it has name, and next, payload or url depending on the action", m.Key)
	}
	np := ptrKey(ptr, "name")
	if a.Name == "" {
		if nv := a.src.Get("name"); nv == nil {
			v.errf(CodeMissingRequiredProperty, ptr, a.pos(), "the action has no \"name\"; use one of %s", strings.Join(actionNames, ", "))
		} else if nv.Kind == String {
			v.errf(CodeInvalidEnumValue, np, nv.Pos, "Value should be one of: [%s], found \"\"", strings.Join(actionNames, ", "))
		}
		return
	}
	if !slices.Contains(actionNames, a.Name) {
		v.errf(CodeInvalidEnumValue, np, a.posOf("name"), "Value should be one of: [%s], found %q", strings.Join(actionNames, ", "), a.Name)
		return
	}
	allowed := actionsAllowed[owner][event]
	since, ok := allowed[a.Name]
	if !ok {
		var names []string
		for _, n := range actionNames {
			if s, ok := allowed[n]; ok && v.ver.AtLeast(s) {
				names = append(names, n)
			}
		}
		hint := ""
		if a.Name == ActionComplete {
			hint = "; 'complete' is only allowed on a Footer"
		}
		v.errf(CodeInvalidEnumValue, np, a.posOf("name"), "Value should be one of: [%s]: %s of %s cannot be %q%s", strings.Join(names, ", "), event, owner, a.Name, hint)
		return
	}
	if v.ver.Less(since) {
		v.errf(CodeInvalidEnumValue, np, a.posOf("name"), "the %s action in %s of %s needs Flow JSON %s or later; this flow is %s", a.Name, event, owner, since, v.ver)
	}
	if a.Payload != nil && a.Payload.Kind != Object {
		v.errf(CodeInvalidPropertyType, ptrKey(ptr, "payload"), a.Payload.Pos, "expected property 'payload' to be of type object, but found %s", a.Payload.Kind)
	}
	if a.Next != nil && a.Name != ActionNavigate {
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, "next"), a.keyPos("next"), "'next' belongs to navigate actions only; remove it from this %s action", a.Name)
	}
	if a.URL != "" && a.Name != ActionOpenURL {
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, "url"), a.keyPos("url"), "'url' belongs to open_url actions only; remove it from this %s action", a.Name)
	}
	pp := ptrKey(ptr, "payload")
	switch a.Name {
	case ActionNavigate:
		v.checkNavigate(si, a, ptr, owner)
	case ActionComplete:
		if !si.s.IsTerminal() {
			v.errf(CodeInvalidCompleteAction, np, a.posOf("name"), "On-click-action 'complete' can only be configured on a terminal screen; set \"terminal\": true on screen %q or navigate to a terminal screen", si.s.ID)
		}
		_, pickers := v.checkPayload(si, a.Payload, pp)
		v.checkCompletePickers(pickers)
	case ActionDataExchange:
		if !v.endpoint {
			v.errf(CodeMissingRequiredProperty, np, a.posOf("name"), "The property 'data_api_version' is required for data_exchange action: add \"data_api_version\": \"4.0\" and a routing_model, or use navigate")
		}
		v.checkPayload(si, a.Payload, pp)
	case ActionUpdateData:
		entries, _ := v.checkPayload(si, a.Payload, pp)
		for _, e := range entries {
			f := si.s.Data.Field(e.key)
			if f == nil {
				v.errf(CodeInvalidActionPayloadProperty, e.ptr, e.val.Pos, "update_data sets %q, which is not in the data model of screen %q; declare it under the screen's \"data\"", e.key, si.s.ID)
				continue
			}
			if f.Schema != nil {
				if st, ok := schemaType(f.Schema.Type); ok && e.t != tAny && e.t&st == 0 {
					v.errf(CodeInvalidActionPayloadProperty, e.ptr, e.val.Pos, "update_data sets %q to %s, but screen %q declares it %s", e.key, e.t, si.s.ID, f.Schema.Type)
				}
			}
		}
	case ActionOpenURL:
		if a.Payload != nil {
			v.errf(CodeInvalidPropertyKey, pp, a.keyPos("payload"), "open_url takes no payload; remove it")
		}
		uv := a.src.Get("url")
		switch {
		case a.URL == "" && (uv == nil || uv.Kind == String):
			v.errf(CodeMissingRequiredProperty, ptr, a.pos(), "open_url needs a \"url\"")
		case a.URL != "":
			if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				if classify(a.URL) == dynLiteral {
					v.errf(CodeInvalidPropertyValueFormat, ptrKey(ptr, "url"), a.posOf("url"), "url %q must be an absolute https:// URL", a.URL)
				}
			}
		}
	}
}

func (n *node) keyPos(key string) Pos {
	if m := n.src.member(key); m != nil {
		return m.KeyPos
	}
	return n.pos()
}

func (v *validator) checkNavigate(si *screenInfo, a *Action, ptr, owner string) {
	pp := ptrKey(ptr, "payload")
	entries, pickers := v.checkPayload(si, a.Payload, pp)
	for _, p := range pickers {
		v.errf(CodeInvalidOnClickActionPayload, p.ptr, p.pos, "%s values cannot be passed in a navigate payload; send them with data_exchange or complete", p.c.Type)
	}
	if si.s.IsTerminal() && owner == "Footer" {
		v.warnf(CodeNavigateOnTerminalScreen, ptrKey(ptr, "name"), a.posOf("name"), "a navigate action on the Footer of terminal screen %q keeps the flow from terminating; use complete (or data_exchange)", si.s.ID)
	}
	n := a.Next
	xp := ptrKey(ptr, "next")
	if n == nil {
		v.brokenNav = true
		if !a.has("next") {
			v.errf(CodeMissingRequiredProperty, ptr, a.pos(), "navigate needs \"next\": {\"type\": \"screen\", \"name\": \"<SCREEN_ID>\"}")
		}
		return
	}
	for _, m := range n.Extra {
		if m.Key == "type" || m.Key == "name" {
			v.errf(CodeInvalidPropertyType, ptrKey(xp, m.Key), m.Value.Pos, "expected property '%s' of 'next' to be of type string, but found %s", m.Key, m.Value.Kind)
			continue
		}
		v.errf(CodeInvalidPropertyKey, ptrKey(xp, m.Key), m.KeyPos, "'next' has no property '%s'; it has type and name", m.Key)
	}
	switch tv := n.src.Get("type"); {
	case tv != nil && tv.Kind != String:
	case n.Type == "" && tv == nil:
		v.errf(CodeMissingRequiredProperty, xp, n.pos(), "Required property 'type' is missing in 'next': add \"type\": \"screen\"")
	case n.Type != "screen":
		v.errf(CodeInvalidEnumValue, ptrKey(xp, "type"), n.posOf("type"), "Value should be one of: [screen], found %q", n.Type)
	}
	if n.Name == "" {
		v.brokenNav = true
		if nv := n.src.Get("name"); nv == nil || nv.Kind == String {
			v.errf(CodeMissingRequiredProperty, xp, n.pos(), "'next' needs the \"name\" of the screen to go to")
		}
		return
	}
	target := v.screens[n.Name]
	np := ptrKey(xp, "name")
	if target == nil {
		v.brokenNav = true
		v.errf(CodeInvalidNavigateActionNextScreen, np, n.posOf("name"), "Unknown screen ids: %q; navigate to one of the flow's screens", n.Name)
		return
	}
	if target == si {
		v.errf(CodeInvalidNavigateActionNextScreen, np, n.posOf("name"), "Same screen navigation is not allowed (screen %q)", n.Name)
		return
	}
	v.navs = append(v.navs, navEdge{from: si.s.ID, to: n.Name, ptr: np, pos: n.posOf("name")})
	if a.Payload != nil && a.Payload.Kind != Object {
		return
	}
	// The payload must match the next screen's data model exactly.
	declared := target.s.Data
	given := map[string]bool{}
	for _, e := range entries {
		given[e.key] = true
		f := declared.Field(e.key)
		if f == nil {
			if len(declared) == 0 {
				v.errf(CodeInvalidNavigateActionPayload, e.ptr, e.val.Pos, "navigate passes %q, but screen %q has no data model; declare %q in its \"data\" or remove it from the payload", e.key, n.Name, e.key)
			} else {
				v.errf(CodeInvalidNavigateActionPayload, e.ptr, e.val.Pos, "navigate passes %q, which is not in the data model of screen %q; declare it there or remove it from the payload", e.key, n.Name)
			}
			continue
		}
		if f.Schema == nil {
			continue
		}
		st, ok := schemaType(f.Schema.Type)
		if !ok || e.t == tAny {
			continue
		}
		if e.t&st == 0 {
			v.errf(CodeInvalidNavigateActionPayload, e.ptr, e.val.Pos, "navigate passes %q as %s, but screen %q declares it %s", e.key, e.t, n.Name, f.Schema.Type)
			continue
		}
		if e.val.Kind != String {
			if msg := matchSchema(e.val, f.Schema, e.key, e.dyn); msg != "" {
				v.errf(CodeInvalidNavigateActionPayload, e.ptr, e.val.Pos, "navigate passes a value for %q that does not match the data model of screen %q: %s", e.key, n.Name, msg)
			}
		}
	}
	for _, f := range declared {
		if !given[f.Name] {
			v.errf(CodeInvalidNavigateActionPayload, pp, a.posOf("payload"), "navigate to %q does not pass %q, which that screen declares in its data model; add it to the payload", n.Name, f.Name)
		}
	}
}

func (v *validator) checkCompletePickers(pickers []pickerUse) {
	seen := map[*Component]bool{}
	for _, p := range pickers {
		if !p.topLevel {
			v.errf(CodeInvalidOnClickActionPayload, p.ptr, p.pos, "a %s value can be used in a complete payload only as a whole top-level value, e.g. \"photo\": \"${form.%s}\"", p.c.Type, p.c.Name)
			continue
		}
		maxKey, maxv := "max-uploaded-photos", p.c.MaxUploadedPhotos
		if p.c.Type == "DocumentPicker" {
			maxKey, maxv = "max-uploaded-documents", p.c.MaxUploadedDocuments
		}
		if n, ok := maxv.AsInt(); !ok || n > 1 {
			v.errf(CodeInvalidOnClickActionPayload, p.ptr, p.pos, "a %s can be sent in a complete payload only when its %s is 1 or less (the default is 30); set it or send the files with data_exchange", p.c.Type, maxKey)
		}
		if !seen[p.c] && len(seen) > 0 {
			v.errf(CodeInvalidOnClickActionPayload, p.ptr, p.pos, "a complete payload may carry only one PhotoPicker or DocumentPicker")
		}
		seen[p.c] = true
	}
}
