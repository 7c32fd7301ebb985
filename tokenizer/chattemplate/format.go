package chattemplate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// percentFormat is Python's str % args (and jinja2's format filter):
// %s %r %d %i %u %f %F %e %E %g %G %x %X %o %c %% with flags, width,
// precision and %(name)s keys.
func percentFormat(format string, args any) (string, error) {
	var pos []any
	var named *dict
	switch a := args.(type) {
	case *list:
		if a.tuple {
			pos = a.items
		} else {
			pos = []any{a}
		}
	case *dict:
		named = a
		pos = []any{a}
	default:
		pos = []any{a}
	}
	next := 0
	usedNamed := false
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", &Error{Kind: "ValueError", Msg: "incomplete format"}
		}
		var v any
		haveV := false
		if format[i] == '(' {
			end := strings.IndexByte(format[i:], ')')
			if end < 0 {
				return "", &Error{Kind: "ValueError", Msg: "incomplete format key"}
			}
			if named == nil {
				return "", typeErr("format requires a mapping")
			}
			key := format[i+1 : i+end]
			val, ok := named.get(key)
			if !ok {
				return "", &Error{Kind: "KeyError", Msg: strRepr(key)}
			}
			v, haveV, usedNamed = val, true, true
			i += end + 1
		}
		flags := ""
		for i < len(format) && strings.IndexByte("-+ 0#", format[i]) >= 0 {
			flags += string(format[i])
			i++
		}
		width := ""
		for i < len(format) && format[i] >= '0' && format[i] <= '9' {
			width += string(format[i])
			i++
		}
		prec := -1
		if i < len(format) && format[i] == '.' {
			i++
			p := ""
			for i < len(format) && format[i] >= '0' && format[i] <= '9' {
				p += string(format[i])
				i++
			}
			prec, _ = strconv.Atoi(p)
		}
		if i >= len(format) {
			return "", &Error{Kind: "ValueError", Msg: "incomplete format"}
		}
		verb := format[i]
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if !haveV {
			if next >= len(pos) {
				return "", typeErr("not enough arguments for format string")
			}
			v = pos[next]
			next++
		}
		var s string
		switch verb {
		case 's':
			s = str(v)
			if prec >= 0 && prec < utf8.RuneCountInString(s) {
				s = string([]rune(s)[:prec])
			}
		case 'r', 'a':
			s = repr(v)
		case 'd', 'i', 'u', 'x', 'X', 'o':
			n, ok := asInt(v)
			if !ok {
				f, isF := v.(float64)
				if !isF || verb == 'x' || verb == 'X' || verb == 'o' {
					return "", typeErr("%%%c format: a real number is required, not %s", verb, typeName(v))
				}
				n = int64(f)
			}
			base := map[byte]int{'x': 16, 'X': 16, 'o': 8}[verb]
			if base == 0 {
				base = 10
			}
			s = strconv.FormatInt(n, base)
			if verb == 'X' {
				s = strings.ToUpper(s)
			}
			if strings.Contains(flags, "+") && n >= 0 {
				s = "+" + s
			} else if strings.Contains(flags, " ") && n >= 0 {
				s = " " + s
			}
		case 'f', 'F', 'e', 'E', 'g', 'G':
			f, ok := number(v)
			if !ok {
				return "", typeErr("must be real number, not %s", typeName(v))
			}
			if prec < 0 {
				prec = 6
			}
			s = fmt.Sprintf("%."+strconv.Itoa(prec)+string(verb), f)
			if strings.Contains(flags, "+") && f >= 0 {
				s = "+" + s
			}
		case 'c':
			if n, ok := asInt(v); ok {
				s = string(rune(n))
			} else if isStr(v) && utf8.RuneCountInString(str(v)) == 1 {
				s = str(v)
			} else {
				return "", typeErr("%%c requires int or char")
			}
		default:
			return "", &Error{Kind: "ValueError", Msg: fmt.Sprintf("unsupported format character '%c'", verb)}
		}
		if w, _ := strconv.Atoi(width); w > utf8.RuneCountInString(s) {
			pad := strings.Repeat(" ", w-utf8.RuneCountInString(s))
			switch {
			case strings.Contains(flags, "-"):
				s += pad
			case strings.Contains(flags, "0") && verb != 's' && verb != 'r':
				sign := ""
				if s != "" && (s[0] == '-' || s[0] == '+') {
					sign, s = s[:1], s[1:]
				}
				s = sign + strings.Repeat("0", len(pad)) + s
			default:
				s = pad + s
			}
		}
		b.WriteString(s)
	}
	// Python lets a mapping-like argument (a dict or a list) go unused.
	if _, isList := args.(*list); isList && !args.(*list).tuple {
		return b.String(), nil
	}
	if next < len(pos) && !usedNamed && named == nil {
		return "", typeErr("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// braceFormat is str.format with {} {0} {name} fields (and !s / !r
// conversions); format specs are not supported.
func braceFormat(format string, a *args) (string, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '{' && i+1 < len(format) && format[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(format) && format[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '}':
			return "", &Error{Kind: "ValueError", Msg: "Single '}' encountered in format string"}
		case c == '{':
			end := strings.IndexByte(format[i:], '}')
			if end < 0 {
				return "", &Error{Kind: "ValueError", Msg: "Single '{' encountered in format string"}
			}
			field := format[i+1 : i+end]
			i += end
			conv := ""
			if k := strings.IndexByte(field, '!'); k >= 0 {
				field, conv = field[:k], field[k+1:]
			}
			if strings.ContainsAny(field, ":.[") {
				return "", &Error{Kind: "TemplateRuntimeError", Msg: "str.format with format specs, attributes or indices is not supported by this renderer"}
			}
			var v any
			if field == "" {
				if auto >= len(a.pos) {
					return "", &Error{Kind: "IndexError", Msg: fmt.Sprintf("Replacement index %d out of range for positional args tuple", auto)}
				}
				v = a.pos[auto]
				auto++
			} else if n, err := strconv.Atoi(field); err == nil {
				if n >= len(a.pos) {
					return "", &Error{Kind: "IndexError", Msg: fmt.Sprintf("Replacement index %d out of range for positional args tuple", n)}
				}
				v = a.pos[n]
			} else {
				found := false
				for j, k := range a.kwNames {
					if k == field {
						v, found = a.kwVals[j], true
					}
				}
				if !found {
					return "", &Error{Kind: "KeyError", Msg: strRepr(field)}
				}
			}
			if conv == "r" {
				b.WriteString(repr(v))
			} else {
				b.WriteString(str(v))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
