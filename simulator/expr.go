package simulator

import "github.com/waflow/waflow/flowjson"

// Evaluation of dynamic values as the phone does it (protocol.md 6.4):
// ${data.x}, ${form.x}, ${screen.ID.data.x} and ${screen.ID.form.x}
// references, nested expressions in backticks (6.0+) and If conditions.

// scope is what references resolve against.
type scope struct {
	screen string
	data   func(screen string) map[string]any
	form   func(screen string) map[string]any
}

// value resolves a property or payload value: references and expressions
// are replaced by what they stand for, objects and arrays recursively.
func (sc *scope) value(v *flowjson.Value) any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case flowjson.String:
		return sc.text(v.Str)
	case flowjson.Object:
		m := make(map[string]any, len(v.Members))
		for _, mem := range v.Members {
			m[mem.Key] = sc.value(mem.Value)
		}
		return m
	case flowjson.Array:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			out[i] = sc.value(it)
		}
		return out
	}
	return v.Interface()
}

// text resolves a string property: a whole reference, a backticked
// expression, or a literal.
func (sc *scope) text(s string) any {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		x, err := sc.eval(s[1:len(s)-1], true)
		if err != nil {
			return s
		}
		return x
	}
	if r, ok := flowjson.ParseRef(s); ok {
		return sc.ref(r)
	}
	return s
}

func (sc *scope) ref(r flowjson.Ref) any {
	screen := sc.screen
	if r.Kind == flowjson.RefScreenData || r.Kind == flowjson.RefScreenForm {
		screen = r.Screen
	}
	switch r.Kind {
	case flowjson.RefForm, flowjson.RefScreenForm:
		return sc.form(screen)[r.Name()]
	}
	x, _ := lookup(sc.data(screen), r.Path)
	return x
}

func lookup(m map[string]any, path []string) (any, bool) {
	var x any = m
	for _, p := range path {
		obj, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		if x, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return x, true
}

// condition evaluates an If condition (no backticks); anything but true is
// false.
func (sc *scope) condition(s string) bool {
	x, err := sc.eval(s, false)
	return err == nil && x == true
}

// boolProp resolves a boolean property with its default.
func (sc *scope) boolProp(v *flowjson.Value, def bool) bool {
	if v == nil {
		return def
	}
	switch x := sc.value(v).(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return def
}

// stringProp resolves a property to text ("" for null).
func (sc *scope) stringProp(v *flowjson.Value) string {
	if v == nil {
		return ""
	}
	return flowjson.TextOf(sc.value(v))
}

// intProp resolves a numeric property; ok is false when it is absent or
// not a number.
func (sc *scope) intProp(v *flowjson.Value) (int, bool) {
	if v == nil {
		return 0, false
	}
	f, ok := flowjson.NumberOf(sc.value(v))
	return int(f), ok
}

// eval parses and evaluates an expression with flowjson's expression
// grammar, the one the validator checks. concat allows string
// concatenation by juxtaposition (backticked expressions only).
func (sc *scope) eval(src string, concat bool) (any, error) {
	e, err := flowjson.ParseExpr(src, concat)
	if err != nil {
		return nil, err
	}
	return e.Eval(sc.ref), nil
}
