package chattemplate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Attribute and item access follow jinja2's sandboxed environment: obj.attr
// tries the Python attribute (a method) first and then the item, obj[key]
// the other way round; whatever is missing is undefined, and methods that
// would modify a list or dict are refused as ImmutableSandboxedEnvironment
// refuses them.

var strMethods = []string{"strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "replace",
	"lower", "upper", "title", "capitalize", "swapcase", "find", "rfind", "index", "rindex", "count", "join", "isdigit", "isalpha",
	"isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "istitle", "removeprefix", "removesuffix", "center", "ljust", "rjust",
	"zfill", "partition", "rpartition", "format", "encode", "casefold", "expandtabs", "isidentifier", "isprintable", "isascii", "translate", "maketrans", "format_map"}
var dictMethods = []string{"items", "keys", "values", "get", "copy"}
var listMethods = []string{"index", "count", "copy"}
var unsafeList = []string{"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"}
var unsafeDict = []string{"clear", "pop", "popitem", "setdefault", "update"}

func unsafeAttr(obj any, attr string) undefined {
	return undefined{hint: fmt.Sprintf("access to attribute '%s' of '%s' object is unsafe.", attr, typeName(obj)), kind: "SecurityError"}
}

func getattr(obj any, attr string) (any, error) {
	if u, ok := obj.(undefined); ok {
		return nil, u.err()
	}
	if strings.HasPrefix(attr, "_") {
		return unsafeAttr(obj, attr), nil
	}
	switch x := obj.(type) {
	case string, markup:
		if slices.Contains(strMethods, attr) {
			return &boundMethod{recv: obj, name: attr}, nil
		}
	case *dict:
		if slices.Contains(dictMethods, attr) {
			return &boundMethod{recv: obj, name: attr}, nil
		}
		if slices.Contains(unsafeDict, attr) {
			return unsafeAttr(obj, attr), nil
		}
		if v, ok := x.get(attr); ok {
			return v, nil
		}
	case *list:
		if slices.Contains(listMethods, attr) {
			return &boundMethod{recv: obj, name: attr}, nil
		}
		if !x.tuple && slices.Contains(unsafeList, attr) {
			return unsafeAttr(obj, attr), nil
		}
	case *namespace:
		if v, ok := x.d.get(attr); ok {
			return v, nil
		}
	case *loopState:
		return x.attr(attr)
	case bool, int64, float64:
		switch attr {
		case "real":
			if _, ok := x.(float64); ok {
				return x, nil
			}
			n, _ := asInt(x)
			return n, nil
		case "imag":
			if _, ok := x.(float64); ok {
				return 0.0, nil
			}
			return int64(0), nil
		}
	case *macro:
		switch attr {
		case "name":
			return x.def.name, nil
		}
	}
	return undefAttr(obj, attr), nil
}

func getitem(obj any, key any) (any, error) {
	if u, ok := obj.(undefined); ok {
		return nil, u.err()
	}
	switch x := obj.(type) {
	case *dict:
		if v, ok := x.get(key); ok {
			return v, nil
		}
	case *list:
		if i, ok := asInt(key); ok && x.view == "" {
			if i < 0 {
				i += int64(len(x.items))
			}
			if i >= 0 && i < int64(len(x.items)) {
				return x.items[i], nil
			}
			return undefAttr(obj, key), nil
		}
	case string, markup:
		if i, ok := asInt(key); ok {
			r := []rune(str(x))
			if i < 0 {
				i += int64(len(r))
			}
			if i >= 0 && i < int64(len(r)) {
				if _, m := x.(markup); m {
					return markup(string(r[i])), nil
				}
				return string(r[i]), nil
			}
			return undefAttr(obj, key), nil
		}
	case *namespace:
		return undefAttr(obj, key), nil
	}
	if s, ok := key.(string); ok {
		return getattr(obj, s)
	}
	return undefAttr(obj, key), nil
}

func (l *loopState) attr(name string) (any, error) {
	n := len(l.items)
	switch name {
	case "index0":
		return int64(l.index0), nil
	case "index":
		return int64(l.index0 + 1), nil
	case "revindex":
		return int64(n - l.index0), nil
	case "revindex0":
		return int64(n - l.index0 - 1), nil
	case "first":
		return l.index0 == 0, nil
	case "last":
		return l.index0 == n-1, nil
	case "length":
		return int64(n), nil
	case "depth":
		return int64(1), nil
	case "depth0":
		return int64(0), nil
	case "previtem":
		if l.index0 == 0 {
			return undefined{hint: "there is no previous item"}, nil
		}
		return l.items[l.index0-1], nil
	case "nextitem":
		if l.index0 == n-1 {
			return undefined{hint: "there is no next item"}, nil
		}
		return l.items[l.index0+1], nil
	case "cycle":
		return &builtin{name: "loop.cycle", fn: func(ev *evaluator, a *args) (any, error) {
			if len(a.pos) == 0 {
				return nil, typeErr("no items for cycling given")
			}
			return a.pos[l.index0%len(a.pos)], nil
		}}, nil
	case "changed":
		return nil, &Error{Kind: "TemplateRuntimeError", Msg: "loop.changed is not supported by this renderer"}
	}
	return undefAttr(l, name), nil
}

// ---- globals ----

func global(name string) any {
	switch name {
	case "range":
		return &builtin{name: "range", fn: fnRange}
	case "namespace":
		return &builtin{name: "namespace", fn: func(ev *evaluator, a *args) (any, error) {
			d := newDict()
			for _, p := range a.pos {
				src, ok := p.(*dict)
				if !ok {
					return nil, typeErr("namespace() argument must be a mapping")
				}
				for _, k := range src.keys {
					_ = d.set(k, src.value(k))
				}
			}
			for i, k := range a.kwNames {
				_ = d.set(k, a.kwVals[i])
			}
			return &namespace{d: d}, nil
		}}
	case "dict":
		return &builtin{name: "dict", fn: func(ev *evaluator, a *args) (any, error) {
			d := newDict()
			for _, p := range a.pos {
				if src, ok := p.(*dict); ok {
					for _, k := range src.keys {
						_ = d.set(k, src.value(k))
					}
				}
			}
			for i, k := range a.kwNames {
				_ = d.set(k, a.kwVals[i])
			}
			return d, nil
		}}
	case "raise_exception":
		return &builtin{name: "raise_exception", fn: func(ev *evaluator, a *args) (any, error) {
			msg, _ := a.get(0, "message")
			return nil, &Error{Kind: "TemplateError", Msg: str(msg), Raised: true}
		}}
	case "strftime_now":
		return &builtin{name: "strftime_now", fn: func(ev *evaluator, a *args) (any, error) {
			f, ok := a.get(0, "format")
			if !ok || !isStr(f) {
				return nil, typeErr("strftime_now() argument must be a format string")
			}
			return strftime(ev.now, str(f))
		}}
	case "lipsum", "cycler", "joiner":
		return &builtin{name: name, fn: func(ev *evaluator, a *args) (any, error) {
			return nil, &Error{Kind: "TemplateRuntimeError", Msg: name + "() is not supported by this renderer"}
		}}
	}
	return nil
}

