package flowjson

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Screen data models (protocol.md 6.3): every field declares a JSON Schema
// "type"; arrays need "items", objects "properties"; the top level of each
// field carries a mandatory "__example__" of that type, and only the top
// level may.

var schemaKeyTypes = map[string]string{
	"type": "string", "description": "string", "items": "object or boolean",
	"properties": "object", "required": "array of strings", "format": "string",
}

// schemaKeywords are JSON Schema keywords Meta's data models accept besides
// the typed ones; they are kept (in Extra) and not reported.
var schemaKeywords = []string{
	"minimum", "maximum", "minLength", "maxLength", "pattern", "default", "title",
	"examples", "nullable", "additionalProperties", "minItems", "maxItems", "const",
	"uniqueItems", "$comment",
}

func (v *validator) checkDataModel(si *screenInfo) {
	dp := ptrKey(si.ptr, "data")
	for _, f := range si.s.Data {
		v.checkSchema(f.Name, f.Schema, f.Raw, ptrKey(dp, f.Name), true)
	}
}

func (v *validator) checkSchema(name string, s *Schema, raw *Value, ptr string, top bool) {
	if s == nil {
		pos := Pos{}
		if raw != nil {
			pos = raw.Pos
		}
		v.errf(CodeInvalidScreenData, ptr, pos, "the declaration of %q must be an object with its \"type\"%s", name, exampleHint(top))
		return
	}
	boolItems := false
	for _, m := range s.Extra {
		if m.Key == "items" && m.Value.Kind == Bool {
			boolItems = true
			continue
		}
		if t, ok := schemaKeyTypes[m.Key]; ok {
			v.errf(CodeInvalidScreenData, ptrKey(ptr, m.Key), m.Value.Pos, "'%s' in the declaration of %q must be of type %s, but found %s", m.Key, name, t, m.Value.Kind)
			continue
		}
		if slices.Contains(schemaKeywords, m.Key) {
			continue
		}
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, m.Key), m.KeyPos, "unknown keyword '%s' in the declaration of %q; a data field has type, items (arrays), properties (objects) and __example__", m.Key, name)
	}
	var typ vtype
	switch tv := s.src.Get("type"); {
	case tv != nil && tv.Kind != String:
	case s.Type == "":
		v.errf(CodeInvalidScreenData, ptr, s.pos(), "%q has no \"type\"; use string, number, integer, boolean, array or object", name)
	default:
		t, ok := schemaType(s.Type)
		if !ok {
			v.errf(CodeInvalidScreenData, ptrKey(ptr, "type"), s.posOf("type"), "type %q of %q is not a data model type; use string, number, integer, boolean, array or object%s", s.Type, name, typeHint(s.Type))
		}
		typ = t
	}
	switch typ {
	case tArray:
		switch {
		case s.Items != nil:
			v.checkSchema(name+"[]", s.Items, nil, ptrKey(ptr, "items"), false)
		case !boolItems && s.src.Get("items") == nil:
			v.errf(CodeInvalidScreenData, ptr, s.pos(), "array %q needs \"items\" declaring the type of its elements", name)
		}
	case tObject:
		switch {
		case s.Properties != nil:
			for _, p := range s.Properties {
				v.checkSchema(name+"."+p.Name, p.Schema, p.Raw, ptrKey(ptrKey(ptr, "properties"), p.Name), false)
			}
		case s.src.Get("properties") == nil:
			// Meta's builder accepts an object without properties
			// (protocol.md 6.3); waflow cannot check its fields then.
			v.warnf(CodeInvalidScreenData, ptr, s.pos(), "object %q has no \"properties\": waflow cannot check references to its fields or the data sent for it; declare them", name)
		}
	}
	switch {
	case top && s.Example == nil:
		v.errf(CodeInvalidScreenData, ptr, s.pos(), "%q has no \"__example__\"; every data field needs an example value of its type", name)
	case !top && s.Example != nil:
		v.errf(CodeInvalidScreenData, ptrKey(ptr, "__example__"), s.posOf("__example__"), "'__example__' is only allowed at the top level of a data field, not inside %q", name)
	case top && typ != 0:
		if msg := matchSchema(s.Example, s, name, nil); msg != "" {
			v.errf(CodeInvalidScreenData, ptrKey(ptr, "__example__"), s.Example.Pos, "the __example__ of %q does not match its declaration: %s", name, msg)
		}
	}
}

