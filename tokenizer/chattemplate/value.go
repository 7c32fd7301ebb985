package chattemplate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Values inside the interpreter are plain Go values standing for Python's:
//
//	nil        None
//	bool       bool
//	int64      int
//	float64    float
//	string     str
//	markup     markupsafe.Markup (what |safe returns)
//	*list      list, or tuple when tuple is set
//	*dict      dict (insertion-ordered)
//	undefined  jinja2.Undefined
//	*namespace, *macro, *builtin, *boundMethod, *loopState, *cycler, *joiner
//
// Keeping Python's types apart is what lets the renderer fail exactly where
// jinja2 fails (None + str, len(int), undefined.attr) and print lists and
// dicts the way Python's repr does.

type markup string

type list struct {
	items []any
	tuple bool
	view  string // "dict_keys", "dict_values" or "dict_items": what dict.keys() etc. return
}

type dict struct {
	keys []any
	vals map[any]any
}

func newDict() *dict { return &dict{vals: map[any]any{}} }

// hashKey maps Python-equal keys to one Go map key (1, 1.0 and True are the
// same dict key in Python).
func hashKey(k any) (any, error) {
	switch v := k.(type) {
	case nil, string, int64:
		return v, nil
	case markup:
		return string(v), nil
	case bool:
		if v {
			return int64(1), nil
		}
		return int64(0), nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<62 {
			return int64(v), nil
		}
		return v, nil
	case *list:
		if v.tuple {
			var b strings.Builder
			b.WriteString("\x00tuple")
			for _, it := range v.items {
				h, err := hashKey(it)
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(&b, "\x00%T:%v", h, h)
			}
			return b.String(), nil
		}
	}
	return nil, fmt.Errorf("unhashable type: '%s'", typeName(k))
}

func (d *dict) get(k any) (any, bool) {
	h, err := hashKey(k)
	if err != nil {
		return nil, false
	}
	v, ok := d.vals[h]
	return v, ok
}

func (d *dict) set(k, v any) error {
	h, err := hashKey(k)
	if err != nil {
		return err
	}
	if _, ok := d.vals[h]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[h] = v
	return nil
}

func (d *dict) len() int { return len(d.keys) }

func (d *dict) value(k any) any {
	v, _ := d.get(k)
	return v
}

// generator is what jinja2's map, select, reject, selectattr, rejectattr,
// unique and batch filters (and reverse on a list) return: a Python iterator,
// always true, without len(), not JSON-serialisable, used up by iterating.
type generator struct {
	items []any
	pos   int
	err   error // raised when iterated (the filter's input was not iterable)
}

func (g *generator) drain() []any {
	out := g.items[g.pos:]
	g.pos = len(g.items)
	return out
}

// undefined is jinja2's default Undefined: empty when printed or iterated,
// false, and an error for anything else (arithmetic, attributes, calls).
type undefined struct {
	hint string // the message of the UndefinedError it raises
	kind string // the exception instead of UndefinedError ("SecurityError")
}

func undefName(name string) undefined { return undefined{hint: fmt.Sprintf("'%s' is undefined", name)} }

func undefAttr(obj any, attr any) undefined {
	what := typeName(obj) + " object" // jinja2's object_type_repr
	if obj == nil {
		what = "None"
	}
	if s, ok := attr.(string); ok {
		return undefined{hint: fmt.Sprintf("%s has no attribute %s", strRepr(what), strRepr(s))}
	}
	return undefined{hint: fmt.Sprintf("%s has no element %s", what, repr(attr))}
}

func (u undefined) err() error {
	kind := u.kind
	if kind == "" {
		kind = "UndefinedError"
	}
	if u.hint == "" {
		return &Error{Kind: kind, Msg: "value is undefined"}
	}
	return &Error{Kind: kind, Msg: u.hint}
}

// namespace is what namespace() returns: the one object a template may
// assign attributes to from inside a loop.
type namespace struct{ d *dict }

// typeName is Python's type(x).__name__.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case markup:
		return "Markup"
	case *list:
		if x.view != "" {
			return x.view
		}
		if x.tuple {
			return "tuple"
		}
		return "list"
	case *dict:
		return "dict"
	case undefined:
		return "Undefined"
	case *namespace:
		return "Namespace"
	case *macro:
		return "Macro"
	case *loopState:
		return "LoopContext"
	case *builtin, *boundMethod:
		return "builtin_function_or_method"
	case *generator:
		return "generator"
	}
	return fmt.Sprintf("%T", v)
}

// truthy is Python's bool(x).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil, undefined:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case markup:
		return x != ""
	case *list:
		return len(x.items) > 0
	case *dict:
		return x.len() > 0
	}
	return true
}

// str is Python's str(x) as jinja2 prints it ({{ x }}, ~, |string).
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case markup:
		return string(x)
	case undefined:
		return ""
	case nil:
		return "None"
	case *namespace:
		return "<Namespace " + reprDictBody(x.d) + ">"
	}
	return repr(v)
}

func repr(v any) string {
	var b strings.Builder
	writeRepr(&b, v, 0)
	return b.String()
}

func reprDictBody(d *dict) string {
	var b strings.Builder
	writeRepr(&b, d, 0)
	s := b.String()
	return s[1 : len(s)-1]
}