// maxRange is jinja2's sandbox limit on range().
const maxRange = 100000

func fnRange(ev *evaluator, a *args) (any, error) {
	var ns []int64
	for _, p := range a.pos {
		n, ok := asInt(p)
		if !ok {
			return nil, typeErr("'%s' object cannot be interpreted as an integer", typeName(p))
		}
		ns = append(ns, n)
	}
	start, stop, step := int64(0), int64(0), int64(1)
	switch len(ns) {
	case 1:
		stop = ns[0]
	case 2:
		start, stop = ns[0], ns[1]
	case 3:
		start, stop, step = ns[0], ns[1], ns[2]
	default:
		return nil, typeErr("range expected at most 3 arguments, got %d", len(ns))
	}
	if step == 0 {
		return nil, &Error{Kind: "ValueError", Msg: "range() arg 3 must not be zero"}
	}
	var count int64
	if step > 0 && stop > start {
		count = (stop - start + step - 1) / step
	} else if step < 0 && stop < start {
		count = (start - stop - step - 1) / -step
	}
	if count > maxRange {
		return nil, &Error{Kind: "OverflowError", Msg: fmt.Sprintf("Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", maxRange)}
	}
	l := &list{}
	for i := int64(0); i < count; i++ {
		l.items = append(l.items, start+i*step)
	}
	return l, nil
}

// ---- tests ----

func runTest(ev *evaluator, name string, v any, a *args) (bool, error) {
	arg := func() (any, error) {
		x, ok := a.get(0, "value")
		if !ok {
			return nil, typeErr("test '%s' needs an argument", name)
		}
		return x, nil
	}
	switch name {
	case "defined":
		_, u := v.(undefined)
		return !u, nil
	case "undefined":
		_, u := v.(undefined)
		return u, nil
	case "none":
		return v == nil, nil
	case "string":
		return isStr(v), nil
	case "mapping":
		_, ok := v.(*dict)
		return ok, nil
	case "iterable":
		switch v.(type) {
		case string, markup, *list, *dict, undefined, *generator:
			return true, nil
		}
		return false, nil
	case "sequence":
		switch v.(type) {
		case string, markup, *list, *dict, undefined:
			return true, nil
		}
		return false, nil
	case "number":
		_, ok := number(v)
		return ok, nil
	case "integer":
		_, ok := v.(int64)
		return ok, nil
	case "float":
		_, ok := v.(float64)
		return ok, nil
	case "boolean":
		_, ok := v.(bool)
		return ok, nil
	case "true":
		b, ok := v.(bool)
		return ok && b, nil
	case "false":
		b, ok := v.(bool)
		return ok && !b, nil
	case "callable":
		switch v.(type) {
		case *macro, *builtin, *boundMethod:
			return true, nil
		}
		return false, nil
	case "odd", "even":
		if isStr(v) { // value % 2 formats the string: never equal to 0 or 1
			_, err := percentFormat(str(v), int64(2))
			return false, err
		}
		r, err := binop("%", v, int64(2), math.MaxInt32)
		if err != nil {
			return false, err
		}
		if name == "odd" {
			return equal(r, int64(1)), nil
		}
		return equal(r, int64(0)), nil
	case "divisibleby":
		x, err := arg()
		if err != nil {
			return false, err
		}
		r, err := binop("%", v, x, math.MaxInt32)
		if err != nil {
			return false, err
		}
		return equal(r, int64(0)), nil
	case "lower", "upper": // jinja2: str(value).islower()
		r, err := strMethod(str(v), "is"+name, &args{}, false)
		return r == true, err
	case "equalto", "eq", "==", "sameas":
		x, err := arg()
		if err != nil {
			return false, err
		}
		if name == "sameas" {
			return sameAs(v, x), nil
		}
		return equal(v, x), nil
	case "ne", "!=":
		x, err := arg()
		if err != nil {
			return false, err
		}
		return !equal(v, x), nil
	case "lt", "<", "le", "<=", "gt", ">", "ge", ">=", "lessthan", "greaterthan":
		x, err := arg()
		if err != nil {
			return false, err
		}
		op := map[string]string{"lt": "<", "lessthan": "<", "le": "<=", "gt": ">", "greaterthan": ">", "ge": ">="}[name]
		if op == "" {
			op = name
		}
		return compareOp(op, v, x)
	case "in":
		x, err := arg()
		if err != nil {
			return false, err
		}
		return contains(x, v)
	case "filter":
		_, ok := lookupFilter(str(v))
		return ok, nil
	case "test":
		switch str(v) {
		case "defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number", "integer", "float", "boolean",
			"true", "false", "callable", "odd", "even", "divisibleby", "lower", "upper", "equalto", "eq", "sameas", "ne", "lt", "le",
			"gt", "ge", "in", "filter", "test", "escaped":
			return true, nil
		}
		return false, nil
	case "escaped":
		_, ok := v.(markup)
		return ok, nil
	}
	return false, &Error{Kind: "TemplateAssertionError", Msg: fmt.Sprintf("No test named '%s'.", name)}
}

func sameAs(a, b any) bool {
	switch x := a.(type) {
	case nil, bool:
		return a == b
	case *list, *dict:
		return a == b
	case int64:
		y, ok := b.(int64)
		return ok && x == y && x >= -5 && x <= 256 // CPython's small-int cache
	}
	return false
}

