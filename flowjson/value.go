package flowjson

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the JSON type of a [Value].
type Kind uint8

// The JSON types.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"null", "boolean", "number", "string", "array", "object"}

// String returns the JSON name of the kind: "null", "boolean", "number",
// "string", "array" or "object".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Pos is a position in a Flow JSON source file. Line and Col are 1-based and
// Col counts bytes, as Go's own tools do; the zero Pos means "no source" (a
// value built in Go rather than parsed).
type Pos struct {
	Offset int // byte offset from the start of the source
	Line   int
	Col    int
}

// IsValid reports whether p is a real source position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats p as "line:col".
func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// Value is a JSON value exactly as it appeared in the source, with its
// position. Properties that Flow JSON allows to be either a literal or a
// dynamic reference (such as "required": true or "required": "${data.req}")
// are kept as *Value in the model, so nothing is lost and the validator can
// tell the two apart.
type Value struct {
	Kind    Kind
	Bool    bool      // for Bool
	Str     string    // the text for String; the literal as written for Number
	Items   []*Value  // for Array
	Members []*Member // for Object, in source order (duplicates included)
	Pos     Pos       // where the value starts
}

// Member is one "key": value pair of a JSON object.
type Member struct {
	Key    string
	KeyPos Pos
	Value  *Value
}

// Get returns the value of the last member named key of an object, or nil
// when v is not an object or has no such member.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := len(v.Members) - 1; i >= 0; i-- {
		if v.Members[i].Key == key {
			return v.Members[i].Value
		}
	}
	return nil
}

// member returns the last member named key, or nil.
func (v *Value) member(key string) *Member {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := len(v.Members) - 1; i >= 0; i-- {
		if v.Members[i].Key == key {
			return v.Members[i]
		}
	}
	return nil
}

// AsString returns the string of a String value.
func (v *Value) AsString() (string, bool) {
	if v == nil || v.Kind != String {
		return "", false
	}
	return v.Str, true
}

// AsBool returns the boolean of a Bool value.
func (v *Value) AsBool() (b, ok bool) {
	if v == nil || v.Kind != Bool {
		return false, false
	}
	return v.Bool, true
}

// AsFloat returns the number of a Number value.
func (v *Value) AsFloat() (float64, bool) {
	if v == nil || v.Kind != Number {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Str, 64)
	return f, err == nil
}

// AsInt returns the number of a Number value that is a whole number within
// the int range (so 5, 5.0 and 5e0 all give 5).
func (v *Value) AsInt() (int, bool) {
	f, ok := v.AsFloat()
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// Interface converts v into the Go value encoding/json would produce:
// nil, bool, float64, string, []any or map[string]any.
func (v *Value) Interface() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case Bool:
		return v.Bool
	case Number:
		f, _ := v.AsFloat()
		return f
	case String:
		return v.Str
	case Array:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			out[i] = it.Interface()
		}
		return out
	case Object:
		out := make(map[string]any, len(v.Members))
		for _, m := range v.Members {
			out[m.Key] = m.Value.Interface()
		}
		return out
	}
	return nil
}

// ValueOf converts a Go value as produced by encoding/json (nil, bool,
// float64, json.Number, string, []any, map[string]any, and also the common
// integer types) into a Value without position. Map keys are sorted so the
// result is deterministic. Unsupported types give a Null value.
func ValueOf(x any) *Value {
	switch x := x.(type) {
	case nil:
		return &Value{Kind: Null}
	case bool:
		return &Value{Kind: Bool, Bool: x}
	case string:
		return &Value{Kind: String, Str: x}
	case float64:
		return &Value{Kind: Number, Str: strconv.FormatFloat(x, 'g', -1, 64)}
	case json.Number:
		return &Value{Kind: Number, Str: x.String()}
	case int:
		return &Value{Kind: Number, Str: strconv.Itoa(x)}
	case int64:
		return &Value{Kind: Number, Str: strconv.FormatInt(x, 10)}
	case []any:
		v := &Value{Kind: Array, Items: make([]*Value, len(x))}
		for i, it := range x {
			v.Items[i] = ValueOf(it)
		}
		return v
	case []string:
		v := &Value{Kind: Array, Items: make([]*Value, len(x))}
		for i, it := range x {
			v.Items[i] = &Value{Kind: String, Str: it}
		}
		return v
	case map[string]any:
		v := &Value{Kind: Object}
		for _, k := range sortedKeys(x) {
			v.Members = append(v.Members, &Member{Key: k, Value: ValueOf(x[k])})
		}
		return v
	}
	return &Value{Kind: Null}
}

