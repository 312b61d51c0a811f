package flowjson

import (
	"errors"
	"strconv"
	"strings"
)

// vtype is a set of JSON types, for type-checking references.
type vtype uint8

const (
	tString vtype = 1 << iota
	tNumber
	tBool
	tArray
	tObject
	tNull
	tAny = tString | tNumber | tBool | tArray | tObject | tNull
)

func (t vtype) String() string {
	if t == tAny {
		return "any"
	}
	var parts []string
	for i, name := range []string{"string", "number", "boolean", "array", "object", "null"} {
		if t&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, " or ")
}

func kindType(k Kind) vtype {
	switch k {
	case String:
		return tString
	case Number:
		return tNumber
	case Bool:
		return tBool
	case Array:
		return tArray
	case Object:
		return tObject
	}
	return tNull
}

// schemaType maps a data-model "type" to a vtype.
func schemaType(s string) (vtype, bool) {
	switch s {
	case "string":
		return tString, true
	case "number", "integer":
		return tNumber, true
	case "boolean":
		return tBool, true
	case "array":
		return tArray, true
	case "object":
		return tObject, true
	}
	return 0, false
}

// RefKind says what a dynamic reference points at.
type RefKind uint8

// Reference kinds (protocol.md 6.4).
const (
	RefData       RefKind = iota // ${data.field.sub}
	RefForm                      // ${form.name}
	RefScreenData                // ${screen.ID.data.field}
	RefScreenForm                // ${screen.ID.form.name}
)

// Ref is a parsed dynamic reference.
type Ref struct {
	Kind   RefKind
	Screen string   // for the global kinds
	Path   []string // field path (data) or the component name (form)
	Text   string   // the reference as written, with ${ }
}

// Name returns the first element of the path: the data field or form name.
func (r Ref) Name() string {
	if len(r.Path) == 0 {
		return ""
	}
	return r.Path[0]
}

// ParseRef parses a whole "${...}" reference. It reports false for anything
// else, including text around the reference.
func ParseRef(s string) (Ref, bool) {
	if !strings.HasPrefix(s, "${") || !strings.HasSuffix(s, "}") || strings.Count(s, "${") != 1 {
		return Ref{}, false
	}
	body := s[2 : len(s)-1]
	parts := strings.Split(body, ".")
	for _, p := range parts {
		if !isIdent(p) {
			return Ref{}, false
		}
	}
	r := Ref{Text: s}
	switch {
	case parts[0] == "data" && len(parts) >= 2:
		r.Kind, r.Path = RefData, parts[1:]
	case parts[0] == "form" && len(parts) == 2:
		r.Kind, r.Path = RefForm, parts[1:]
	case parts[0] == "screen" && len(parts) >= 4 && parts[2] == "data":
		r.Kind, r.Screen, r.Path = RefScreenData, parts[1], parts[3:]
	case parts[0] == "screen" && len(parts) == 4 && parts[2] == "form":
		r.Kind, r.Screen, r.Path = RefScreenForm, parts[1], parts[3:]
	default:
		return Ref{}, false
	}
	return r, true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// dynForm classifies a string property value.
type dynForm uint8

const (
	dynLiteral dynForm = iota // plain text
	dynRef                    // exactly one ${...}
	dynExpr                   // a nested expression in backticks (6.0+)
	dynMixed                  // text mixed with ${...}: not allowed
)

func classify(s string) dynForm {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return dynExpr
	}
	i := strings.Index(s, "${")
	if i < 0 {
		return dynLiteral
	}
	if i == 0 && strings.HasSuffix(s, "}") && strings.Count(s, "${") == 1 && strings.IndexByte(s, '}') == len(s)-1 {
		return dynRef
	}
	return dynMixed
}

// Expressions: nested expressions in backticks (6.0+) and If conditions.
// Grammar, loosest first: juxtaposition (string concatenation, backticks
// only) < || < && < == != < < <= > >= < + - < * / % < unary ! - < operand.

type exprNode struct {
	op       string // "" for operands; "concat", "!", "neg", or the binary operator
	ref      *Ref
	lit      vtype // type of a literal operand
	val      any   // a literal operand's value: string, float64 or bool
	args     []*exprNode
	literal  bool // a literal operand
	parens   bool
	position int
}