// ---- filters ----

type filterFunc func(ev *evaluator, a *args) (any, error)

// lookupFilter is the filter table (a switch rather than a package map:
// fMap and friends look filters up themselves).
func lookupFilter(name string) (filterFunc, bool) {
	switch name {
	case "tojson":
		return fTojson, true
	case "trim":
		return fTrim, true
	case "length":
		return fLength, true
	case "count":
		return fLength, true
	case "lower":
		return strFilter(pyLower), true
	case "upper":
		return strFilter(pyUpper), true
	case "title":
		return strFilter(jinjaTitle), true
	case "capitalize":
		return strFilter(capitalize), true
	case "string":
		return fString, true
	case "items":
		return fItems, true
	case "selectattr":
		return fSelectAttr(true), true
	case "rejectattr":
		return fSelectAttr(false), true
	case "select":
		return fSelect(true), true
	case "reject":
		return fSelect(false), true
	case "list":
		return fList, true
	case "indent":
		return fIndent, true
	case "safe":
		return fSafe, true
	case "join":
		return fJoin, true
	case "map":
		return fMap, true
	case "default":
		return fDefault, true
	case "d":
		return fDefault, true
	case "replace":
		return fReplace, true
	case "unique":
		return fUnique, true
	case "first":
		return fFirst, true
	case "last":
		return fLast, true
	case "int":
		return fInt, true
	case "float":
		return fFloat, true
	case "abs":
		return fAbs, true
	case "round":
		return fRound, true
	case "sum":
		return fSum, true
	case "reverse":
		return fReverse, true
	case "sort":
		return fSort, true
	case "dictsort":
		return fDictsort, true
	case "max":
		return fMinMax(true), true
	case "min":
		return fMinMax(false), true
	case "batch":
		return fBatch, true
	case "wordcount":
		return fWordcount, true
	case "center":
		return fCenter, true
	case "escape":
		return fEscape, true
	case "e":
		return fEscape, true
	case "forceescape":
		return fEscape, true
	case "format":
		return fFormat, true
	case "truncate":
		return fUnsupported("truncate"), true
	case "urlencode":
		return fUnsupported("urlencode"), true
	case "attr":
		return fAttr, true
	case "pprint":
		return fUnsupported("pprint"), true
	case "filesizeformat":
		return fUnsupported("filesizeformat"), true
	case "striptags":
		return fUnsupported("striptags"), true
	case "wordwrap":
		return fUnsupported("wordwrap"), true
	case "xmlattr":
		return fUnsupported("xmlattr"), true
	case "urlize":
		return fUnsupported("urlize"), true
	case "slice":
		return fUnsupported("slice"), true
	case "groupby":
		return fUnsupported("groupby"), true
	case "random":
		return fUnsupported("random"), true
	}
	return nil, false
}

func fUnsupported(name string) filterFunc {
	return func(ev *evaluator, a *args) (any, error) {
		return nil, &Error{Kind: "TemplateRuntimeError", Msg: "filter '" + name + "' is not supported by this renderer"}
	}
}

func strFilter(f func(string) string) filterFunc {
	return func(ev *evaluator, a *args) (any, error) {
		v := a.pos[0]
		if err := printable(v, 0); err != nil {
			return nil, err
		}
		if m, ok := v.(markup); ok {
			return markup(f(string(m))), nil
		}
		return f(str(v)), nil
	}
}

func fString(ev *evaluator, a *args) (any, error) {
	v := a.pos[0]
	if err := printable(v, 0); err != nil {
		return nil, err
	}
	if m, ok := v.(markup); ok {
		return m, nil
	}
	return str(v), nil
}

func fSafe(ev *evaluator, a *args) (any, error) {
	if err := printable(a.pos[0], 0); err != nil {
		return nil, err
	}
	return markup(str(a.pos[0])), nil
}

func fEscape(ev *evaluator, a *args) (any, error) {
	v := a.pos[0]
	if err := printable(v, 0); err != nil {
		return nil, err
	}
	if m, ok := v.(markup); ok {
		return m, nil
	}
	return markup(escapeHTML(str(v))), nil
}

func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;", "\"", "&#34;").Replace(s)
}

func fTrim(ev *evaluator, a *args) (any, error) {
	v := a.pos[0]
	if err := printable(v, 0); err != nil {
		return nil, err
	}
	chars, _ := a.get(1, "chars")
	s := pyStrip(str(v), chars, true, true)
	if _, ok := v.(markup); ok {
		return markup(s), nil
	}
	return s, nil
}

func pyStrip(s string, chars any, left, right bool) string {
	f := pySpace
	if chars != nil {
		cs := str(chars)
		f = func(r rune) bool { return strings.ContainsRune(cs, r) }
	}
	if left {
		s = strings.TrimLeftFunc(s, f)
	}
	if right {
		s = strings.TrimRightFunc(s, f)
	}
	return s
}

func fLength(ev *evaluator, a *args) (any, error) {
	n, err := length(a.pos[0])
	return int64(n), err
}

// fItems is jinja2's items filter, a generator: a non-mapping fails only
// when it is iterated.
func fItems(ev *evaluator, a *args) (any, error) {
	switch d := a.pos[0].(type) {
	case undefined:
		return &generator{}, nil
	case *dict:
		return &generator{items: dictItems(d).items}, nil
	}
	return &generator{err: typeErr("Can only get item pairs from a mapping.")}, nil
}

func dictItems(d *dict) *list {
	l := &list{}
	for _, k := range d.keys {
		l.items = append(l.items, &list{items: []any{k, d.value(k)}, tuple: true})
	}
	return l
}

func fList(ev *evaluator, a *args) (any, error) {
	items, err := iterate(a.pos[0])
	if err != nil {
		return nil, err
	}
	return &list{items: append([]any(nil), items...)}, nil
}

// attrGetter is jinja2's make_attrgetter: dotted paths, integer parts as indices.
func attrGetter(path any) func(v any) (any, error) {
	s, ok := path.(string)
	if !ok {
		return func(v any) (any, error) { return getitem(v, path) }
	}
	parts := strings.Split(s, ".")
	return func(v any) (any, error) {
		for _, p := range parts {
			var key any = p
			if n, err := strconv.ParseInt(p, 10, 64); err == nil {
				key = n
			}
			var err error
			if v, err = getitem(v, key); err != nil {
				return nil, err
			}
		}
		return v, nil
	}
}