// MarshalJSON writes v back as compact JSON; numbers keep their literal.
func (v *Value) MarshalJSON() ([]byte, error) {
	return v.appendJSON(nil), nil
}

// String returns v as compact JSON.
func (v *Value) String() string { return string(v.appendJSON(nil)) }

func (v *Value) appendJSON(b []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	switch v.Kind {
	case Bool:
		return strconv.AppendBool(b, v.Bool)
	case Number:
		if v.Str == "" {
			return append(b, '0')
		}
		return append(b, v.Str...)
	case String:
		return appendString(b, v.Str)
	case Array:
		b = append(b, '[')
		for i, it := range v.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = it.appendJSON(b)
		}
		return append(b, ']')
	case Object:
		b = append(b, '{')
		for i, m := range v.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.Key)
			b = append(b, ':')
			b = m.Value.appendJSON(b)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Unlike encoding/json it does not
// escape <, > and &: Flow JSON is not embedded in HTML, and keeping them
// readable keeps marshalled flows diffable against their source.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// SyntaxError is a Flow JSON source that is not valid JSON.
type SyntaxError struct {
	Msg string
	Pos Pos
}

// Error returns the message with its line and column.
func (e *SyntaxError) Error() string {
	return "flowjson: invalid JSON at " + e.Pos.String() + ": " + e.Msg
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack; real
// flows nest a few dozen levels at most.
const maxDepth = 500

// ParseValue parses a JSON document into a Value tree that records the
// position of every value and key. It accepts exactly RFC 8259 JSON (the
// same documents as encoding/json) and reports the first syntax error as a
// *SyntaxError with its line and column.
func ParseValue(src []byte) (*Value, error) {
	p := &parser{src: src, line: 1}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i < len(p.src) {
		return nil, p.errorf("unexpected %s after the top-level value", p.describe())
	}
	return v, nil
}

type parser struct {
	src       []byte
	i         int
	line      int
	lineStart int
	// Flows repeat the same keys and short strings ("type", "TextInput",
	// "${form.name}") thousands of times: interning them, and allocating
	// values and members in slabs, keeps parsing cheap.
	strs    map[string]string
	values  []Value
	members []Member
	// valueSlab and memberSlab are the sizes of the next slabs (grow).
	valueSlab, memberSlab int
}

const slab = 256

// grow returns the size of the next slab of values or members: 16 at
// first, doubling up to slab, so a small document (an endpoint's answer,
// checked on every request) takes little.
func grow(next *int) int {
	n := max(*next, 16)
	*next = min(2*n, slab)
	return n
}

func (p *parser) newValue(v Value) *Value {
	if len(p.values) == 0 {
		p.values = make([]Value, grow(&p.valueSlab))
	}
	n := &p.values[0]
	p.values = p.values[1:]
	*n = v
	return n
}

func (p *parser) newMember(m Member) *Member {
	if len(p.members) == 0 {
		p.members = make([]Member, grow(&p.memberSlab))
	}
	n := &p.members[0]
	p.members = p.members[1:]
	*n = m
	return n
}

// intern returns b as a string, shared with earlier equal short strings.
func (p *parser) intern(b []byte) string {
	if len(b) > 40 {
		return string(b)
	}
	if s, ok := p.strs[string(b)]; ok {
		return s
	}
	if p.strs == nil {
		p.strs = make(map[string]string, min(256, len(p.src)/32+1))
	}
	s := string(b)
	p.strs[s] = s
	return s
}

func (p *parser) pos() Pos { return Pos{Offset: p.i, Line: p.line, Col: p.i - p.lineStart + 1} }

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Pos: p.pos()}
}

func (p *parser) describe() string {
	if p.i >= len(p.src) {
		return "end of input"
	}
	c := p.src[p.i]
	if c >= 0x20 && c < 0x7f {
		return "character " + strconv.QuoteRune(rune(c))
	}
	return "byte " + strconv.Quote(string(c))
}

func (p *parser) skipSpace() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\r':
			p.i++
		case '\n':
			p.i++
			p.line++
			p.lineStart = p.i
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (*Value, error) {
	if depth > maxDepth {
		return nil, p.errorf("nesting deeper than 500 levels")
	}
	if p.i >= len(p.src) {
		return nil, p.errorf("unexpected end of input, want a value")
	}
	switch c := p.src[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		pos := p.pos()
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return p.newValue(Value{Kind: String, Str: s, Pos: pos}), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", p.newValue(Value{Kind: Bool, Bool: true}))
	case c == 'f':
		return p.literal("false", p.newValue(Value{Kind: Bool}))
	case c == 'n':
		return p.literal("null", p.newValue(Value{Kind: Null}))
	}
	return nil, p.errorf("unexpected %s, want a value", p.describe())
}