func exampleHint(top bool) string {
	if top {
		return " and \"__example__\""
	}
	return ""
}

func typeHint(t string) string {
	switch t {
	case "date", "datetime", "time":
		return " (dates are strings)"
	case "int", "float", "double":
		return " (use number or integer)"
	case "bool":
		return " (use boolean)"
	}
	return ""
}

// matchSchema checks a value against a declaration and describes the first
// mismatch, or returns "". dyn gives the type of the dynamic strings
// (references and expressions) inside val, which stand for values of that
// type; it may be nil when val has none.
func matchSchema(val *Value, s *Schema, path string, dyn map[*Value]vtype) string {
	if s == nil {
		return ""
	}
	want, ok := schemaType(s.Type)
	if !ok {
		return ""
	}
	if val == nil {
		return fmt.Sprintf("%s is missing", path)
	}
	if t, ok := dyn[val]; ok {
		if t != tAny && t&want == 0 {
			return fmt.Sprintf("%s is %s (%s), want %s", path, t, val.Str, s.Type)
		}
		return ""
	}
	if kindType(val.Kind)&want == 0 {
		return fmt.Sprintf("%s is %s, want %s", path, val.Kind, s.Type)
	}
	switch val.Kind {
	case Number:
		if s.Type == "integer" {
			if f, _ := val.AsFloat(); f != math.Trunc(f) {
				return fmt.Sprintf("%s is a number with a fraction, want an integer", path)
			}
		}
	case Array:
		for i, it := range val.Items {
			if msg := matchSchema(it, s.Items, path+"["+strconv.Itoa(i)+"]", dyn); msg != "" {
				return msg
			}
		}
	case Object:
		for _, p := range s.Properties {
			pv := val.Get(p.Name)
			if pv == nil {
				if slices.Contains(s.Required, p.Name) {
					return fmt.Sprintf("%s.%s is missing", path, p.Name)
				}
				continue
			}
			if msg := matchSchema(pv, p.Schema, path+"."+p.Name, dyn); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// CheckScreenData checks data an endpoint sends for screen s (or a
// navigate payload, or flow_action_payload.data) against the screen's data
// model, as the WhatsApp client does before rendering (protocol.md 2.4):
// every declared field present with a value of its type, nothing
// undeclared. "error_message" (the snackbar text) is always allowed.
// Problems have code PAYLOAD_SCHEMA_ERROR and a pointer into data.
func CheckScreenData(s *Screen, data map[string]any) Problems {
	var ps Problems
	add := func(ptr, format string, args ...any) {
		ps = append(ps, Problem{Code: CodePayloadSchema, Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	}
	for _, f := range s.Data {
		x, ok := data[f.Name]
		if !ok {
			add(ptrKey("", f.Name), "screen %q declares %q in its data model, but the data does not have it", s.ID, f.Name)
			continue
		}
		if msg := matchSchema(ValueOf(x), f.Schema, f.Name, nil); msg != "" {
			add(ptrKey("", f.Name), "%s (screen %q)", msg, s.ID)
		}
	}
	for _, k := range sortedKeys(data) {
		if k == "error_message" {
			if _, ok := data[k].(string); !ok {
				add(ptrKey("", k), "error_message must be a string")
			}
			continue
		}
		if s.Data.Field(k) == nil {
			add(ptrKey("", k), "%q is not in the data model of screen %q; declare it there or do not send it", k, s.ID)
		}
	}
	return ps
}