func fSelectAttr(keep bool) filterFunc {
	return func(ev *evaluator, a *args) (any, error) {
		if !truthy(a.pos[0]) { // jinja2: "if value:"
			return &generator{}, nil
		}
		items, err := iterate(a.pos[0])
		if err != nil {
			return &generator{err: err}, nil // raised when iterated, as a generator does
		}
		if len(a.pos) < 2 {
			return nil, typeErr("selectattr/rejectattr need an attribute")
		}
		get := attrGetter(a.pos[1])
		out := &generator{}
		for _, it := range items {
			v, err := get(it)
			if err != nil {
				return nil, err
			}
			ok := truthy(v)
			if len(a.pos) > 2 {
				ta := &args{pos: a.pos[3:]}
				if ok, err = runTest(ev, str(a.pos[2]), v, ta); err != nil {
					return nil, err
				}
			}
			if ok == keep {
				out.items = append(out.items, it)
			}
		}
		return out, nil
	}
}

func fSelect(keep bool) filterFunc {
	return func(ev *evaluator, a *args) (any, error) {
		if !truthy(a.pos[0]) {
			return &generator{}, nil
		}
		items, err := iterate(a.pos[0])
		if err != nil {
			return &generator{err: err}, nil
		}
		out := &generator{}
		for _, it := range items {
			ok := truthy(it)
			if len(a.pos) > 1 {
				if ok, err = runTest(ev, str(a.pos[1]), it, &args{pos: a.pos[2:]}); err != nil {
					return nil, err
				}
			}
			if ok == keep {
				out.items = append(out.items, it)
			}
		}
		return out, nil
	}
}

// pySplitlines is Python's str.splitlines().
func pySplitlines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			out = append(out, s[start:i])
			i += sz
			if r == '\r' && i < len(s) && s[i] == '\n' {
				i++
			}
			start = i
			continue
		}
		i += sz
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func fIndent(ev *evaluator, a *args) (any, error) {
	switch v := a.pos[0].(type) {
	case string, markup:
	case undefined:
		return nil, v.err()
	case *list:
		if !v.tuple {
			return nil, &Error{Kind: "AttributeError", Msg: "'list' object has no attribute 'splitlines'"}
		}
		return nil, typeErr("can only concatenate tuple (not \"str\") to tuple")
	default:
		return nil, typeErr("unsupported operand type(s) for +=: '%s' and 'str'", typeName(v))
	}
	s := str(a.pos[0])
	width := a.or(1, "width", int64(4))
	first := truthy(a.or(2, "first", false))
	blank := truthy(a.or(3, "blank", false))
	var ind string
	if isStr(width) {
		ind = str(width)
	} else if n, ok := asInt(width); ok {
		ind = strings.Repeat(" ", int(max(0, min(n, 1<<16))))
	} else {
		return nil, typeErr("can't multiply sequence by non-int of type '%s'", typeName(width))
	}
	s += "\n"
	lines := pySplitlines(s)
	var rv string
	if blank {
		rv = strings.Join(lines, "\n"+ind)
	} else if len(lines) > 0 {
		rv = lines[0]
		if len(lines) > 1 {
			rest := make([]string, len(lines)-1)
			for i, l := range lines[1:] {
				if l != "" {
					l = ind + l
				}
				rest[i] = l
			}
			rv += "\n" + strings.Join(rest, "\n")
		}
	}
	if first {
		rv = ind + rv
	}
	if _, ok := a.pos[0].(markup); ok {
		return markup(rv), nil
	}
	return rv, nil
}

func fJoin(ev *evaluator, a *args) (any, error) {
	items, err := iterate(a.pos[0])
	if err != nil {
		return nil, err
	}
	sep := str(a.or(1, "d", ""))
	if attr, ok := a.get(2, "attribute"); ok {
		get := attrGetter(attr)
		for i, it := range items {
			if items[i], err = get(it); err != nil {
				return nil, err
			}
		}
	}
	parts := make([]string, len(items))
	for i, it := range items {
		if err := printable(it, 0); err != nil {
			return nil, err
		}
		parts[i] = str(it)
	}
	return strings.Join(parts, sep), nil
}

func fMap(ev *evaluator, a *args) (any, error) {
	out := &generator{}
	if !truthy(a.pos[0]) {
		return out, nil
	}
	items, err := iterate(a.pos[0])
	if err != nil {
		return &generator{err: err}, nil
	}
	if attr, ok := a.get(-1, "attribute"); ok {
		get := attrGetter(attr)
		def, hasDef := a.get(-1, "default")
		for _, it := range items {
			v, err := get(it)
			if err != nil {
				return nil, err
			}
			if _, u := v.(undefined); u && hasDef {
				v = def
			}
			out.items = append(out.items, v)
		}
		return out, nil
	}
	if len(a.pos) < 2 {
		return out, nil
	}
	name := str(a.pos[1])
	fn, ok := lookupFilter(name)
	if !ok {
		return nil, &Error{Kind: "TemplateRuntimeError", Msg: fmt.Sprintf("No filter named '%s'.", name)}
	}
	for _, it := range items {
		v, err := fn(ev, &args{pos: append([]any{it}, a.pos[2:]...), kwNames: a.kwNames, kwVals: a.kwVals})
		if err != nil {
			return nil, err
		}
		out.items = append(out.items, v)
	}
	return out, nil
}

func fDefault(ev *evaluator, a *args) (any, error) {
	v := a.pos[0]
	def := a.or(1, "default_value", "")
	boolean := truthy(a.or(2, "boolean", false))
	if _, u := v.(undefined); u || (boolean && !truthy(v)) {
		return def, nil
	}
	return v, nil
}

func fReplace(ev *evaluator, a *args) (any, error) {
	if len(a.pos) < 3 {
		return nil, typeErr("replace() needs old and new")
	}
	if err := printable(a.pos[0], 0); err != nil {
		return nil, err
	}
	n := int64(-1)
	if c, ok := a.get(3, "count"); ok && c != nil {
		n, _ = asInt(c)
	}
	s := strings.Replace(str(a.pos[0]), str(a.pos[1]), str(a.pos[2]), int(n))
	if _, ok := a.pos[0].(markup); ok {
		return markup(s), nil
	}
	return s, nil
}

