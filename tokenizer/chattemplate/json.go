package chattemplate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// fTojson is transformers' tojson filter: json.dumps(x, ensure_ascii=False,
// indent=indent, separators=separators, sort_keys=sort_keys).
func fTojson(ev *evaluator, a *args) (any, error) {
	asciiOnly := truthy(a.or(1, "ensure_ascii", false))
	indent := a.or(2, "indent", nil)
	seps := a.or(3, "separators", nil)
	sortKeys := truthy(a.or(4, "sort_keys", false))
	j := jsonEnc{asciiOnly: asciiOnly, sortKeys: sortKeys, itemSep: ", ", keySep: ": ", max: ev.lim.MaxOutput}
	switch x := indent.(type) {
	case nil:
	case string:
		j.indent, j.pretty = x, true
	case markup:
		j.indent, j.pretty = string(x), true
	case bool, int64:
		n, _ := asInt(x)
		j.indent, j.pretty = strings.Repeat(" ", int(max(0, min(n, 1<<10)))), true
	default:
		return nil, typeErr("indent must be an int or a string, not %s", typeName(indent))
	}
	if j.pretty {
		j.itemSep = ","
	}
	if seps != nil {
		l, ok := seps.(*list)
		if !ok || len(l.items) != 2 || !isStr(l.items[0]) || !isStr(l.items[1]) {
			return nil, &Error{Kind: "ValueError", Msg: "separators must be a pair of strings"}
		}
		j.itemSep, j.keySep = str(l.items[0]), str(l.items[1])
	}
	if err := j.encode(a.pos[0], 0); err != nil {
		return nil, err
	}
	return j.b.String(), nil
}

type jsonEnc struct {
	b                strings.Builder
	asciiOnly        bool
	sortKeys, pretty bool
	indent           string
	itemSep, keySep  string
	max              int
}

func (j *jsonEnc) newline(depth int) {
	if j.pretty {
		j.b.WriteByte('\n')
		for i := 0; i < depth; i++ {
			j.b.WriteString(j.indent)
		}
	}
}

func (j *jsonEnc) encode(v any, depth int) error {
	if depth > 500 {
		return &Error{Kind: "RecursionError", Msg: "maximum recursion depth exceeded while encoding a JSON object"}
	}
	if j.b.Len() > j.max {
		return &Error{Kind: "LimitError", Msg: "JSON text too long"}
	}
	switch x := v.(type) {
	case nil:
		j.b.WriteString("null")
	case bool:
		if x {
			j.b.WriteString("true")
		} else {
			j.b.WriteString("false")
		}
	case int64:
		j.b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case math.IsNaN(x):
			j.b.WriteString("NaN")
		case math.IsInf(x, 1):
			j.b.WriteString("Infinity")
		case math.IsInf(x, -1):
			j.b.WriteString("-Infinity")
		default:
			j.b.WriteString(floatRepr(x))
		}
	case string:
		j.str(x)
	case markup:
		j.str(string(x))
	case *list:
		if len(x.items) == 0 {
			j.b.WriteString("[]")
			return nil
		}
		j.b.WriteByte('[')
		for i, it := range x.items {
			if i > 0 {
				j.b.WriteString(j.itemSep)
			}
			j.newline(depth + 1)
			if err := j.encode(it, depth+1); err != nil {
				return err
			}
		}
		j.newline(depth)
		j.b.WriteByte(']')
	case *dict:
		if x.len() == 0 {
			j.b.WriteString("{}")
			return nil
		}
		keys := x.keys
		if j.sortKeys {
			keys = append([]any(nil), keys...)
			var err error
			slices.SortStableFunc(keys, func(p, q any) int {
				c, e := compare(p, q, "<")
				if e != nil && err == nil {
					err = e
				}
				return c
			})
			if err != nil {
				return err
			}
		}
		j.b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				j.b.WriteString(j.itemSep)
			}
			j.newline(depth + 1)
			var ks string
			switch kk := k.(type) {
			case string:
				ks = kk
			case markup:
				ks = string(kk)
			case nil:
				ks = "null"
			case bool:
				ks = map[bool]string{true: "true", false: "false"}[kk]
			case int64:
				ks = strconv.FormatInt(kk, 10)
			case float64:
				ks = floatRepr(kk)
			default:
				return typeErr("keys must be str, int, float, bool or None, not %s", typeName(k))
			}
			j.str(ks)
			j.b.WriteString(j.keySep)
			if err := j.encode(x.value(k), depth+1); err != nil {
				return err
			}
		}
		j.newline(depth)
		j.b.WriteByte('}')
	default:
		return typeErr("Object of type %s is not JSON serializable", typeName(v))
	}
	return nil
}

