package chattemplate

import (
	"slices"
)

// The parser follows jinja2's grammar and operator precedence (from lowest):
// conditional expression, or, and, not, comparisons (chained, in, not in),
// + and -, ~, * / // %, **, unary - and +, then primaries with their
// postfixes (.attr, [item], [a:b:c], calls) and filters and tests.

type node interface{}

type (
	textNode   struct{ s string }
	outputNode struct {
		e    expr
		line int
	}
	ifNode struct {
		conds  []expr
		bodies [][]node
		els    []node
	}
	forNode struct {
		target    expr // nameE or tupleE of nameE
		iter      expr
		cond      expr
		body, els []node
		recursive bool
		line      int
	}
	setNode struct {
		target expr // nameE, tupleE of nameE, or getattrE on a name (namespace)
		value  expr
		line   int
	}
	setBlockNode struct {
		target  expr
		filters []*filterE
		body    []node
		line    int
	}
	macroNode struct {
		m *macroDef
	}
	callBlockNode struct {
		call   *callE
		params []param
		body   []node
		line   int
	}
	filterBlockNode struct {
		filters []*filterE
		body    []node
	}
	withNode struct {
		targets []expr
		values  []expr
		body    []node
	}
	breakNode    struct{ line int }
	continueNode struct{ line int }
)

type param struct {
	name string
	def  expr
}

type macroDef struct {
	name   string
	params []param
	body   []node
	line   int
}

type expr interface{}

type (
	constE struct{ v any }
	nameE  struct {
		name string
		line int
	}
	getattrE struct {
		obj  expr
		attr string
		line int
	}
	getitemE struct {
		obj, key expr
		line     int
	}
	sliceE struct {
		obj, start, stop, step expr
		line                   int
	}
	callE struct {
		fn        expr
		args      []expr
		kwNames   []string
		kwVals    []expr
		dynArgs   expr
		dynKwargs expr
		line      int
	}
	filterE struct {
		obj     expr // nil inside {% filter %} and {% set x | f %}
		name    string
		args    []expr
		kwNames []string
		kwVals  []expr
		line    int
	}
	testE struct {
		obj     expr
		name    string
		args    []expr
		kwNames []string
		kwVals  []expr
		negate  bool
		line    int
	}
	binE struct {
		op   string
		l, r expr
		line int
	}
	unaryE struct {
		op   string
		x    expr
		line int
	}
	compareE struct {
		first expr
		ops   []string
		rest  []expr
		line  int
	}
	concatE struct {
		items []expr
		line  int
	}
	condE struct {
		cond, a, b expr
		line       int
	}
	listE  struct{ items []expr }
	tupleE struct{ items []expr }
	dictE  struct{ keys, vals []expr }
)

type parser struct {
	toks  []token
	p     int
	depth int // nesting of expressions and blocks being parsed
}

// maxNesting bounds how deeply expressions and blocks may nest, so that a
// template cannot exhaust the stack (jinja2 itself stops near Python's
// recursion limit).
const maxNesting = 300

func (ps *parser) enter() error {
	ps.depth++
	if ps.depth > maxNesting {
		return syntaxErr(ps.cur().line, "expressions or blocks nested deeper than %d", maxNesting)
	}
	return nil
}

func (ps *parser) cur() token  { return ps.toks[ps.p] }
func (ps *parser) peek() token { return ps.toks[min(ps.p+1, len(ps.toks)-1)] }
func (ps *parser) next() token {
	t := ps.toks[ps.p]
	if ps.p < len(ps.toks)-1 {
		ps.p++
	}
	return t
}

func (ps *parser) isOp(s string) bool   { t := ps.cur(); return t.kind == tOp && t.s == s }
func (ps *parser) isName(s string) bool { t := ps.cur(); return t.kind == tName && t.s == s }

func (ps *parser) skipOp(s string) bool {
	if ps.isOp(s) {
		ps.next()
		return true
	}
	return false
}

func (ps *parser) skipName(s string) bool {
	if ps.isName(s) {
		ps.next()
		return true
	}
	return false
}

func (ps *parser) expectOp(s string) error {
	if !ps.skipOp(s) {
		return syntaxErr(ps.cur().line, "expected token '%s', got %s", s, ps.cur())
	}
	return nil
}