func fUnique(ev *evaluator, a *args) (any, error) {
	items, err := iterate(a.pos[0])
	if err != nil {
		return &generator{err: err}, nil
	}
	cs := truthy(a.or(1, "case_sensitive", false))
	var get func(any) (any, error)
	if attr, ok := a.get(2, "attribute"); ok {
		get = attrGetter(attr)
	}
	out := &generator{}
	var seen []any
	for _, it := range items {
		k := it
		if get != nil {
			if k, err = get(it); err != nil {
				return nil, err
			}
		}
		if !cs && isStr(k) {
			k = strings.ToLower(str(k))
		}
		if _, err := hashKey(k); err != nil { // Python keeps a set of what it has seen
			return &generator{err: typeErr("%s", err.Error())}, nil
		}
		dup := false
		for _, s := range seen {
			if equal(s, k) {
				dup = true
				break
			}
		}
		if !dup {
			seen = append(seen, k)
			out.items = append(out.items, it)
		}
	}
	return out, nil
}

func fFirst(ev *evaluator, a *args) (any, error) {
	if g, ok := a.pos[0].(*generator); ok {
		if g.err != nil {
			return nil, g.err
		}
		if g.pos >= len(g.items) {
			return undefined{hint: "No first item, sequence was empty."}, nil
		}
		g.pos++
		return g.items[g.pos-1], nil
	}
	items, err := iterate(a.pos[0])
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return undefined{hint: "No first item, sequence was empty."}, nil
	}
	return items[0], nil
}

func fLast(ev *evaluator, a *args) (any, error) {
	if _, ok := a.pos[0].(*generator); ok {
		return nil, typeErr("'generator' object is not reversible")
	}
	items, err := iterate(a.pos[0])
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return undefined{hint: "No last item, sequence was empty."}, nil
	}
	return items[len(items)-1], nil
}

func fInt(ev *evaluator, a *args) (any, error) {
	def := a.or(1, "default", int64(0))
	base, _ := asInt(a.or(2, "base", int64(10)))
	switch v := a.pos[0].(type) {
	case undefined:
		return nil, v.err()
	case bool, int64:
		n, _ := asInt(v)
		return n, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return def, nil
		}
		return int64(v), nil
	case string, markup:
		s := strings.ReplaceAll(pyStrip(str(v), nil, true, true), "_", "")
		digits, neg := s, false
		if strings.HasPrefix(digits, "-") || strings.HasPrefix(digits, "+") {
			neg, digits = digits[0] == '-', digits[1:]
		}
		lower := strings.ToLower(digits)
		for _, p := range []struct {
			prefix string
			base   int64
		}{{"0x", 16}, {"0o", 8}, {"0b", 2}} {
			if strings.HasPrefix(lower, p.prefix) && (base == p.base || base == 0) {
				digits, base = digits[2:], p.base
			}
		}
		if base == 0 {
			base = 10
		}
		if n, err := strconv.ParseInt(digits, int(base), 64); err == nil && !strings.HasPrefix(digits, "-") && !strings.HasPrefix(digits, "+") {
			if neg {
				n = -n
			}
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return int64(f), nil
		}
	}
	return def, nil
}

func fFloat(ev *evaluator, a *args) (any, error) {
	def := a.or(1, "default", 0.0)
	switch v := a.pos[0].(type) {
	case undefined:
		return nil, v.err()
	case bool, int64, float64:
		f, _ := number(v)
		return f, nil
	case string, markup:
		if f, err := strconv.ParseFloat(pyStrip(str(v), nil, true, true), 64); err == nil {
			return f, nil
		}
	}
	return def, nil
}

func fAbs(ev *evaluator, a *args) (any, error) {
	switch v := a.pos[0].(type) {
	case int64:
		if v < 0 {
			return -v, nil
		}
		return v, nil
	case bool:
		n, _ := asInt(v)
		return n, nil
	case float64:
		return math.Abs(v), nil
	}
	return nil, typeErr("bad operand type for abs(): '%s'", typeName(a.pos[0]))
}

func fRound(ev *evaluator, a *args) (any, error) {
	f, ok := number(a.pos[0])
	if !ok {
		return nil, typeErr("type %s doesn't define __round__ method", typeName(a.pos[0]))
	}
	prec, _ := asInt(a.or(1, "precision", int64(0)))
	method := str(a.or(2, "method", "common"))
	p := math.Pow(10, float64(prec))
	switch method {
	case "ceil":
		return math.Ceil(f*p) / p, nil
	case "floor":
		return math.Floor(f*p) / p, nil
	case "common":
	default:
		return nil, &Error{Kind: "FilterArgumentError", Msg: "method must be common, ceil or floor"}
	}
	if n, ok := asInt(a.pos[0]); ok && prec >= 0 {
		return n, nil // Python's round(int, n) is the int (bool included)
	}
	if prec < 0 || prec > 300 || math.IsInf(f, 0) || math.IsNaN(f) {
		return math.Round(f*p) / p, nil
	}
	// Python rounds the exact binary value, ties to even, as FormatFloat does.
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', int(prec), 64), 64)
	return r, nil
}

func fSum(ev *evaluator, a *args) (any, error) {
	items, err := iterate(a.pos[0])
	if err != nil {
		return nil, err
	}
	var get func(any) (any, error)
	if attr, ok := a.get(-1, "attribute"); ok {
		get = attrGetter(attr)
	}
	var total any = a.or(2, "start", int64(0))
	for _, it := range items {
		if get != nil {
			if it, err = get(it); err != nil {
				return nil, err
			}
		}
		if total, err = binop("+", total, it, ev.lim.MaxOutput); err != nil {
			return nil, err
		}
	}
	return total, nil
}

// fReverse is jinja2's reverse filter: a string reversed, a sequence's
// reversed() iterator, or (for an iterator) a reversed list.
func fReverse(ev *evaluator, a *args) (any, error) {
	if isStr(a.pos[0]) {
		r := []rune(str(a.pos[0]))
		slices.Reverse(r)
		return string(r), nil
	}
	if u, ok := a.pos[0].(undefined); ok {
		return nil, u.err()
	}
	items, err := iterate(a.pos[0])
	if err != nil {
		return nil, &Error{Kind: "FilterArgumentError", Msg: "argument must be iterable"}
	}
	out := append([]any(nil), items...)
	slices.Reverse(out)
	if _, ok := a.pos[0].(*generator); ok {
		return &list{items: out}, nil
	}
	return &generator{items: out}, nil
}