func (p *parser) literal(word string, v *Value) (*Value, error) {
	v.Pos = p.pos()
	if !strings.HasPrefix(string(p.src[p.i:min(len(p.src), p.i+len(word))]), word) {
		return nil, p.errorf("invalid literal, want %s", word)
	}
	p.i += len(word)
	return v, nil
}

func (p *parser) object(depth int) (*Value, error) {
	v := p.newValue(Value{Kind: Object, Pos: p.pos()})
	p.i++ // {
	p.skipSpace()
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		v.Members = []*Member{}
		return v, nil
	}
	for {
		if p.i >= len(p.src) || p.src[p.i] != '"' {
			return nil, p.errorf("unexpected %s, want a property name in double quotes", p.describe())
		}
		kpos := p.pos()
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.i >= len(p.src) || p.src[p.i] != ':' {
			return nil, p.errorf("unexpected %s, want ':' after the property name", p.describe())
		}
		p.i++
		p.skipSpace()
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.Members = append(v.Members, p.newMember(Member{Key: key, KeyPos: kpos, Value: val}))
		p.skipSpace()
		if p.i >= len(p.src) {
			return nil, p.errorf("unexpected end of input, want ',' or '}'")
		}
		switch p.src[p.i] {
		case ',':
			p.i++
			p.skipSpace()
		case '}':
			p.i++
			return v, nil
		default:
			return nil, p.errorf("unexpected %s, want ',' or '}'", p.describe())
		}
	}
}

func (p *parser) array(depth int) (*Value, error) {
	v := p.newValue(Value{Kind: Array, Pos: p.pos(), Items: []*Value{}})
	p.i++ // [
	p.skipSpace()
	if p.i < len(p.src) && p.src[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		it, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.Items = append(v.Items, it)
		p.skipSpace()
		if p.i >= len(p.src) {
			return nil, p.errorf("unexpected end of input, want ',' or ']'")
		}
		switch p.src[p.i] {
		case ',':
			p.i++
			p.skipSpace()
		case ']':
			p.i++
			return v, nil
		default:
			return nil, p.errorf("unexpected %s, want ',' or ']'", p.describe())
		}
	}
}

// string scans a JSON string starting at the opening quote and returns its
// text. Escapes and invalid UTF-8 are decoded by encoding/json so the result
// is exactly what encoding/json would give.
func (p *parser) string() (string, error) {
	start := p.i
	p.i++ // opening quote
	simple := true
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '"':
			p.i++
			raw := p.src[start:p.i]
			if simple {
				return p.intern(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", &SyntaxError{Msg: "invalid string: " + err.Error(), Pos: Pos{Offset: start, Line: p.line, Col: start - p.lineStart + 1}}
			}
			return s, nil
		case c == '\\':
			simple = false
			p.i++
			if p.i >= len(p.src) {
				return "", p.errorf("unexpected end of input in a string")
			}
			switch p.src[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				p.i++
				for k := 0; k < 4; k++ {
					if p.i >= len(p.src) || !isHex(p.src[p.i]) {
						return "", p.errorf("invalid \\u escape in a string, want 4 hex digits")
					}
					p.i++
				}
			default:
				return "", p.errorf("invalid escape %s in a string", p.describe())
			}
		case c < 0x20:
			return "", p.errorf("control character %s in a string (escape it)", p.describe())
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(p.src[p.i:])
			if r == utf8.RuneError && size == 1 {
				simple = false
			}
			p.i += size
		default:
			p.i++
		}
	}
	return "", p.errorf("unexpected end of input in a string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (p *parser) number() (*Value, error) {
	pos := p.pos()
	start := p.i
	if p.src[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	switch {
	case p.i < len(p.src) && p.src[p.i] == '0':
		p.i++
	case digits() == 0:
		return nil, p.errorf("invalid number, want a digit")
	}
	if p.i < len(p.src) && p.src[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errorf("invalid number, want a digit after '.'")
		}
	}
	if p.i < len(p.src) && (p.src[p.i] == 'e' || p.src[p.i] == 'E') {
		p.i++
		if p.i < len(p.src) && (p.src[p.i] == '+' || p.src[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number, want a digit in the exponent")
		}
	}
	return p.newValue(Value{Kind: Number, Str: p.intern(p.src[start:p.i]), Pos: pos}), nil
}
