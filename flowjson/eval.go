package flowjson

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Expr is a parsed expression of a dynamic property: a nested expression
// in backticks (6.0+) or an If condition (protocol.md 6.4). The validator
// type-checks expressions; Eval computes them, for a simulator of the
// WhatsApp client.
type Expr struct{ root *exprNode }

// ParseExpr parses src, an expression without its backticks. backticks
// allows string concatenation by juxtaposition ("'Hello ' ${form.name}"),
// which only backticked expressions have; If conditions do not.
func ParseExpr(src string, backticks bool) (*Expr, error) {
	n, err := parseExpr(src, backticks)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", src, err)
	}
	return &Expr{root: n}, nil
}

// Eval computes the expression as the WhatsApp client does, resolve giving
// each reference's current value (nil when it has none). It does not fail:
// an operand of the wrong type counts as false or 0, and a division by zero
// or null gives 0 (protocol.md 6.4); the validator reports such
// expressions before they reach a phone.
func (e *Expr) Eval(resolve func(Ref) any) any {
	return e.root.eval(resolve)
}

func (n *exprNode) eval(resolve func(Ref) any) any {
	switch {
	case n.literal:
		return n.val
	case n.ref != nil:
		return resolve(*n.ref)
	}
	switch n.op {
	case "concat":
		var b strings.Builder
		for _, a := range n.args {
			b.WriteString(TextOf(a.eval(resolve)))
		}
		return b.String()
	case "!":
		x, _ := n.args[0].eval(resolve).(bool)
		return !x
	case "neg":
		f, _ := NumberOf(n.args[0].eval(resolve))
		return -f
	}
	return apply(n.op, n.args[0].eval(resolve), n.args[1].eval(resolve))
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
	a, okA := NumberOf(x)
	b, okB := NumberOf(y)
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
			return 0.0
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

// equal compares as the client does: numbers by value (a numeric string
// equals the number it spells), everything else by its text.
func equal(x, y any) bool {
	if a, ok := NumberOf(x); ok {
		if b, ok := NumberOf(y); ok {
			_, xs := x.(string)
			_, ys := y.(string)
			if xs == ys || !xs || !ys {
				return a == b
			}
		}
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// NumberOf reads a number, or a numeric string (a TextInput of type
// number holds text); ok is false for anything else.
func NumberOf(v any) (f float64, ok bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// TextOf renders a value as the client shows it in text: "" for null,
// numbers without a trailing ".0", list items one per line.
func TextOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, it := range v {
			parts[i] = TextOf(it)
		}
		return strings.Join(parts, "\n")
	}
	return fmt.Sprint(v)
}