type exprToken struct {
	kind string // "ref", "str", "num", "bool", "op", "eof"
	text string
	pos  int
}

type exprError struct{ msg string }

func (e *exprError) Error() string { return e.msg }

func tokenize(s string) ([]exprToken, error) {
	var toks []exprToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, &exprError{"unterminated reference " + s[i:]}
			}
			toks = append(toks, exprToken{"ref", s[i : i+end+1], i})
			i += end + 1
		case c == '\'' || c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, &exprError{"unterminated quoted string"}
			}
			toks = append(toks, exprToken{"str", b.String(), i})
			i = j + 1
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			toks = append(toks, exprToken{"num", s[i:j], i})
			i = j
		case strings.HasPrefix(s[i:], "true") && !identAt(s, i+4):
			toks = append(toks, exprToken{"bool", "true", i})
			i += 4
		case strings.HasPrefix(s[i:], "false") && !identAt(s, i+5):
			toks = append(toks, exprToken{"bool", "false", i})
			i += 5
		default:
			op := ""
			for _, o := range []string{"==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &exprError{"unexpected " + quoteRune(s[i:]) + "; quote text with single quotes"}
			}
			toks = append(toks, exprToken{"op", op, i})
			i += len(op)
		}
	}
	return append(toks, exprToken{kind: "eof", pos: len(s)}), nil
}

func identAt(s string, i int) bool {
	return i < len(s) && isIdent(s[i:i+1])
}

func quoteRune(s string) string {
	for _, r := range s {
		return "'" + string(r) + "'"
	}
	return "end"
}

type exprParser struct {
	toks   []exprToken
	i      int
	concat bool // juxtaposition allowed (backtick expressions)
}

func (p *exprParser) peek() exprToken { return p.toks[p.i] }
func (p *exprParser) next() exprToken { t := p.toks[p.i]; p.i++; return t }

// parseExpr parses s as an expression.
func parseExpr(s string, concat bool) (*exprNode, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return nil, &exprError{"the expression is empty"}
	}
	p := &exprParser{toks: toks, concat: concat}
	n, err := p.parseConcat()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, &exprError{"unexpected " + describeTok(t)}
	}
	return n, nil
}

func describeTok(t exprToken) string {
	switch t.kind {
	case "eof":
		return "end of expression"
	case "str":
		return "'" + t.text + "'"
	}
	return "'" + t.text + "'"
}

func (p *exprParser) startsOperand() bool {
	t := p.peek()
	switch t.kind {
	case "ref", "str", "num", "bool":
		return true
	case "op":
		return t.text == "(" || t.text == "!"
	}
	return false
}

func (p *exprParser) parseConcat() (*exprNode, error) {
	n, err := p.parseBinary(0)
	if err != nil {
		return nil, err
	}
	if !p.startsOperand() {
		return n, nil
	}
	if !p.concat {
		return nil, &exprError{"missing operator before " + describeTok(p.peek())}
	}
	out := &exprNode{op: "concat", args: []*exprNode{n}}
	for p.startsOperand() {
		m, err := p.parseBinary(0)
		if err != nil {
			return nil, err
		}
		out.args = append(out.args, m)
	}
	return out, nil
}

var binaryLevels = [][]string{
	{"||"},
	{"&&"},
	{"==", "!="},
	{"<", "<=", ">", ">="},
	{"+", "-"},
	{"*", "/", "%"},
}

func (p *exprParser) parseBinary(level int) (*exprNode, error) {
	if level == len(binaryLevels) {
		return p.parseUnary()
	}
	left, err := p.parseBinary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != "op" || !contains(binaryLevels[level], t.text) {
			return left, nil
		}
		p.next()
		right, err := p.parseBinary(level + 1)
		if err != nil {
			return nil, err
		}
		left = &exprNode{op: t.text, args: []*exprNode{left, right}, position: t.pos}
	}
}

func (p *exprParser) parseUnary() (*exprNode, error) {
	t := p.peek()
	if t.kind == "op" && (t.text == "!" || t.text == "-") {
		p.next()
		arg, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		op := t.text
		if op == "-" {
			op = "neg"
		}
		return &exprNode{op: op, args: []*exprNode{arg}, position: t.pos}, nil
	}
	return p.parseOperand()
}