func sortItems(items []any, key func(any) (any, error), reverse, cs bool) ([]any, error) {
	out := append([]any(nil), items...)
	keys := make([]any, len(out))
	for i, it := range out {
		k := it
		if key != nil {
			var err error
			if k, err = key(it); err != nil {
				return nil, err
			}
		}
		if !cs && isStr(k) {
			k = strings.ToLower(str(k))
		}
		keys[i] = k
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	var cmpErr error
	slices.SortStableFunc(idx, func(x, y int) int {
		c, err := compare(keys[x], keys[y], "<")
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		if reverse {
			return -c
		}
		return c
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	res := make([]any, len(out))
	for i, j := range idx {
		res[i] = out[j]
	}
	return res, nil
}

func fSort(ev *evaluator, a *args) (any, error) {
	items, err := iterate(a.pos[0])
	if err != nil {
		return nil, err
	}
	var key func(any) (any, error)
	if attr, ok := a.get(3, "attribute"); ok && attr != nil {
		key = attrGetter(attr)
	}
	res, err := sortItems(items, key, truthy(a.or(1, "reverse", false)), truthy(a.or(2, "case_sensitive", false)))
	if err != nil {
		return nil, err
	}
	return &list{items: res}, nil
}

func fDictsort(ev *evaluator, a *args) (any, error) {
	d, ok := a.pos[0].(*dict)
	if u, isU := a.pos[0].(undefined); isU {
		return nil, u.err()
	}
	if !ok {
		return nil, &Error{Kind: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute 'items'", typeName(a.pos[0]))}
	}
	by := str(a.or(2, "by", "key"))
	pos := int64(0)
	if by == "value" {
		pos = 1
	}
	res, err := sortItems(dictItems(d).items, func(it any) (any, error) { return it.(*list).items[pos], nil },
		truthy(a.or(3, "reverse", false)), truthy(a.or(1, "case_sensitive", false)))
	if err != nil {
		return nil, err
	}
	return &list{items: res}, nil
}

func fMinMax(isMax bool) filterFunc {
	return func(ev *evaluator, a *args) (any, error) {
		items, err := iterate(a.pos[0])
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return undefined{hint: "No aggregated item, sequence was empty."}, nil
		}
		var key func(any) (any, error)
		if attr, ok := a.get(2, "attribute"); ok && attr != nil {
			key = attrGetter(attr)
		}
		res, err := sortItems(items, key, isMax, truthy(a.or(1, "case_sensitive", false)))
		if err != nil {
			return nil, err
		}
		return res[0], nil
	}
}

func fBatch(ev *evaluator, a *args) (any, error) {
	items, err := iterate(a.pos[0])
	if err != nil {
		return &generator{err: err}, nil
	}
	n, _ := asInt(a.or(1, "linecount", int64(1)))
	if n <= 0 {
		return nil, &Error{Kind: "ValueError", Msg: "batch size must be positive"}
	}
	fill, hasFill := a.get(2, "fill_with")
	out := &generator{}
	for i := 0; i < len(items); i += int(n) {
		row := &list{items: append([]any(nil), items[i:min(len(items), i+int(n))]...)}
		for hasFill && fill != nil && len(row.items) < int(n) {
			row.items = append(row.items, fill)
		}
		out.items = append(out.items, row)
	}
	return out, nil
}

func fWordcount(ev *evaluator, a *args) (any, error) {
	if err := printable(a.pos[0], 0); err != nil {
		return nil, err
	}
	return int64(len(strings.FieldsFunc(str(a.pos[0]), func(r rune) bool { return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') }))), nil
}

func fCenter(ev *evaluator, a *args) (any, error) {
	return callMethod(ev, &boundMethod{recv: str(a.pos[0]), name: "center"}, &args{pos: a.pos[1:]})
}

// fFormat is jinja2's format filter: value % (kwargs or args).
func fFormat(ev *evaluator, a *args) (any, error) {
	if len(a.kwNames) > 0 {
		if len(a.pos) > 1 {
			return nil, &Error{Kind: "FilterArgumentError", Msg: "can't handle positional and keyword arguments at the same time"}
		}
		d := newDict()
		for i, k := range a.kwNames {
			_ = d.set(k, a.kwVals[i])
		}
		return percentFormat(str(a.pos[0]), d)
	}
	return percentFormat(str(a.pos[0]), &list{items: a.pos[1:], tuple: true})
}

func fAttr(ev *evaluator, a *args) (any, error) {
	if len(a.pos) < 2 {
		return nil, typeErr("attr() needs a name")
	}
	return getattr(a.pos[0], str(a.pos[1]))
}

// pyUpper and pyLower are Python's str.upper and str.lower, with the
// full case mappings that change a string's length (ß → SS).
func pyUpper(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r == 'ß' || (r >= 0xFB00 && r <= 0xFB06) }) < 0 {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 'ß':
			b.WriteString("SS")
		case 0xFB00:
			b.WriteString("FF")
		case 0xFB01:
			b.WriteString("FI")
		case 0xFB02:
			b.WriteString("FL")
		case 0xFB03:
			b.WriteString("FFI")
		case 0xFB04:
			b.WriteString("FFL")
		case 0xFB05, 0xFB06:
			b.WriteString("ST")
		default:
			b.WriteString(strings.ToUpper(string(r)))
		}
	}
	return b.String()
}

func pyLower(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "İ", "i\u0307"))
}

// jinjaTitle is jinja2's title filter: words start after "-", whitespace or
// an opening bracket.
func jinjaTitle(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		if r == '-' || pySpace(r) || r == '(' || r == '{' || r == '[' || r == '<' {
			b.WriteRune(r)
			start = true
			continue
		}
		if start {
			b.WriteString(strings.ToUpper(string(r)))
		} else {
			b.WriteString(strings.ToLower(string(r)))
		}
		start = false
	}
	return b.String()
}

// pyTitle is Python's str.title.
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		cased := unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
		switch {
		case cased && prevCased:
			b.WriteRune(unicode.ToLower(r))
		case cased:
			b.WriteRune(unicode.ToTitle(r))
		default:
			b.WriteRune(r)
		}
		prevCased = cased
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, sz := utf8.DecodeRuneInString(s)
	return string(unicode.ToTitle(r)) + strings.ToLower(s[sz:])
}