func (ps *parser) expectKind(k tokKind, what string) (token, error) {
	t := ps.cur()
	if t.kind != k {
		return t, syntaxErr(t.line, "expected %s, got %s", what, t)
	}
	ps.next()
	return t, nil
}

func (ps *parser) expectName() (string, error) {
	t, err := ps.expectKind(tName, "name")
	return t.s, err
}

func (ps *parser) expectBlockEnd() error {
	_, err := ps.expectKind(tBlockEnd, "end of statement block")
	return err
}

func parse(toks []token) ([]node, error) {
	ps := &parser{toks: toks}
	body, end, err := ps.parseBody()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, syntaxErr(ps.cur().line, "Encountered unknown tag '%s'.", end)
	}
	return body, nil
}

// parseBody reads nodes until the end of the template or a block tag whose
// name is in ends; it consumes "{%" and that name and returns the name.
func (ps *parser) parseBody(ends ...string) ([]node, string, error) {
	if err := ps.enter(); err != nil {
		return nil, "", err
	}
	defer func() { ps.depth-- }()
	var body []node
	for {
		t := ps.cur()
		switch t.kind {
		case tEOF:
			if len(ends) > 0 {
				return nil, "", syntaxErr(t.line, "Unexpected end of template. Jinja was looking for the following tags: %s.", quoteList(ends))
			}
			return body, "", nil
		case tText:
			ps.next()
			body = append(body, &textNode{s: t.s})
		case tVarBegin:
			ps.next()
			e, err := ps.parseTuple(true)
			if err != nil {
				return nil, "", err
			}
			if _, err := ps.expectKind(tVarEnd, "end of print statement"); err != nil {
				return nil, "", err
			}
			body = append(body, &outputNode{e: e, line: t.line})
		case tBlockBegin:
			ps.next()
			nt := ps.cur()
			if nt.kind != tName {
				return nil, "", syntaxErr(nt.line, "tag name expected")
			}
			if slices.Contains(ends, nt.s) {
				ps.next()
				return body, nt.s, nil
			}
			n, err := ps.parseStatement(ends)
			if err != nil {
				return nil, "", err
			}
			if n != nil {
				body = append(body, n)
			}
		default:
			return nil, "", syntaxErr(t.line, "unexpected %s", t)
		}
	}
}

func quoteList(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " or "
		}
		out += "'" + x + "'"
	}
	return out
}

func (ps *parser) parseStatement(outer []string) (node, error) {
	t := ps.next()
	switch t.s {
	case "if":
		return ps.parseIf()
	case "for":
		return ps.parseFor(t.line)
	case "set":
		return ps.parseSet(t.line)
	case "macro":
		return ps.parseMacro(t.line)
	case "call":
		return ps.parseCallBlock(t.line)
	case "filter":
		fs, err := ps.parseFilterChain()
		if err != nil {
			return nil, err
		}
		if err := ps.expectBlockEnd(); err != nil {
			return nil, err
		}
		body, _, err := ps.parseBody("endfilter")
		if err != nil {
			return nil, err
		}
		return &filterBlockNode{filters: fs, body: body}, ps.expectBlockEnd()
	case "with":
		return ps.parseWith()
	case "generation":
		// transformers' AssistantTracker: the body renders as is.
		if err := ps.expectBlockEnd(); err != nil {
			return nil, err
		}
		body, _, err := ps.parseBody("endgeneration")
		if err != nil {
			return nil, err
		}
		return &filterBlockNode{body: body}, ps.expectBlockEnd()
	case "break":
		return &breakNode{line: t.line}, ps.expectBlockEnd()
	case "continue":
		return &continueNode{line: t.line}, ps.expectBlockEnd()
	}
	if len(outer) > 0 {
		return nil, syntaxErr(t.line, "Encountered unknown tag '%s'. Jinja was looking for the following tags: %s. (tag not supported by this renderer or misplaced)", t.s, quoteList(outer))
	}
	return nil, syntaxErr(t.line, "Encountered unknown tag '%s'. (tag not supported by this renderer)", t.s)
}

