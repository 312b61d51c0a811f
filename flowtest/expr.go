package flowtest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/waflow/waflow/flowjson"
)

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
	return toText(sc.value(v))
}

// intProp resolves a numeric property; ok is false when it is absent or
// not a number.
func (sc *scope) intProp(v *flowjson.Value) (int, bool) {
	if v == nil {
		return 0, false
	}
	f, ok := toNumber(sc.value(v))
	return int(f), ok
}

// eval parses and evaluates an expression. concat allows string
// concatenation by juxtaposition (backticked expressions only).
func (sc *scope) eval(src string, concat bool) (any, error) {
	p := &exprParser{src: src, sc: sc, concat: concat}
	p.next()
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, fmt.Errorf("unexpected %q", p.tok.text)
	}
	return x, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tRef
	tStr
	tNum
	tBool
	tOp
)

type token struct {
	kind tokKind
	text string
}

type exprParser struct {
	src    string
	i      int
	tok    token
	err    error
	sc     *scope
	concat bool
}

var operators = []string{"==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!", "(", ")"}

func (p *exprParser) next() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t' || p.src[p.i] == '\n') {
		p.i++
	}
	if p.i >= len(p.src) {
		p.tok = token{kind: tEOF}
		return
	}
	rest := p.src[p.i:]
	switch c := rest[0]; {
	case strings.HasPrefix(rest, "${"):
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			p.fail("unterminated reference")
			return
		}
		p.tok, p.i = token{tRef, rest[:end+1]}, p.i+end+1
	case c == '\'' || c == '"':
		var b strings.Builder
		j := 1
		for ; j < len(rest) && rest[j] != c; j++ {
			if rest[j] == '\\' && j+1 < len(rest) {
				j++
			}
			b.WriteByte(rest[j])
		}
		if j >= len(rest) {
			p.fail("unterminated string")
			return
		}
		p.tok, p.i = token{tStr, b.String()}, p.i+j+1
	case c >= '0' && c <= '9' || c == '.':
		j := 0
		for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		p.tok, p.i = token{tNum, rest[:j]}, p.i+j
	case strings.HasPrefix(rest, "true"), strings.HasPrefix(rest, "false"):
		w := "true"
		if c == 'f' {
			w = "false"
		}
		p.tok, p.i = token{tBool, w}, p.i+len(w)
	default:
		for _, op := range operators {
			if strings.HasPrefix(rest, op) {
				p.tok, p.i = token{tOp, op}, p.i+len(op)
				return
			}
		}
		p.fail(fmt.Sprintf("unexpected %q", rest[:1]))
	}
}

func (p *exprParser) fail(msg string) {
	if p.err == nil {
		p.err = fmt.Errorf("expression %q: %s", p.src, msg)
	}
	p.tok = token{kind: tEOF}
}

func (p *exprParser) is(op string) bool { return p.tok.kind == tOp && p.tok.text == op }

// startsOperand reports whether the current token can begin an operand,
// for concatenation by juxtaposition.
func (p *exprParser) startsOperand() bool {
	switch p.tok.kind {
	case tRef, tStr, tNum, tBool:
		return true
	}
	return p.is("(") || p.is("!")
}

func (p *exprParser) expr() (any, error) {
	x := p.binary(0)
	for p.concat && p.err == nil && p.startsOperand() {
		y := p.binary(0)
		x = toText(x) + toText(y)
	}
	return x, p.err
}

var levels = [][]string{{"||"}, {"&&"}, {"==", "!="}, {"<", "<=", ">", ">="}, {"+", "-"}, {"*", "/", "%"}}

func (p *exprParser) binary(level int) any {
	if level == len(levels) {
		return p.unary()
	}
	x := p.binary(level + 1)
	for p.err == nil && p.tok.kind == tOp && contains(levels[level], p.tok.text) {
		op := p.tok.text
		p.next()
		y := p.binary(level + 1)
		x = apply(op, x, y)
	}
	return x
}

func (p *exprParser) unary() any {
	switch {
	case p.is("!"):
		p.next()
		b, _ := p.unary().(bool)
		return !b
	case p.is("-"):
		p.next()
		f, _ := toNumber(p.unary())
		return -f
	}
	return p.operand()
}

func (p *exprParser) operand() any {
	t := p.tok
	switch t.kind {
	case tRef:
		p.next()
		r, ok := flowjson.ParseRef(t.text)
		if !ok {
			p.fail("bad reference " + t.text)
			return nil
		}
		return p.sc.ref(r)
	case tStr:
		p.next()
		return t.text
	case tNum:
		p.next()
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.fail("bad number " + t.text)
		}
		return f
	case tBool:
		p.next()
		return t.text == "true"
	}
	if p.is("(") {
		p.next()
		x, _ := p.expr()
		if !p.is(")") {
			p.fail("missing )")
			return nil
		}
		p.next()
		return x
	}
	if t.kind == tEOF {
		p.fail("unexpected end")
	} else {
		p.fail(fmt.Sprintf("unexpected %q", t.text))
	}
	return nil
}

func apply(op string, x, y any) any {
	switch op {
	case "||":
		a, _ := x.(bool)
		b, _ := y.(bool)
		return a || b
	case "&&":
		a, _ := x.(bool)
		b, _ := y.(bool)
		return a && b
	case "==":
		return equal(x, y)
	case "!=":
		return !equal(x, y)
	}
	a, okA := toNumber(x)
	b, okB := toNumber(y)
	switch op {
	case "<":
		return okA && okB && a < b
	case "<=":
		return okA && okB && a <= b
	case ">":
		return okA && okB && a > b
	case ">=":
		return okA && okB && a >= b
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		if b == 0 {
			return 0.0 // division by zero or null yields 0 (protocol.md 6.4)
		}
		return a / b
	case "%":
		if b == 0 {
			return 0.0
		}
		return math.Mod(a, b)
	}
	return nil
}

func equal(x, y any) bool {
	if a, ok := toNumber(x); ok {
		if b, ok := toNumber(y); ok {
			_, xs := x.(string)
			_, ys := y.(string)
			if xs == ys || !xs || !ys {
				return a == b
			}
		}
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// toNumber reads a number, or a numeric string (a TextInput of type number
// holds text).
func toNumber(x any) (float64, bool) {
	switch x := x.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	case nil:
		return 0, false
	}
	return 0, false
}

// toText renders a value as the phone shows it in text.
func toText(x any) string {
	switch x := x.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = toText(it)
		}
		return strings.Join(parts, "\n")
	}
	return fmt.Sprint(x)
}