// ---- methods ----

func callMethod(ev *evaluator, m *boundMethod, a *args) (any, error) {
	switch recv := m.recv.(type) {
	case string:
		return strMethod(recv, m.name, a, false)
	case markup:
		return strMethod(string(recv), m.name, a, true)
	case *dict:
		switch m.name {
		case "items":
			l := dictItems(recv)
			l.view = "dict_items"
			return l, nil
		case "keys":
			return &list{items: append([]any(nil), recv.keys...), view: "dict_keys"}, nil
		case "values":
			l := &list{view: "dict_values"}
			for _, k := range recv.keys {
				l.items = append(l.items, recv.value(k))
			}
			return l, nil
		case "get":
			if len(a.pos) == 0 {
				return nil, typeErr("get expected at least 1 argument, got 0")
			}
			if v, ok := recv.get(a.pos[0]); ok {
				return v, nil
			}
			if _, err := hashKey(a.pos[0]); err != nil {
				return nil, typeErr("%s", err.Error())
			}
			if len(a.pos) > 1 {
				return a.pos[1], nil
			}
			return nil, nil
		case "copy":
			d := newDict()
			for _, k := range recv.keys {
				_ = d.set(k, recv.value(k))
			}
			return d, nil
		}
	case *list:
		switch m.name {
		case "index":
			for i, it := range recv.items {
				if len(a.pos) > 0 && equal(it, a.pos[0]) {
					return int64(i), nil
				}
			}
			return nil, &Error{Kind: "ValueError", Msg: "value is not in list"}
		case "count":
			n := int64(0)
			for _, it := range recv.items {
				if len(a.pos) > 0 && equal(it, a.pos[0]) {
					n++
				}
			}
			return n, nil
		case "copy":
			return &list{items: append([]any(nil), recv.items...)}, nil
		}
	}
	return nil, &Error{Kind: "TemplateRuntimeError", Msg: fmt.Sprintf("method '%s' of '%s' is not supported by this renderer", m.name, typeName(m.recv))}
}

func strArg(a *args, i int, name, method string) (string, bool, error) {
	v, ok := a.get(i, name)
	if !ok || v == nil {
		return "", false, nil
	}
	if !isStr(v) {
		return "", false, typeErr("%s arg must be None or str", method)
	}
	return str(v), true, nil
}