func (ps *parser) parseIf() (node, error) {
	n := &ifNode{}
	for {
		cond, err := ps.parseTuple(false)
		if err != nil {
			return nil, err
		}
		if err := ps.expectBlockEnd(); err != nil {
			return nil, err
		}
		body, end, err := ps.parseBody("elif", "else", "endif")
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		switch end {
		case "elif":
			continue
		case "else":
			if err := ps.expectBlockEnd(); err != nil {
				return nil, err
			}
			n.els, _, err = ps.parseBody("endif")
			if err != nil {
				return nil, err
			}
		}
		return n, ps.expectBlockEnd()
	}
}

func (ps *parser) parseAssignTarget(withNamespace bool) (expr, error) {
	var items []expr
	for {
		name, err := ps.expectName()
		if err != nil {
			return nil, err
		}
		var target expr = &nameE{name: name}
		if withNamespace && ps.isOp(".") {
			ps.next()
			attr, err := ps.expectName()
			if err != nil {
				return nil, err
			}
			target = &getattrE{obj: target, attr: attr, line: ps.cur().line}
		}
		items = append(items, target)
		if !ps.skipOp(",") {
			break
		}
		if ps.cur().kind != tName {
			break
		}
	}
	if len(items) == 1 {
		return items[0], nil
	}
	return &tupleE{items: items}, nil
}

func (ps *parser) parseFor(line int) (node, error) {
	n := &forNode{line: line}
	var err error
	parenthesised := ps.skipOp("(")
	if n.target, err = ps.parseAssignTarget(false); err != nil {
		return nil, err
	}
	if parenthesised {
		if err := ps.expectOp(")"); err != nil {
			return nil, err
		}
	}
	if !ps.skipName("in") {
		return nil, syntaxErr(ps.cur().line, "expected token 'in', got %s", ps.cur())
	}
	if n.iter, err = ps.parseTuple(false, "recursive"); err != nil {
		return nil, err
	}
	if ps.skipName("if") {
		if n.cond, err = ps.parseExpression(true); err != nil {
			return nil, err
		}
	}
	n.recursive = ps.skipName("recursive")
	if n.recursive {
		return nil, syntaxErr(line, "recursive for loops are not supported by this renderer")
	}
	if err := ps.expectBlockEnd(); err != nil {
		return nil, err
	}
	body, end, err := ps.parseBody("endfor", "else")
	if err != nil {
		return nil, err
	}
	n.body = body
	if end == "else" {
		if err := ps.expectBlockEnd(); err != nil {
			return nil, err
		}
		if n.els, _, err = ps.parseBody("endfor"); err != nil {
			return nil, err
		}
	}
	return n, ps.expectBlockEnd()
}

func (ps *parser) parseSet(line int) (node, error) {
	target, err := ps.parseAssignTarget(true)
	if err != nil {
		return nil, err
	}
	if ps.skipOp("=") {
		v, err := ps.parseTuple(true)
		if err != nil {
			return nil, err
		}
		return &setNode{target: target, value: v, line: line}, ps.expectBlockEnd()
	}
	n := &setBlockNode{target: target, line: line}
	if ps.isOp("|") {
		if n.filters, err = ps.parseFilterChain(); err != nil {
			return nil, err
		}
	}
	if err := ps.expectBlockEnd(); err != nil {
		return nil, err
	}
	if n.body, _, err = ps.parseBody("endset"); err != nil {
		return nil, err
	}
	return n, ps.expectBlockEnd()
}

// parseFilterChain reads "f1(args) | f2" (the leading "|" optional).
func (ps *parser) parseFilterChain() ([]*filterE, error) {
	var fs []*filterE
	ps.skipOp("|")
	for {
		f, err := ps.parseFilterCall(nil)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
		if !ps.skipOp("|") {
			return fs, nil
		}
	}
}

func (ps *parser) parseParams() ([]param, error) {
	var params []param
	if err := ps.expectOp("("); err != nil {
		return nil, err
	}
	for !ps.isOp(")") {
		if len(params) > 0 {
			if err := ps.expectOp(","); err != nil {
				return nil, err
			}
			if ps.isOp(")") {
				break
			}
		}
		name, err := ps.expectName()
		if err != nil {
			return nil, err
		}
		p := param{name: name}
		if ps.skipOp("=") {
			if p.def, err = ps.parseExpression(true); err != nil {
				return nil, err
			}
		} else if len(params) > 0 && params[len(params)-1].def != nil {
			return nil, syntaxErr(ps.cur().line, "non-default argument follows default argument")
		}
		params = append(params, p)
	}
	ps.next()
	return params, nil
}

