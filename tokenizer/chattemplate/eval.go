package chattemplate

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

type scope struct {
	vars   map[string]any
	parent *scope
}

func newScope(parent *scope) *scope { return &scope{vars: map[string]any{}, parent: parent} }

func (s *scope) lookup(name string) (any, bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

type macro struct {
	def     *macroDef
	closure *scope
	caller  *macro // for {% call %}: the body, callable as caller()
}

type builtin struct {
	name string
	fn   func(ev *evaluator, a *args) (any, error)
}

type boundMethod struct {
	recv any
	name string
}

type loopState struct {
	index0 int
	items  []any
}

// args are the evaluated arguments of a call.
type args struct {
	pos     []any
	kwNames []string
	kwVals  []any
	what    string // for errors: "filter 'indent'"
}

func (a *args) get(i int, name string) (any, bool) {
	for j, n := range a.kwNames {
		if n == name {
			return a.kwVals[j], true
		}
	}
	if i >= 0 && i < len(a.pos) {
		return a.pos[i], true
	}
	return nil, false
}

func (a *args) or(i int, name string, def any) any {
	if v, ok := a.get(i, name); ok {
		return v
	}
	return def
}

var (
	errBreak    = errors.New("break")
	errContinue = errors.New("continue")
)

type evaluator struct {
	out     *strings.Builder
	written int
	steps   int
	depth   int
	lim     Limits
	now     time.Time
	line    int
}

func (ev *evaluator) write(s string) error {
	ev.written += len(s)
	if ev.written > ev.lim.MaxOutput {
		return &Error{Kind: "LimitError", Line: ev.line, Msg: fmt.Sprintf("output larger than %d bytes", ev.lim.MaxOutput)}
	}
	ev.out.WriteString(s)
	return nil
}

func (ev *evaluator) step(line int) error {
	ev.line = line
	ev.steps++
	if ev.steps > ev.lim.MaxSteps {
		return &Error{Kind: "LimitError", Line: line, Msg: fmt.Sprintf("more than %d evaluation steps", ev.lim.MaxSteps)}
	}
	return nil
}

// capture runs fn with output redirected and returns what it wrote.
func (ev *evaluator) capture(fn func() error) (string, error) {
	saved := ev.out
	var b strings.Builder
	ev.out = &b
	err := fn()
	ev.out = saved
	return b.String(), err
}

func (ev *evaluator) exec(nodes []node, sc *scope) error {
	for _, n := range nodes {
		if err := ev.execNode(n, sc); err != nil {
			return err
		}
	}
	return nil
}

func (ev *evaluator) execNode(n node, sc *scope) error {
	switch n := n.(type) {
	case *textNode:
		return ev.write(n.s)
	case *outputNode:
		if err := ev.step(n.line); err != nil {
			return err
		}
		v, err := ev.eval(n.e, sc)
		if err != nil {
			return err
		}
		if err := printable(v, n.line); err != nil {
			return err
		}
		return ev.write(str(v))
	case *ifNode:
		for i, c := range n.conds {
			v, err := ev.eval(c, sc)
			if err != nil {
				return err
			}
			if truthy(v) {
				return ev.exec(n.bodies[i], sc)
			}
		}
		return ev.exec(n.els, sc)
	case *forNode:
		return ev.execFor(n, sc)
	case *setNode:
		v, err := ev.eval(n.value, sc)
		if err != nil {
			return err
		}
		return ev.assign(n.target, v, sc, n.line)
	case *setBlockNode:
		s, err := ev.capture(func() error { return ev.exec(n.body, sc) })
		if err != nil {
			return err
		}
		var v any = s
		for _, f := range n.filters {
			if v, err = ev.applyFilter(f, v, sc); err != nil {
				return err
			}
		}
		return ev.assign(n.target, v, sc, n.line)
	case *macroNode:
		sc.vars[n.m.name] = &macro{def: n.m, closure: sc}
		return nil
	case *callBlockNode:
		caller := &macro{def: &macroDef{name: "caller", params: n.params, body: n.body, line: n.line}, closure: sc}
		v, err := ev.evalCall(n.call, sc, caller)
		if err != nil {
			return err
		}
		return ev.write(str(v))
	case *filterBlockNode:
		s, err := ev.capture(func() error { return ev.exec(n.body, sc) })
		if err != nil {
			return err
		}
		var v any = s
		for _, f := range n.filters {
			if v, err = ev.applyFilter(f, v, sc); err != nil {
				return err
			}
		}
		return ev.write(str(v))
	case *withNode:
		inner := newScope(sc)
		for i, t := range n.targets {
			v, err := ev.eval(n.values[i], sc)
			if err != nil {
				return err
			}
			if err := ev.assign(t, v, inner, 0); err != nil {
				return err
			}
		}
		return ev.exec(n.body, inner)
	case *breakNode:
		return errBreak
	case *continueNode:
		return errContinue
	}
	return fmt.Errorf("chattemplate: internal error: node %T", n)
}

func (ev *evaluator) assign(target expr, v any, sc *scope, line int) error {
	switch t := target.(type) {
	case *nameE:
		sc.vars[t.name] = v
		return nil
	case *getattrE:
		name := t.obj.(*nameE).name
		obj, _ := sc.lookup(name)
		ns, ok := obj.(*namespace)
		if !ok {
			return &Error{Kind: "TemplateRuntimeError", Line: line, Msg: "cannot assign attribute on non-namespace object"}
		}
		return ns.d.set(t.attr, v)
	case *tupleE:
		items, err := iterate(v)
		if err != nil {
			return withLine(err, line)
		}
		if len(items) != len(t.items) {
			if len(items) < len(t.items) {
				return &Error{Kind: "ValueError", Line: line, Msg: fmt.Sprintf("not enough values to unpack (expected %d, got %d)", len(t.items), len(items))}
			}
			return &Error{Kind: "ValueError", Line: line, Msg: fmt.Sprintf("too many values to unpack (expected %d)", len(t.items))}
		}
		for i, it := range t.items {
			if err := ev.assign(it, items[i], sc, line); err != nil {
				return err
			}
		}
		return nil
	}
	return &Error{Kind: "TemplateSyntaxError", Line: line, Msg: "can't assign to this target"}
}

func (ev *evaluator) execFor(n *forNode, sc *scope) error {
	if err := ev.step(n.line); err != nil {
		return err
	}
	iv, err := ev.eval(n.iter, sc)
	if err != nil {
		return err
	}
	items, err := iterate(iv)
	if err != nil {
		return withLine(err, n.line)
	}
	inner := newScope(sc)
	if n.cond != nil {
		var kept []any
		for _, it := range items {
			if err := ev.assign(n.target, it, inner, n.line); err != nil {
				return err
			}
			c, err := ev.eval(n.cond, inner)
			if err != nil {
				return err
			}
			if truthy(c) {
				kept = append(kept, it)
			}
		}
		items = kept
		inner = newScope(sc)
	}
	if len(items) == 0 {
		return ev.exec(n.els, newScope(sc))
	}
	items = append([]any(nil), items...) // the body may not change what it iterates
	for i, it := range items {
		if err := ev.step(n.line); err != nil {
			return err
		}
		// Every iteration starts from the enclosing scope: what the body
		// sets does not carry over to the next one (nor out of the loop).
		inner = newScope(sc)
		if err := ev.assign(n.target, it, inner, n.line); err != nil {
			return err
		}
		inner.vars["loop"] = &loopState{index0: i, items: items}
		err := ev.exec(n.body, inner)
		if err == errBreak {
			break
		}
		if err != nil && err != errContinue {
			return err
		}
	}
	return nil
}

// printable refuses to turn a generator into text: Python would print its
// memory address, which no renderer can reproduce.
func printable(v any, line int) error {
	if hasGenerator(v, 0) {
		return &Error{Kind: "TemplateRuntimeError", Line: line, Msg: errPrintGenerator}
	}
	return nil
}

const errPrintGenerator = "printing a generator (what map, select, unique, items... return), which Python prints with its memory address; add |list"

func hasGenerator(v any, depth int) bool {
	if depth > 100 {
		return false
	}
	switch x := v.(type) {
	case *generator:
		return true
	case *list:
		for _, it := range x.items {
			if hasGenerator(it, depth+1) {
				return true
			}
		}
	case *dict:
		for _, k := range x.keys {
			if hasGenerator(x.value(k), depth+1) {
				return true
			}
		}
	}
	return false
}

func withLine(err error, line int) error {
	var e *Error
	if errors.As(err, &e) && e.Line == 0 {
		e.Line = line
	}
	return err
}

func (ev *evaluator) eval(e expr, sc *scope) (any, error) {
	ev.steps++
	if ev.steps > ev.lim.MaxSteps {
		return nil, &Error{Kind: "LimitError", Line: ev.line, Msg: fmt.Sprintf("more than %d evaluation steps", ev.lim.MaxSteps)}
	}
	switch e := e.(type) {
	case *constE:
		return e.v, nil
	case *nameE:
		if v, ok := sc.lookup(e.name); ok {
			return v, nil
		}
		if g := global(e.name); g != nil {
			return g, nil
		}
		return undefName(e.name), nil
	case *getattrE:
		obj, err := ev.eval(e.obj, sc)
		if err != nil {
			return nil, err
		}
		v, err := getattr(obj, e.attr)
		return v, withLine(err, e.line)
	case *getitemE:
		obj, err := ev.eval(e.obj, sc)
		if err != nil {
			return nil, err
		}
		key, err := ev.eval(e.key, sc)
		if err != nil {
			return nil, err
		}
		v, err := getitem(obj, key)
		return v, withLine(err, e.line)
	case *sliceE:
		return ev.evalSlice(e, sc)
	case *callE:
		return ev.evalCall(e, sc, nil)
	case *filterE:
		obj, err := ev.eval(e.obj, sc)
		if err != nil {
			return nil, err
		}
		return ev.applyFilter(e, obj, sc)
	case *testE:
		obj, err := ev.eval(e.obj, sc)
		if err != nil {
			return nil, err
		}
		a, err := ev.evalArgs(e.args, e.kwNames, e.kwVals, nil, nil, sc)
		if err != nil {
			return nil, err
		}
		a.what = "test '" + e.name + "'"
		r, err := runTest(ev, e.name, obj, a)
		if err != nil {
			return nil, withLine(err, e.line)
		}
		return r != e.negate, nil
	case *binE:
		return ev.evalBin(e, sc)
	case *unaryE:
		x, err := ev.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		switch e.op {
		case "not":
			return !truthy(x), nil
		case "-":
			switch v := x.(type) {
			case bool:
				if v {
					return int64(-1), nil
				}
				return int64(0), nil
			case int64:
				return -v, nil
			case float64:
				return -v, nil
			case undefined:
				return nil, withLine(v.err(), e.line)
			}
			return nil, withLine(typeErr("bad operand type for unary -: '%s'", typeName(x)), e.line)
		default:
			switch v := x.(type) {
			case bool, int64, float64:
				return v, nil
			case undefined:
				return nil, withLine(v.err(), e.line)
			}
			return nil, withLine(typeErr("bad operand type for unary +: '%s'", typeName(x)), e.line)
		}
	case *compareE:
		l, err := ev.eval(e.first, sc)
		if err != nil {
			return nil, err
		}
		for i, op := range e.ops {
			r, err := ev.eval(e.rest[i], sc)
			if err != nil {
				return nil, err
			}
			ok, err := compareOp(op, l, r)
			if err != nil {
				return nil, withLine(err, e.line)
			}
			if !ok {
				return false, nil
			}
			l = r
		}
		return true, nil
	case *concatE:
		var b strings.Builder
		for _, it := range e.items {
			v, err := ev.eval(it, sc)
			if err != nil {
				return nil, err
			}
			if err := printable(v, e.line); err != nil {
				return nil, err
			}
			b.WriteString(str(v))
			if b.Len() > ev.lim.MaxOutput {
				return nil, &Error{Kind: "LimitError", Line: e.line, Msg: "string too long"}
			}
		}
		return b.String(), nil
	case *condE:
		c, err := ev.eval(e.cond, sc)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return ev.eval(e.a, sc)
		}
		if e.b == nil {
			return undefined{hint: "the inline if-expression on line " + fmt.Sprint(e.line) + " evaluated to false and no else section was defined."}, nil
		}
		return ev.eval(e.b, sc)
	case *listE:
		l := &list{}
		for _, it := range e.items {
			v, err := ev.eval(it, sc)
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, v)
		}
		return l, nil
	case *tupleE:
		l := &list{tuple: true}
		for _, it := range e.items {
			v, err := ev.eval(it, sc)
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, v)
		}
		return l, nil
	case *dictE:
		d := newDict()
		for i := range e.keys {
			k, err := ev.eval(e.keys[i], sc)
			if err != nil {
				return nil, err
			}
			v, err := ev.eval(e.vals[i], sc)
			if err != nil {
				return nil, err
			}
			if err := d.set(k, v); err != nil {
				return nil, typeErr("%s", err.Error())
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("chattemplate: internal error: expression %T", e)
}

func compareOp(op string, l, r any) (bool, error) {
	switch op {
	case "==":
		return equal(l, r), nil
	case "!=":
		return !equal(l, r), nil
	case "in":
		return contains(r, l)
	case "not in":
		ok, err := contains(r, l)
		return !ok, err
	}
	c, err := compare(l, r, op)
	if err != nil {
		return false, err
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

func (ev *evaluator) evalBin(e *binE, sc *scope) (any, error) {
	l, err := ev.eval(e.l, sc)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return ev.eval(e.r, sc)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return ev.eval(e.r, sc)
	}
	r, err := ev.eval(e.r, sc)
	if err != nil {
		return nil, err
	}
	v, err := binop(e.op, l, r, ev.lim.MaxOutput)
	return v, withLine(err, e.line)
}

// binop is Python's arithmetic on two values.
func binop(op string, l, r any, maxLen int) (any, error) {
	if u, ok := l.(undefined); ok {
		return nil, u.err()
	}
	if u, ok := r.(undefined); ok {
		return nil, u.err()
	}
	opName := op
	switch op {
	case "+":
		switch x := l.(type) {
		case string:
			switch y := r.(type) {
			case string:
				if len(x)+len(y) > maxLen {
					return nil, &Error{Kind: "LimitError", Msg: "string too long"}
				}
				return x + y, nil
			case markup:
				return markup(escapeHTML(x)) + y, nil
			}
			return nil, typeErr("can only concatenate str (not \"%s\") to str", typeName(r))
		case markup:
			if isStr(r) {
				if y, ok := r.(string); ok {
					return x + markup(escapeHTML(y)), nil
				}
				return x + r.(markup), nil
			}
			return nil, typeErr("unsupported operand type(s) for +: 'Markup' and '%s'", typeName(r))
		case *list:
			if y, ok := r.(*list); ok && y.tuple == x.tuple {
				if len(x.items)+len(y.items) > maxLen {
					return nil, &Error{Kind: "LimitError", Msg: "list too long"}
				}
				return &list{items: append(append([]any(nil), x.items...), y.items...), tuple: x.tuple}, nil
			}
			if x.tuple {
				return nil, typeErr("can only concatenate tuple (not \"%s\") to tuple", typeName(r))
			}
			return nil, typeErr("can only concatenate list (not \"%s\") to list", typeName(r))
		}
	case "*":
		if s, n, ok := seqTimesInt(l, r); ok {
			return repeatSeq(s, n, maxLen)
		}
		if s, n, ok := seqTimesInt(r, l); ok {
			return repeatSeq(s, n, maxLen)
		}
	case "%":
		if isStr(l) {
			return percentFormat(str(l), r)
		}
	}
	li, lInt := asInt(l)
	ri, rInt := asInt(r)
	lf, lNum := number(l)
	rf, rNum := number(r)
	if !lNum || !rNum {
		return nil, typeErr("unsupported operand type(s) for %s: '%s' and '%s'", opName, typeName(l), typeName(r))
	}
	bothInt := lInt && rInt
	switch op {
	case "+":
		if bothInt {
			if s := li + ri; (s > li) == (ri > 0) {
				return s, nil
			}
			return nil, errBigInt()
		}
		return lf + rf, nil
	case "-":
		if bothInt {
			if s := li - ri; (s < li) == (ri > 0) {
				return s, nil
			}
			return nil, errBigInt()
		}
		return lf - rf, nil
	case "*":
		if bothInt {
			if li == 0 || ri == 0 {
				return int64(0), nil
			}
			p := li * ri
			if p/ri != li || (li == -1 && ri == math.MinInt64) || (ri == -1 && li == math.MinInt64) {
				return nil, errBigInt()
			}
			return p, nil
		}
		return lf * rf, nil
	case "/":
		if rf == 0 {
			return nil, &Error{Kind: "ZeroDivisionError", Msg: "division by zero"}
		}
		return lf / rf, nil
	case "//":
		if rf == 0 {
			return nil, &Error{Kind: "ZeroDivisionError", Msg: "integer division or modulo by zero"}
		}
		if bothInt {
			q := li / ri
			if (li%ri != 0) && ((li < 0) != (ri < 0)) {
				q--
			}
			return q, nil
		}
		return math.Floor(lf / rf), nil
	case "%":
		if rf == 0 {
			return nil, &Error{Kind: "ZeroDivisionError", Msg: "integer division or modulo by zero"}
		}
		if bothInt {
			m := li % ri
			if m != 0 && ((m < 0) != (ri < 0)) {
				m += ri
			}
			return m, nil
		}
		m := math.Mod(lf, rf)
		if m != 0 && ((m < 0) != (rf < 0)) {
			m += rf
		}
		return m, nil
	case "**":
		if bothInt && ri >= 0 {
			p := int64(1)
			for i := int64(0); i < ri && p != 0; i++ {
				q := p * li
				if li != 0 && q/li != p {
					return nil, errBigInt()
				}
				p = q
				if p == 1 && li == 1 {
					break
				}
			}
			return p, nil
		}
		return math.Pow(lf, rf), nil
	}
	return nil, typeErr("unsupported operand type(s) for %s: '%s' and '%s'", opName, typeName(l), typeName(r))
}

// errBigInt: Python's integers are unbounded, this renderer's are 64-bit;
// rather than print a wrong number it fails.
func errBigInt() error {
	return &Error{Kind: "OverflowError", Msg: "integer result beyond 64 bits (Python's big integers are not supported by this renderer)"}
}

func seqTimesInt(a, b any) (any, int64, bool) {
	switch a.(type) {
	case string, markup, *list:
		if n, ok := asInt(b); ok {
			return a, n, true
		}
	}
	return nil, 0, false
}

func repeatSeq(s any, n int64, maxLen int) (any, error) {
	if n < 0 {
		n = 0
	}
	switch x := s.(type) {
	case string:
		if int64(len(x))*n > int64(maxLen) {
			return nil, &Error{Kind: "LimitError", Msg: "string too long"}
		}
		return strings.Repeat(x, int(n)), nil
	case markup:
		if int64(len(x))*n > int64(maxLen) {
			return nil, &Error{Kind: "LimitError", Msg: "string too long"}
		}
		return markup(strings.Repeat(string(x), int(n))), nil
	case *list:
		if int64(len(x.items))*n > int64(maxLen) {
			return nil, &Error{Kind: "LimitError", Msg: "list too long"}
		}
		out := &list{tuple: x.tuple}
		for i := int64(0); i < n; i++ {
			out.items = append(out.items, x.items...)
		}
		return out, nil
	}
	return nil, nil
}

func (ev *evaluator) evalSlice(e *sliceE, sc *scope) (any, error) {
	obj, err := ev.eval(e.obj, sc)
	if err != nil {
		return nil, err
	}
	var bounds [3]any
	for i, x := range []expr{e.start, e.stop, e.step} {
		if x == nil {
			continue
		}
		if bounds[i], err = ev.eval(x, sc); err != nil {
			return nil, err
		}
	}
	var n int
	var runes []rune
	switch x := obj.(type) {
	case *list:
		n = len(x.items)
	case string:
		runes = []rune(x)
		n = len(runes)
	case markup:
		runes = []rune(string(x))
		n = len(runes)
	case undefined:
		return nil, withLine(x.err(), e.line)
	default:
		// jinja2 turns the failed subscript into an undefined value.
		return undefined{hint: fmt.Sprintf("'%s object' has no element slice", typeName(obj))}, nil
	}
	idx, err := sliceIndices(bounds, n)
	if err != nil {
		return nil, withLine(err, e.line)
	}
	switch x := obj.(type) {
	case *list:
		out := &list{tuple: x.tuple}
		for _, i := range idx {
			out.items = append(out.items, x.items[i])
		}
		return out, nil
	default:
		var b strings.Builder
		for _, i := range idx {
			b.WriteRune(runes[i])
		}
		if _, ok := obj.(markup); ok {
			return markup(b.String()), nil
		}
		return b.String(), nil
	}
}

// sliceIndices is Python's slice(start, stop, step).indices(n) expanded.
func sliceIndices(b [3]any, n int) ([]int, error) {
	get := func(v any) (int, bool, error) {
		if v == nil {
			return 0, false, nil
		}
		i, ok := asInt(v)
		if !ok {
			return 0, false, typeErr("slice indices must be integers or None or have an __index__ method")
		}
		return int(max(min(i, math.MaxInt32), math.MinInt32)), true, nil
	}
	step, hasStep, err := get(b[2])
	if err != nil {
		return nil, err
	}
	if !hasStep {
		step = 1
	}
	if step == 0 {
		return nil, &Error{Kind: "ValueError", Msg: "slice step cannot be zero"}
	}
	start, hasStart, err := get(b[0])
	if err != nil {
		return nil, err
	}
	stop, hasStop, err := get(b[1])
	if err != nil {
		return nil, err
	}
	norm := func(i int, lo, hi int) int {
		if i < 0 {
			i += n
			if i < lo {
				i = lo
			}
		} else if i > hi {
			i = hi
		}
		return i
	}
	var out []int
	if step > 0 {
		if !hasStart {
			start = 0
		} else {
			start = norm(start, 0, n)
		}
		if !hasStop {
			stop = n
		} else {
			stop = norm(stop, 0, n)
		}
		for i := start; i < stop; i += step {
			out = append(out, i)
		}
	} else {
		if !hasStart {
			start = n - 1
		} else {
			start = norm(start, -1, n-1)
		}
		if !hasStop {
			stop = -1
		} else {
			stop = norm(stop, -1, n-1)
		}
		for i := start; i > stop; i += step {
			out = append(out, i)
		}
	}
	return out, nil
}

func (ev *evaluator) evalArgs(pos []expr, kwNames []string, kwVals []expr, dynArgs, dynKwargs expr, sc *scope) (*args, error) {
	a := &args{}
	for _, p := range pos {
		v, err := ev.eval(p, sc)
		if err != nil {
			return nil, err
		}
		a.pos = append(a.pos, v)
	}
	for i, k := range kwNames {
		v, err := ev.eval(kwVals[i], sc)
		if err != nil {
			return nil, err
		}
		a.kwNames = append(a.kwNames, k)
		a.kwVals = append(a.kwVals, v)
	}
	if dynArgs != nil {
		v, err := ev.eval(dynArgs, sc)
		if err != nil {
			return nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		a.pos = append(a.pos, items...)
	}
	if dynKwargs != nil {
		v, err := ev.eval(dynKwargs, sc)
		if err != nil {
			return nil, err
		}
		d, ok := v.(*dict)
		if !ok {
			return nil, typeErr("argument after ** must be a mapping, not %s", typeName(v))
		}
		for _, k := range d.keys {
			a.kwNames = append(a.kwNames, str(k))
			a.kwVals = append(a.kwVals, d.value(k))
		}
	}
	return a, nil
}

func (ev *evaluator) evalCall(e *callE, sc *scope, caller *macro) (any, error) {
	if err := ev.step(e.line); err != nil {
		return nil, err
	}
	fn, err := ev.eval(e.fn, sc)
	if err != nil {
		return nil, err
	}
	a, err := ev.evalArgs(e.args, e.kwNames, e.kwVals, e.dynArgs, e.dynKwargs, sc)
	if err != nil {
		return nil, err
	}
	v, err := ev.call(fn, a, caller)
	return v, withLine(err, e.line)
}

func (ev *evaluator) call(fn any, a *args, caller *macro) (any, error) {
	switch f := fn.(type) {
	case *macro:
		return ev.callMacro(f, a, caller)
	case *builtin:
		a.what = f.name + "()"
		return f.fn(ev, a)
	case *boundMethod:
		return callMethod(ev, f, a)
	case undefined:
		return nil, f.err()
	}
	return nil, typeErr("'%s' object is not callable", typeName(fn))
}

func (ev *evaluator) callMacro(m *macro, a *args, caller *macro) (any, error) {
	ev.depth++
	defer func() { ev.depth-- }()
	if ev.depth > ev.lim.MaxDepth {
		return nil, &Error{Kind: "RecursionError", Line: m.def.line, Msg: fmt.Sprintf("macro '%s': calls nested deeper than %d", m.def.name, ev.lim.MaxDepth)}
	}
	inner := newScope(m.closure)
	d := m.def
	if len(a.pos) > len(d.params) {
		// jinja2 allows this only when the body uses varargs.
		inner.vars["varargs"] = &list{items: a.pos[len(d.params):], tuple: true}
	} else {
		inner.vars["varargs"] = &list{tuple: true}
	}
	kw := newDict()
	// Parameters are the macro's own names from the start: a default that
	// mentions one not yet bound sees it undefined, not an outer variable.
	for _, p := range d.params {
		inner.vars[p.name] = undefName(p.name)
	}
	for i, p := range d.params {
		var v any
		found := false
		if i < len(a.pos) {
			v, found = a.pos[i], true
		}
		for j, n := range a.kwNames {
			if n == p.name {
				if found {
					return nil, typeErr("macro '%s' got multiple values for argument '%s'", d.name, p.name)
				}
				v, found = a.kwVals[j], true
			}
		}
		if !found {
			if p.def != nil {
				var err error
				if v, err = ev.eval(p.def, inner); err != nil {
					return nil, err
				}
			} else {
				v = undefined{hint: fmt.Sprintf("parameter '%s' was not provided", p.name)}
			}
		}
		inner.vars[p.name] = v
	}
	for j, n := range a.kwNames {
		known := false
		for _, p := range d.params {
			if p.name == n {
				known = true
			}
		}
		if !known {
			_ = kw.set(n, a.kwVals[j])
		}
	}
	inner.vars["kwargs"] = kw
	if caller != nil {
		inner.vars["caller"] = caller
	}
	s, err := ev.capture(func() error {
		err := ev.exec(d.body, inner)
		if err == errBreak || err == errContinue {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// jinja2 returns Markup when autoescaping, a plain str otherwise.
	return s, nil
}

func (ev *evaluator) applyFilter(f *filterE, v any, sc *scope) (any, error) {
	if err := ev.step(f.line); err != nil {
		return nil, err
	}
	a, err := ev.evalArgs(f.args, f.kwNames, f.kwVals, nil, nil, sc)
	if err != nil {
		return nil, err
	}
	a.pos = append([]any{v}, a.pos...)
	a.what = "filter '" + f.name + "'"
	fn, ok := lookupFilter(f.name)
	if !ok {
		return nil, &Error{Kind: "TemplateAssertionError", Line: f.line, Msg: fmt.Sprintf("No filter named '%s'.", f.name)}
	}
	r, err := fn(ev, a)
	return r, withLine(err, f.line)
}