func (p *exprParser) parseOperand() (*exprNode, error) {
	t := p.next()
	switch t.kind {
	case "ref":
		r, ok := ParseRef(t.text)
		if !ok {
			return nil, &exprError{"invalid reference " + t.text + "; use ${data.x}, ${form.x}, ${screen.ID.data.x} or ${screen.ID.form.x}"}
		}
		return &exprNode{ref: &r, position: t.pos}, nil
	case "str":
		return &exprNode{literal: true, lit: tString, val: t.text, position: t.pos}, nil
	case "num":
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // a huge number is still one
			return nil, &exprError{"invalid number " + t.text}
		}
		return &exprNode{literal: true, lit: tNumber, val: f, position: t.pos}, nil
	case "bool":
		return &exprNode{literal: true, lit: tBool, val: t.text == "true", position: t.pos}, nil
	case "op":
		if t.text == "(" {
			if p.peek().kind == "op" && p.peek().text == ")" {
				return nil, &exprError{"found invalid empty parentheses"}
			}
			n, err := p.parseConcat()
			if err != nil {
				return nil, err
			}
			if c := p.next(); c.kind != "op" || c.text != ")" {
				return nil, &exprError{"missing closing parenthesis"}
			}
			n.parens = true
			return n, nil
		}
	}
	return nil, &exprError{"unexpected " + describeTok(t) + ", want an operand"}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// refs calls fn for every reference in the expression.
func (n *exprNode) refs(fn func(*Ref)) {
	if n.ref != nil {
		fn(n.ref)
	}
	for _, a := range n.args {
		a.refs(fn)
	}
}

// typeCheck infers the type of n, given the type of each reference
// (tAny when unknown), and returns the first type error.
func (n *exprNode) typeCheck(refType func(*Ref) vtype) (vtype, error) {
	if n.literal {
		return n.lit, nil
	}
	if n.ref != nil {
		return refType(n.ref), nil
	}
	types := make([]vtype, len(n.args))
	for i, a := range n.args {
		t, err := a.typeCheck(refType)
		if err != nil {
			return 0, err
		}
		types[i] = t
	}
	switch n.op {
	case "concat":
		return tString, nil
	case "!":
		if types[0]&tBool == 0 {
			return 0, &exprError{"'!' needs a boolean operand, found " + types[0].String()}
		}
		return tBool, nil
	case "neg":
		if types[0]&tNumber == 0 {
			return 0, &exprError{"a numerical value is expected to follow the negative sign"}
		}
		return tNumber, nil
	}
	l, r := n.args[0], n.args[1]
	if l.literal && r.literal {
		return 0, &exprError{"the operator '" + n.op + "' has literals on both sides; one side must be a dynamic reference"}
	}
	lt, rt := types[0], types[1]
	switch n.op {
	case "&&", "||":
		if lt&tBool == 0 || rt&tBool == 0 {
			return 0, &exprError{"'" + n.op + "' needs boolean operands, found " + lt.String() + " and " + rt.String()}
		}
		return tBool, nil
	case "==", "!=":
		if lt&rt&(tString|tNumber|tBool) == 0 {
			return 0, &exprError{"type mismatch in an equality operation: " + lt.String() + " " + n.op + " " + rt.String()}
		}
		return tBool, nil
	case "<", "<=", ">", ">=":
		if lt&tNumber == 0 || rt&tNumber == 0 {
			return 0, &exprError{"'" + n.op + "' compares numbers, found " + lt.String() + " and " + rt.String()}
		}
		return tBool, nil
	default: // + - * / %
		if lt&tNumber == 0 || rt&tNumber == 0 {
			return 0, &exprError{"'" + n.op + "' needs numbers, found " + lt.String() + " and " + rt.String() + "; join strings by writing them side by side"}
		}
		return tNumber, nil
	}
}

// hasRef reports whether the expression has at least one dynamic operand.
func (n *exprNode) hasRef() bool {
	found := false
	n.refs(func(*Ref) { found = true })
	return found
}