func (ps *parser) parseMacro(line int) (node, error) {
	name, err := ps.expectName()
	if err != nil {
		return nil, err
	}
	params, err := ps.parseParams()
	if err != nil {
		return nil, err
	}
	if err := ps.expectBlockEnd(); err != nil {
		return nil, err
	}
	body, _, err := ps.parseBody("endmacro")
	if err != nil {
		return nil, err
	}
	return &macroNode{m: &macroDef{name: name, params: params, body: body, line: line}}, ps.expectBlockEnd()
}

func (ps *parser) parseCallBlock(line int) (node, error) {
	n := &callBlockNode{line: line}
	if ps.isOp("(") {
		var err error
		if n.params, err = ps.parseParams(); err != nil {
			return nil, err
		}
	}
	e, err := ps.parseExpression(true)
	if err != nil {
		return nil, err
	}
	call, ok := e.(*callE)
	if !ok {
		return nil, syntaxErr(line, "expected call")
	}
	n.call = call
	if err := ps.expectBlockEnd(); err != nil {
		return nil, err
	}
	if n.body, _, err = ps.parseBody("endcall"); err != nil {
		return nil, err
	}
	return n, ps.expectBlockEnd()
}

func (ps *parser) parseWith() (node, error) {
	n := &withNode{}
	for !(ps.cur().kind == tBlockEnd) {
		if len(n.targets) > 0 {
			if err := ps.expectOp(","); err != nil {
				return nil, err
			}
		}
		t, err := ps.parseAssignTarget(false)
		if err != nil {
			return nil, err
		}
		if err := ps.expectOp("="); err != nil {
			return nil, err
		}
		v, err := ps.parseExpression(true)
		if err != nil {
			return nil, err
		}
		n.targets = append(n.targets, t)
		n.values = append(n.values, v)
	}
	ps.next()
	var err error
	if n.body, _, err = ps.parseBody("endwith"); err != nil {
		return nil, err
	}
	return n, ps.expectBlockEnd()
}