func (j *jsonEnc) str(s string) {
	j.b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			j.b.WriteString(`\"`)
		case '\\':
			j.b.WriteString(`\\`)
		case '\n':
			j.b.WriteString(`\n`)
		case '\r':
			j.b.WriteString(`\r`)
		case '\t':
			j.b.WriteString(`\t`)
		case '\b':
			j.b.WriteString(`\b`)
		case '\f':
			j.b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20:
				fmt.Fprintf(&j.b, `\u%04x`, r)
			case j.asciiOnly && r > 0x7e:
				if r > 0xffff {
					r -= 0x10000
					fmt.Fprintf(&j.b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				} else {
					fmt.Fprintf(&j.b, `\u%04x`, r)
				}
			case r == utf8.RuneError:
				j.b.WriteRune(r)
			default:
				j.b.WriteRune(r)
			}
		}
	}
	j.b.WriteByte('"')
}

// fromJSON decodes JSON into interpreter values, keeping the order of object
// keys (Python's json.loads does) and integers as int.
func fromJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > 1000 {
		return nil, fmt.Errorf("JSON nested deeper than 1000")
	}
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '[':
			l := &list{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				l.items = append(l.items, v)
			}
			_, err := dec.Token()
			return l, err
		case '{':
			d := newDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				_ = d.set(kt.(string), v)
			}
			_, err := dec.Token()
			return d, err
		}
		return nil, fmt.Errorf("unexpected %v", x)
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return nil, err
		}
		return f, nil
	case string, bool, nil:
		return x, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", t)
}

// fromGo converts ordinary Go values (what encoding/json produces, plus ints
// and string slices) to interpreter values. Map keys are sorted, since Go
// maps have no order; pass json.RawMessage to keep an object's own order.
func fromGo(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case json.Number:
		return fromJSON([]byte(x))
	case json.RawMessage:
		return fromJSON(x)
	case []string:
		l := &list{}
		for _, s := range x {
			l.items = append(l.items, s)
		}
		return l, nil
	case []any:
		l := &list{}
		for _, it := range x {
			c, err := fromGo(it)
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, c)
		}
		return l, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		d := newDict()
		for _, k := range keys {
			c, err := fromGo(x[k])
			if err != nil {
				return nil, err
			}
			_ = d.set(k, c)
		}
		return d, nil
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		d := newDict()
		for _, k := range keys {
			_ = d.set(k, x[k])
		}
		return d, nil
	}
	return nil, fmt.Errorf("unsupported Go value of type %T", v)
}

// strftime is Python's time.strftime for the directives chat templates use
// (glibc's, including "%-d").
func strftime(t time.Time, f string) (any, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		pad := true
		if f[i] == '-' && i+1 < len(f) {
			pad = false
			i++
		}
		num := func(n, width int) {
			if pad {
				fmt.Fprintf(&b, "%0*d", width, n)
			} else {
				fmt.Fprintf(&b, "%d", n)
			}
		}
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'y':
			num(t.Year()%100, 2)
		case 'm':
			num(int(t.Month()), 2)
		case 'd':
			num(t.Day(), 2)
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			num(t.Hour(), 2)
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			num(h, 2)
		case 'M':
			num(t.Minute(), 2)
		case 'S':
			num(t.Second(), 2)
		case 'j':
			num(t.YearDay(), 3)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'B':
			b.WriteString(t.Month().String())
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday()))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'Z', 'z':
			// datetime.now() is naive in transformers: empty.
		case '%':
			b.WriteByte('%')
		default:
			return nil, &Error{Kind: "ValueError", Msg: fmt.Sprintf("strftime directive %%%c is not supported by this renderer", f[i])}
		}
	}
	return b.String(), nil
}