func strMethod(s, name string, a *args, isMarkup bool) (any, error) {
	wrap := func(r string) any {
		if isMarkup {
			return markup(r)
		}
		return r
	}
	switch name {
	case "strip", "lstrip", "rstrip":
		chars, ok, err := strArg(a, 0, "chars", name)
		if err != nil {
			return nil, err
		}
		var c any
		if ok {
			c = chars
		}
		return wrap(pyStrip(s, c, name != "rstrip", name != "lstrip")), nil
	case "split", "rsplit":
		sep, hasSep, err := strArg(a, 0, "sep", name)
		if err != nil {
			return nil, err
		}
		maxsplit := int64(-1)
		if v, ok := a.get(1, "maxsplit"); ok {
			maxsplit, _ = asInt(v)
		}
		var parts []string
		if hasSep {
			if sep == "" {
				return nil, &Error{Kind: "ValueError", Msg: "empty separator"}
			}
			if name == "split" || maxsplit < 0 {
				parts = strings.SplitN(s, sep, int(maxsplitN(maxsplit)))
			} else {
				parts = rsplitN(s, sep, int(maxsplit))
			}
		} else {
			parts = splitWhitespace(s, maxsplit, name == "rsplit")
		}
		l := &list{}
		for _, p := range parts {
			l.items = append(l.items, wrap(p))
		}
		return l, nil
	case "splitlines":
		l := &list{}
		for _, p := range pySplitlines(s) {
			l.items = append(l.items, wrap(p))
		}
		return l, nil
	case "startswith", "endswith":
		v, ok := a.get(0, "prefix")
		if !ok {
			return nil, typeErr("%s() takes at least 1 argument (0 given)", name)
		}
		if len(a.pos) > 1 {
			r := []rune(s)
			bounds := [3]any{nil, nil, nil}
			bounds[0] = a.pos[1]
			if len(a.pos) > 2 {
				bounds[1] = a.pos[2]
			}
			idx, err := sliceIndices(bounds, len(r))
			if err != nil {
				return nil, err
			}
			var sb strings.Builder
			for _, i := range idx {
				sb.WriteRune(r[i])
			}
			s = sb.String()
		}
		var cands []string
		switch x := v.(type) {
		case string, markup:
			cands = []string{str(x)}
		case *list:
			if !x.tuple {
				return nil, typeErr("%s first arg must be str or a tuple of str, not list", name)
			}
			for _, it := range x.items {
				if !isStr(it) {
					return nil, typeErr("tuple for %s must only contain str, not %s", name, typeName(it))
				}
				cands = append(cands, str(it))
			}
		default:
			return nil, typeErr("%s first arg must be str or a tuple of str, not %s", name, typeName(v))
		}
		for _, c := range cands {
			if (name == "startswith" && strings.HasPrefix(s, c)) || (name == "endswith" && strings.HasSuffix(s, c)) {
				return true, nil
			}
		}
		return false, nil
	case "replace":
		if len(a.pos) < 2 || !isStr(a.pos[0]) || !isStr(a.pos[1]) {
			return nil, typeErr("replace() arguments must be str")
		}
		n := int64(-1)
		if len(a.pos) > 2 {
			n, _ = asInt(a.pos[2])
		}
		old, nw := str(a.pos[0]), str(a.pos[1])
		if isMarkup {
			if _, ok := a.pos[1].(string); ok {
				nw = escapeHTML(nw)
			}
		}
		return wrap(strings.Replace(s, old, nw, int(n))), nil
	case "lower":
		return wrap(pyLower(s)), nil
	case "upper":
		return wrap(pyUpper(s)), nil
	case "format":
		r, err := braceFormat(s, a)
		if err != nil {
			return nil, err
		}
		return wrap(r), nil
	case "title":
		return wrap(pyTitle(s)), nil
	case "capitalize":
		return wrap(capitalize(s)), nil
	case "casefold":
		return wrap(strings.ToLower(s)), nil
	case "swapcase":
		return wrap(strings.Map(func(r rune) rune {
			if unicode.IsUpper(r) {
				return unicode.ToLower(r)
			}
			return unicode.ToUpper(r)
		}, s)), nil
	case "find", "rfind", "index", "rindex", "count":
		sub, ok, err := strArg(a, 0, "sub", name)
		if err != nil || !ok {
			return nil, typeErr("%s() must have a str argument", name)
		}
		if name == "count" {
			if sub == "" {
				return int64(utf8.RuneCountInString(s) + 1), nil
			}
			return int64(strings.Count(s, sub)), nil
		}
		var i int
		if name == "find" || name == "index" {
			i = strings.Index(s, sub)
		} else {
			i = strings.LastIndex(s, sub)
		}
		if i < 0 {
			if name == "index" || name == "rindex" {
				return nil, &Error{Kind: "ValueError", Msg: "substring not found"}
			}
			return int64(-1), nil
		}
		return int64(utf8.RuneCountInString(s[:i])), nil
	case "join":
		if len(a.pos) == 0 {
			return nil, typeErr("join() takes exactly one argument (0 given)")
		}
		items, err := iterate(a.pos[0])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(items))
		for i, it := range items {
			if !isStr(it) {
				return nil, typeErr("sequence item %d: expected str instance, %s found", i, typeName(it))
			}
			parts[i] = str(it)
		}
		return wrap(strings.Join(parts, s)), nil
	case "removeprefix":
		p, _, _ := strArg(a, 0, "prefix", name)
		return wrap(strings.TrimPrefix(s, p)), nil
	case "removesuffix":
		p, _, _ := strArg(a, 0, "suffix", name)
		return wrap(strings.TrimSuffix(s, p)), nil
	case "isdigit", "isdecimal", "isnumeric":
		return s != "" && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) }) < 0, nil
	case "isalpha":
		return s != "" && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) < 0, nil
	case "isalnum":
		return s != "" && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) < 0, nil
	case "isspace":
		return s != "" && strings.IndexFunc(s, func(r rune) bool { return !pySpace(r) }) < 0, nil
	case "isupper", "islower":
		hasCased := false
		for _, r := range s {
			if unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) {
				hasCased = true
				if (name == "isupper" && unicode.IsLower(r)) || (name == "islower" && (unicode.IsUpper(r) || unicode.IsTitle(r))) {
					return false, nil
				}
			}
		}
		return hasCased, nil
	case "isascii":
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return false, nil
			}
		}
		return true, nil
	case "center", "ljust", "rjust", "zfill":
		w, _ := asInt(a.or(0, "width", int64(0)))
		fill := " "
		if f, ok, _ := strArg(a, 1, "fillchar", name); ok {
			fill = f
		}
		n := utf8.RuneCountInString(s)
		if int(w) <= n || w > 1<<20 {
			return wrap(s), nil
		}
		pad := int(w) - n
		switch name {
		case "ljust":
			return wrap(s + strings.Repeat(fill, pad)), nil
		case "rjust":
			return wrap(strings.Repeat(fill, pad) + s), nil
		case "zfill":
			return wrap(strings.Repeat("0", pad) + s), nil
		}
		left := pad / 2
		if pad%2 == 1 && n%2 == 1 {
			left++
		}
		return wrap(strings.Repeat(fill, left) + s + strings.Repeat(fill, pad-left)), nil
	case "partition", "rpartition":
		sep, ok, _ := strArg(a, 0, "sep", name)
		if !ok || sep == "" {
			return nil, &Error{Kind: "ValueError", Msg: "empty separator"}
		}
		var i int
		if name == "partition" {
			i = strings.Index(s, sep)
		} else {
			i = strings.LastIndex(s, sep)
		}
		if i < 0 {
			if name == "partition" {
				return &list{tuple: true, items: []any{wrap(s), wrap(""), wrap("")}}, nil
			}
			return &list{tuple: true, items: []any{wrap(""), wrap(""), wrap(s)}}, nil
		}
		return &list{tuple: true, items: []any{wrap(s[:i]), wrap(sep), wrap(s[i+len(sep):])}}, nil
	}
	return nil, &Error{Kind: "TemplateRuntimeError", Msg: fmt.Sprintf("str.%s() is not supported by this renderer", name)}
}

func maxsplitN(m int64) int64 {
	if m < 0 {
		return -1
	}
	return m + 1
}

func rsplitN(s, sep string, maxsplit int) []string {
	var out []string
	for maxsplit > 0 {
		i := strings.LastIndex(s, sep)
		if i < 0 {
			break
		}
		out = append(out, s[i+len(sep):])
		s = s[:i]
		maxsplit--
	}
	out = append(out, s)
	slices.Reverse(out)
	return out
}

// splitWhitespace is Python's str.split() / rsplit() without a separator.
func splitWhitespace(s string, maxsplit int64, fromRight bool) []string {
	if maxsplit < 0 {
		return strings.FieldsFunc(s, pySpace)
	}
	var out []string
	if !fromRight {
		for {
			s = strings.TrimLeftFunc(s, pySpace)
			if s == "" {
				return out
			}
			if int64(len(out)) == maxsplit {
				return append(out, s)
			}
			i := strings.IndexFunc(s, pySpace)
			if i < 0 {
				return append(out, s)
			}
			out = append(out, s[:i])
			s = s[i:]
		}
	}
	for {
		s = strings.TrimRightFunc(s, pySpace)
		if s == "" {
			break
		}
		if int64(len(out)) == maxsplit {
			out = append(out, s)
			break
		}
		i := strings.LastIndexFunc(s, pySpace)
		if i < 0 {
			out = append(out, s)
			break
		}
		_, sz := utf8.DecodeRuneInString(s[i:])
		out = append(out, s[i+sz:])
		s = s[:i]
	}
	slices.Reverse(out)
	return out
}