// parseTuple reads an expression or a comma-separated tuple of them
// (jinja2's parse_tuple); extraEnds are names that end it (for "recursive").
func (ps *parser) parseTuple(withCondexpr bool, extraEnds ...string) (expr, error) {
	var items []expr
	isTuple := false
	for {
		if len(items) > 0 {
			if !ps.skipOp(",") {
				break
			}
			isTuple = true
		}
		t := ps.cur()
		if t.kind == tVarEnd || t.kind == tBlockEnd || (t.kind == tOp && (t.s == ")" || t.s == "]" || t.s == "}")) ||
			(t.kind == tName && slices.Contains(extraEnds, t.s)) || (len(items) > 0 && t.kind == tName && t.s == "if") {
			break
		}
		e, err := ps.parseExpression(withCondexpr)
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	if !isTuple {
		if len(items) == 0 {
			return nil, syntaxErr(ps.cur().line, "Expected an expression, got %s", ps.cur())
		}
		return items[0], nil
	}
	return &tupleE{items: items}, nil
}

func (ps *parser) parseExpression(withCondexpr bool) (expr, error) {
	if withCondexpr {
		return ps.parseCondexpr()
	}
	return ps.parseOr()
}

func (ps *parser) parseCondexpr() (expr, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer func() { ps.depth-- }()
	line := ps.cur().line
	a, err := ps.parseOr()
	if err != nil {
		return nil, err
	}
	for ps.skipName("if") {
		cond, err := ps.parseOr()
		if err != nil {
			return nil, err
		}
		var b expr
		if ps.skipName("else") {
			if b, err = ps.parseCondexpr(); err != nil {
				return nil, err
			}
		}
		a = &condE{cond: cond, a: a, b: b, line: line}
	}
	return a, nil
}

func (ps *parser) parseOr() (expr, error) {
	l, err := ps.parseAnd()
	if err != nil {
		return nil, err
	}
	for ps.isName("or") {
		line := ps.next().line
		r, err := ps.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &binE{op: "or", l: l, r: r, line: line}
	}
	return l, nil
}

func (ps *parser) parseAnd() (expr, error) {
	l, err := ps.parseNot()
	if err != nil {
		return nil, err
	}
	for ps.isName("and") {
		line := ps.next().line
		r, err := ps.parseNot()
		if err != nil {
			return nil, err
		}
		l = &binE{op: "and", l: l, r: r, line: line}
	}
	return l, nil
}

func (ps *parser) parseNot() (expr, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer func() { ps.depth-- }()
	if ps.isName("not") {
		line := ps.next().line
		x, err := ps.parseNot()
		if err != nil {
			return nil, err
		}
		return &unaryE{op: "not", x: x, line: line}, nil
	}
	return ps.parseCompare()
}

func (ps *parser) parseCompare() (expr, error) {
	line := ps.cur().line
	first, err := ps.parseMath1()
	if err != nil {
		return nil, err
	}
	var ops []string
	var rest []expr
	for {
		t := ps.cur()
		var op string
		switch {
		case t.kind == tOp && (t.s == "==" || t.s == "!=" || t.s == "<" || t.s == ">" || t.s == "<=" || t.s == ">="):
			op = t.s
			ps.next()
		case t.kind == tName && t.s == "in":
			op = "in"
			ps.next()
		case t.kind == tName && t.s == "not" && ps.peek().kind == tName && ps.peek().s == "in":
			op = "not in"
			ps.next()
			ps.next()
		}
		if op == "" {
			break
		}
		r, err := ps.parseMath1()
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
		rest = append(rest, r)
	}
	if len(ops) == 0 {
		return first, nil
	}
	return &compareE{first: first, ops: ops, rest: rest, line: line}, nil
}

func (ps *parser) parseMath1() (expr, error) {
	l, err := ps.parseConcat()
	if err != nil {
		return nil, err
	}
	for ps.isOp("+") || ps.isOp("-") {
		t := ps.next()
		r, err := ps.parseConcat()
		if err != nil {
			return nil, err
		}
		l = &binE{op: t.s, l: l, r: r, line: t.line}
	}
	return l, nil
}

func (ps *parser) parseConcat() (expr, error) {
	line := ps.cur().line
	first, err := ps.parseMath2()
	if err != nil {
		return nil, err
	}
	items := []expr{first}
	for ps.skipOp("~") {
		x, err := ps.parseMath2()
		if err != nil {
			return nil, err
		}
		items = append(items, x)
	}
	if len(items) == 1 {
		return first, nil
	}
	return &concatE{items: items, line: line}, nil
}

func (ps *parser) parseMath2() (expr, error) {
	l, err := ps.parsePow()
	if err != nil {
		return nil, err
	}
	for ps.isOp("*") || ps.isOp("/") || ps.isOp("//") || ps.isOp("%") {
		t := ps.next()
		r, err := ps.parsePow()
		if err != nil {
			return nil, err
		}
		l = &binE{op: t.s, l: l, r: r, line: t.line}
	}
	return l, nil
}

func (ps *parser) parsePow() (expr, error) {
	l, err := ps.parseUnary(true)
	if err != nil {
		return nil, err
	}
	for ps.isOp("**") {
		t := ps.next()
		r, err := ps.parseUnary(true)
		if err != nil {
			return nil, err
		}
		l = &binE{op: "**", l: l, r: r, line: t.line}
	}
	return l, nil
}

func (ps *parser) parseUnary(withFilter bool) (expr, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer func() { ps.depth-- }()
	t := ps.cur()
	var n expr
	var err error
	switch {
	case t.kind == tOp && t.s == "-":
		ps.next()
		x, err := ps.parseUnary(false)
		if err != nil {
			return nil, err
		}
		n = &unaryE{op: "-", x: x, line: t.line}
	case t.kind == tOp && t.s == "+":
		ps.next()
		x, err := ps.parseUnary(false)
		if err != nil {
			return nil, err
		}
		n = &unaryE{op: "+", x: x, line: t.line}
	default:
		if n, err = ps.parsePrimary(); err != nil {
			return nil, err
		}
	}
	if n, err = ps.parsePostfix(n); err != nil {
		return nil, err
	}
	if withFilter {
		return ps.parseFilterExpr(n)
	}
	return n, nil
}

func (ps *parser) parsePrimary() (expr, error) {
	t := ps.cur()
	switch t.kind {
	case tName:
		ps.next()
		switch t.s {
		case "true", "True":
			return &constE{v: true}, nil
		case "false", "False":
			return &constE{v: false}, nil
		case "none", "None":
			return &constE{v: nil}, nil
		}
		return &nameE{name: t.s, line: t.line}, nil
	case tString:
		ps.next()
		s := t.s
		for ps.cur().kind == tString {
			s += ps.next().s
		}
		return &constE{v: s}, nil
	case tInt:
		ps.next()
		return &constE{v: t.i}, nil
	case tFloat:
		ps.next()
		return &constE{v: t.f}, nil
	case tOp:
		switch t.s {
		case "(":
			ps.next()
			if ps.skipOp(")") {
				return &tupleE{}, nil
			}
			e, err := ps.parseTuple(true)
			if err != nil {
				return nil, err
			}
			if _, ok := e.(*tupleE); !ok {
				return e, ps.expectOp(")")
			}
			return e, ps.expectOp(")")
		case "[":
			ps.next()
			var items []expr
			for !ps.isOp("]") {
				if len(items) > 0 {
					if err := ps.expectOp(","); err != nil {
						return nil, err
					}
					if ps.isOp("]") {
						break
					}
				}
				e, err := ps.parseExpression(true)
				if err != nil {
					return nil, err
				}
				items = append(items, e)
			}
			ps.next()
			return &listE{items: items}, nil
		case "{":
			ps.next()
			d := &dictE{}
			for !ps.isOp("}") {
				if len(d.keys) > 0 {
					if err := ps.expectOp(","); err != nil {
						return nil, err
					}
					if ps.isOp("}") {
						break
					}
				}
				k, err := ps.parseExpression(true)
				if err != nil {
					return nil, err
				}
				if err := ps.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := ps.parseExpression(true)
				if err != nil {
					return nil, err
				}
				d.keys = append(d.keys, k)
				d.vals = append(d.vals, v)
			}
			ps.next()
			return d, nil
		}
	}
	return nil, syntaxErr(t.line, "unexpected %s", t)
}

func (ps *parser) parsePostfix(n expr) (expr, error) {
	for {
		t := ps.cur()
		switch {
		case t.kind == tOp && t.s == ".":
			ps.next()
			a := ps.next()
			switch a.kind {
			case tName:
				n = &getattrE{obj: n, attr: a.s, line: a.line}
			case tInt:
				n = &getitemE{obj: n, key: &constE{v: a.i}, line: a.line}
			default:
				return nil, syntaxErr(a.line, "expected name or number")
			}
		case t.kind == tOp && t.s == "[":
			ps.next()
			var err error
			if n, err = ps.parseSubscript(n, t.line); err != nil {
				return nil, err
			}
		case t.kind == tOp && t.s == "(":
			var err error
			if n, err = ps.parseCall(n); err != nil {
				return nil, err
			}
		default:
			return n, nil
		}
	}
}

func (ps *parser) parseSubscript(obj expr, line int) (expr, error) {
	var parts [3]expr
	isSlice := false
	idx := 0
	var tuple []expr // x[a, b] subscripts with the tuple (a, b)
	for !ps.isOp("]") {
		if ps.skipOp(":") {
			isSlice = true
			idx++
			if idx > 2 {
				return nil, syntaxErr(line, "invalid slice")
			}
			continue
		}
		if ps.skipOp(",") {
			if isSlice || parts[0] == nil {
				return nil, syntaxErr(line, "invalid subscript")
			}
			tuple = append(tuple, parts[0])
			parts[0] = nil
			continue
		}
		e, err := ps.parseExpression(true)
		if err != nil {
			return nil, err
		}
		parts[idx] = e
	}
	ps.next()
	if tuple != nil {
		if parts[0] != nil {
			tuple = append(tuple, parts[0])
		}
		return &getitemE{obj: obj, key: &tupleE{items: tuple}, line: line}, nil
	}
	if !isSlice {
		if parts[0] == nil { // x[] is x[()] in jinja2
			return &getitemE{obj: obj, key: &tupleE{}, line: line}, nil
		}
		return &getitemE{obj: obj, key: parts[0], line: line}, nil
	}
	return &sliceE{obj: obj, start: parts[0], stop: parts[1], step: parts[2], line: line}, nil
}

func (ps *parser) parseCallArgs() (args []expr, kwNames []string, kwVals []expr, dynArgs, dynKwargs expr, err error) {
	if err = ps.expectOp("("); err != nil {
		return
	}
	first := true
	for !ps.isOp(")") {
		if !first {
			if err = ps.expectOp(","); err != nil {
				return
			}
			if ps.isOp(")") {
				break
			}
		}
		first = false
		switch {
		case ps.isOp("**"):
			ps.next()
			if dynKwargs, err = ps.parseExpression(true); err != nil {
				return
			}
		case ps.isOp("*"):
			ps.next()
			if dynArgs, err = ps.parseExpression(true); err != nil {
				return
			}
		case ps.cur().kind == tName && ps.peek().kind == tOp && ps.peek().s == "=":
			name := ps.next().s
			ps.next()
			var v expr
			if v, err = ps.parseExpression(true); err != nil {
				return
			}
			kwNames = append(kwNames, name)
			kwVals = append(kwVals, v)
		default:
			if len(kwNames) > 0 {
				err = syntaxErr(ps.cur().line, "Invalid argument syntax (positional argument follows keyword argument)")
				return
			}
			var v expr
			if v, err = ps.parseExpression(true); err != nil {
				return
			}
			args = append(args, v)
		}
	}
	ps.next()
	return
}

func (ps *parser) parseCall(fn expr) (expr, error) {
	line := ps.cur().line
	args, kn, kv, da, dk, err := ps.parseCallArgs()
	if err != nil {
		return nil, err
	}
	return &callE{fn: fn, args: args, kwNames: kn, kwVals: kv, dynArgs: da, dynKwargs: dk, line: line}, nil
}

func (ps *parser) parseFilterCall(obj expr) (*filterE, error) {
	t := ps.cur()
	name, err := ps.expectName()
	if err != nil {
		return nil, err
	}
	for ps.isOp(".") && ps.peek().kind == tName {
		ps.next()
		name += "." + ps.next().s
	}
	f := &filterE{obj: obj, name: name, line: t.line}
	if ps.isOp("(") {
		args, kn, kv, da, dk, err := ps.parseCallArgs()
		if err != nil {
			return nil, err
		}
		if da != nil || dk != nil {
			return nil, syntaxErr(t.line, "*args and **kwargs in filter calls are not supported by this renderer")
		}
		f.args, f.kwNames, f.kwVals = args, kn, kv
	}
	return f, nil
}

func (ps *parser) parseFilterExpr(n expr) (expr, error) {
	for {
		switch {
		case ps.isOp("|"):
			ps.next()
			f, err := ps.parseFilterCall(n)
			if err != nil {
				return nil, err
			}
			n = f
		case ps.isName("is"):
			t := ps.next()
			negate := ps.skipName("not")
			name, err := ps.expectName()
			if err != nil {
				return nil, err
			}
			for ps.isOp(".") && ps.peek().kind == tName {
				ps.next()
				name += "." + ps.next().s
			}
			te := &testE{obj: n, name: name, negate: negate, line: t.line}
			c := ps.cur()
			switch {
			case c.kind == tOp && c.s == "(":
				args, kn, kv, da, dk, err := ps.parseCallArgs()
				if err != nil {
					return nil, err
				}
				if da != nil || dk != nil {
					return nil, syntaxErr(t.line, "*args and **kwargs in tests are not supported by this renderer")
				}
				te.args, te.kwNames, te.kwVals = args, kn, kv
			case (c.kind == tName || c.kind == tString || c.kind == tInt || c.kind == tFloat || (c.kind == tOp && (c.s == "[" || c.s == "{"))) &&
				!(c.kind == tName && (c.s == "else" || c.s == "or" || c.s == "and")):
				if c.kind == tName && c.s == "is" {
					return nil, syntaxErr(c.line, "You cannot chain multiple tests with is")
				}
				arg, err := ps.parsePrimary()
				if err != nil {
					return nil, err
				}
				if arg, err = ps.parsePostfix(arg); err != nil {
					return nil, err
				}
				te.args = []expr{arg}
			}
			n = te
		case ps.isOp("("):
			var err error
			if n, err = ps.parseCall(n); err != nil {
				return nil, err
			}
		default:
			return n, nil
		}
	}
}