func writeRepr(b *strings.Builder, v any, depth int) {
	if depth > 200 {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(floatRepr(x))
	case string:
		b.WriteString(strRepr(x))
	case markup:
		b.WriteString("Markup(" + strRepr(string(x)) + ")")
	case *list:
		open, close := "[", "]"
		if x.tuple {
			open, close = "(", ")"
		}
		if x.view != "" {
			open, close = x.view+"([", "])"
		}
		b.WriteString(open)
		for i, it := range x.items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, it, depth+1)
		}
		if x.tuple && len(x.items) == 1 {
			b.WriteString(",")
		}
		b.WriteString(close)
	case *dict:
		b.WriteString("{")
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, k, depth+1)
			b.WriteString(": ")
			writeRepr(b, x.value(k), depth+1)
		}
		b.WriteString("}")
	case undefined:
		b.WriteString("Undefined")
	case *macro:
		b.WriteString("<Macro '" + x.def.name + "'>")
	default:
		b.WriteString("<" + typeName(v) + " object>")
	}
}

// floatRepr is Python's repr(float): the shortest digits that round-trip,
// positional for exponents in [-4, 16), scientific with a two-digit exponent
// otherwise, and always a ".0" on integral values.
func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±XX
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	sign := ""
	if neg {
		sign = "-"
	}
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}

// strRepr is Python's repr(str).
func strRepr(s string) string {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || pyPrintable(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

func pyPrintable(r rune) bool { return r == ' ' || unicode.IsPrint(r) }

// pySpace is Python's str.isspace for one character.
func pySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F) }

// equal is Python's ==.
func equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case undefined:
		_, ok := b.(undefined)
		return ok
	case string, markup:
		switch y := b.(type) {
		case string, markup:
			return str(x) == str(y)
		}
		return false
	case bool, int64, float64:
		xf, ok1 := number(x)
		yf, ok2 := number(b)
		if !ok1 || !ok2 {
			return false
		}
		xi, xint := asInt(x)
		yi, yint := asInt(b)
		if xint && yint {
			return xi == yi
		}
		return xf == yf
	case *list:
		y, ok := b.(*list)
		if !ok || x.tuple != y.tuple || x.view != y.view || x.view == "dict_values" || len(x.items) != len(y.items) {
			return false
		}
		for i := range x.items {
			if !equal(x.items[i], y.items[i]) {
				return false
			}
		}
		return true
	case *dict:
		y, ok := b.(*dict)
		if !ok || x.len() != y.len() {
			return false
		}
		for _, k := range x.keys {
			yv, ok := y.get(k)
			if !ok || !equal(x.value(k), yv) {
				return false
			}
		}
		return true
	}
	return a == b
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return x, true
	}
	return 0, false
}

func isStr(v any) bool {
	switch v.(type) {
	case string, markup:
		return true
	}
	return false
}

// compare is Python's <, <=, >, >= (op is the operator for the error).
func compare(a, b any, op string) (int, error) {
	if isStr(a) && isStr(b) {
		return strings.Compare(str(a), str(b)), nil
	}
	if x, ok := a.(*list); ok {
		if y, ok := b.(*list); ok && x.tuple == y.tuple {
			for i := 0; i < len(x.items) && i < len(y.items); i++ {
				if equal(x.items[i], y.items[i]) {
					continue
				}
				return compare(x.items[i], y.items[i], op)
			}
			return len(x.items) - len(y.items), nil
		}
	}
	if xi, ok := asInt(a); ok {
		if yi, ok := asInt(b); ok {
			switch {
			case xi < yi:
				return -1, nil
			case xi > yi:
				return 1, nil
			}
			return 0, nil
		}
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1, nil
			case x > y:
				return 1, nil
			}
			return 0, nil
		}
	}
	if u, ok := a.(undefined); ok {
		return 0, u.err()
	}
	if u, ok := b.(undefined); ok {
		return 0, u.err()
	}
	return 0, typeErr("'%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
}

// length is Python's len(x).
func length(v any) (int, error) {
	switch x := v.(type) {
	case string:
		return utf8.RuneCountInString(x), nil
	case markup:
		return utf8.RuneCountInString(string(x)), nil
	case *list:
		return len(x.items), nil
	case *dict:
		return x.len(), nil
	case undefined:
		return 0, nil
	case *namespace:
		return 0, typeErr("object of type 'Namespace' has no len()")
	}
	return 0, typeErr("object of type '%s' has no len()", typeName(v))
}

// iterate is Python's list(iter(x)).
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case *list:
		return x.items, nil
	case *dict:
		return append([]any(nil), x.keys...), nil
	case string:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case markup:
		return iterate(string(x))
	case undefined:
		return nil, nil
	case *generator:
		if x.err != nil {
			return nil, x.err
		}
		return x.drain(), nil
	}
	return nil, typeErr("'%s' object is not iterable", typeName(v))
}

// contains is Python's `item in container`.
func contains(container, item any) (bool, error) {
	switch c := container.(type) {
	case string, markup:
		if !isStr(item) {
			if u, ok := item.(undefined); ok {
				return false, u.err()
			}
			return false, typeErr("'in <string>' requires string as left operand, not %s", typeName(item))
		}
		return strings.Contains(str(c), str(item)), nil
	case *list:
		for _, it := range c.items {
			if equal(it, item) {
				return true, nil
			}
		}
		return false, nil
	case *dict:
		_, ok := c.get(item)
		if _, err := hashKey(item); err != nil {
			return false, typeErr("%s", err.Error())
		}
		return ok, nil
	case undefined:
		return false, nil
	case *generator:
		if c.err != nil {
			return false, c.err
		}
		for c.pos < len(c.items) {
			c.pos++
			if equal(c.items[c.pos-1], item) {
				return true, nil
			}
		}
		return false, nil
	}
	return false, typeErr("argument of type '%s' is not iterable", typeName(container))
}

func typeErr(format string, args ...any) error {
	return &Error{Kind: "TypeError", Msg: fmt.Sprintf(format, args...)}
}
