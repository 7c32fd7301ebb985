package chattemplate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexer follows jinja2's with trim_blocks and lstrip_blocks on, as
// Hugging Face configures it: "-" inside a delimiter strips all whitespace on
// that side, "+" turns the trimming off for that tag, a block or comment tag
// alone on its line takes the line's indentation with it, and the first
// newline after a block or comment tag is dropped.

type tokKind int

const (
	tEOF tokKind = iota
	tText
	tVarBegin
	tVarEnd
	tBlockBegin
	tBlockEnd
	tName
	tString
	tInt
	tFloat
	tOp
)

type token struct {
	kind tokKind
	s    string // text, name, operator or decoded string
	i    int64
	f    float64
	line int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tText:
		return "template data"
	case tVarBegin:
		return "'{{'"
	case tVarEnd:
		return "end of print statement"
	case tBlockBegin:
		return "'{%'"
	case tBlockEnd:
		return "end of statement block"
	case tString:
		return "string"
	case tInt, tFloat:
		return "number"
	}
	return "'" + t.s + "'"
}

type lexer struct {
	src  string
	pos  int
	line int
	toks []token
	// lineStarting is jinja2's flag: the text consumed so far ends a line,
	// so a block tag at the start of the next text may be lstripped.
	lineStarting bool
}

func syntaxErr(line int, format string, args ...any) error {
	return &Error{Kind: "TemplateSyntaxError", Line: line, Msg: fmt.Sprintf(format, args...)}
}

func lex(src string) ([]token, error) {
	// Like jinja2 (keep_trailing_newline off): the source is split into
	// lines by Python's str.splitlines and joined with "\n", which
	// normalises every line break and drops one trailing newline.
	src = strings.Join(pySplitlines(src), "\n")
	lx := &lexer{src: src, line: 1, lineStarting: true}
	if err := lx.run(); err != nil {
		return nil, err
	}
	lx.toks = append(lx.toks, token{kind: tEOF, line: lx.line})
	return lx.toks, nil
}

func normalizeNewlines(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func (lx *lexer) emitText(s string) {
	if s != "" {
		lx.toks = append(lx.toks, token{kind: tText, s: normalizeNewlines(s), line: lx.line})
	}
}

func (lx *lexer) advance(n int) {
	lx.line += strings.Count(lx.src[lx.pos:lx.pos+n], "\n")
	lx.pos += n
}

func isAllSpace(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !pySpace(r) {
			return false
		}
	}
	return true
}

func rstripSpace(s string) string { return strings.TrimRightFunc(s, pySpace) }

// matchRawTag matches "{% word %}" (raw or endraw, with optional - and +)
// at the start of s and returns its length, whether it strips whitespace
// before and after, and whether "+%}" keeps the newline after it.
func matchRawTag(s, word string) (n int, stripBefore, stripAfter, keep bool) {
	if !strings.HasPrefix(s, "{%") {
		return 0, false, false, false
	}
	i := 2
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		stripBefore = s[i] == '-'
		i++
	}
	for i < len(s) && pySpace(rune(s[i])) {
		i++
	}
	if !strings.HasPrefix(s[i:], word) {
		return 0, false, false, false
	}
	i += len(word)
	for i < len(s) && pySpace(rune(s[i])) {
		i++
	}
	switch {
	case strings.HasPrefix(s[i:], "-%}"):
		return i + 3, stripBefore, true, false
	case strings.HasPrefix(s[i:], "+%}"):
		return i + 3, stripBefore, false, true
	case strings.HasPrefix(s[i:], "%}"):
		return i + 2, stripBefore, false, false
	}
	return 0, false, false, false
}

func (lx *lexer) run() error {
	for lx.pos < len(lx.src) {
		rest := lx.src[lx.pos:]
		idx := -1
		for i := 0; i+1 < len(rest); i++ {
			if rest[i] == '{' && (rest[i+1] == '{' || rest[i+1] == '%' || rest[i+1] == '#') {
				idx = i
				break
			}
		}
		if idx < 0 {
			lx.emitText(rest)
			lx.advance(len(rest))
			return nil
		}
		text := rest[:idx]
		kind := rest[idx+1]
		mod := byte(0)
		if idx+2 < len(rest) && (rest[idx+2] == '-' || rest[idx+2] == '+') {
			mod = rest[idx+2]
		}
		if mod == '-' {
			text = rstripSpace(text)
		} else if kind != '{' && mod != '+' {
			lpos := strings.LastIndexByte(text, '\n') + 1
			if (lpos > 0 || lx.lineStarting) && isAllSpace(text[lpos:]) {
				text = text[:lpos]
			}
		}
		lx.emitText(text)
		lx.advance(idx)
		opener := 2
		if mod != 0 {
			opener = 3
		}
		switch kind {
		case '#':
			end := strings.Index(lx.src[lx.pos+opener:], "#}")
			if end < 0 {
				return syntaxErr(lx.line, "Missing end of comment tag")
			}
			body := lx.src[lx.pos+opener : lx.pos+opener+end]
			n := opener + end + 2
			switch {
			case strings.HasSuffix(body, "-"):
				n += len(lx.src[lx.pos+n:]) - len(strings.TrimLeftFunc(lx.src[lx.pos+n:], pySpace))
			case strings.HasSuffix(body, "+"):
			default:
				if strings.HasPrefix(lx.src[lx.pos+n:], "\n") {
					n++
				}
			}
			lx.lineStarting = lx.src[lx.pos+n-1] == '\n'
			lx.advance(n)
		case '%':
			if n, _, stripAfter, keep := matchRawTag(lx.src[lx.pos:], "raw"); n > 0 {
				if err := lx.raw(n, stripAfter, keep); err != nil {
					return err
				}
				continue
			}
			lx.toks = append(lx.toks, token{kind: tBlockBegin, line: lx.line})
			lx.advance(opener)
			if err := lx.inside("%}", tBlockEnd); err != nil {
				return err
			}
		case '{':
			lx.toks = append(lx.toks, token{kind: tVarBegin, line: lx.line})
			lx.advance(opener)
			if err := lx.inside("}}", tVarEnd); err != nil {
				return err
			}
		}
	}
	return nil
}

func (lx *lexer) raw(n int, stripAfter, keep bool) error {
	lx.advance(n)
	if stripAfter {
		lx.advance(len(lx.src[lx.pos:]) - len(strings.TrimLeftFunc(lx.src[lx.pos:], pySpace)))
	} else if !keep && strings.HasPrefix(lx.src[lx.pos:], "\n") {
		lx.advance(1)
	}
	for i := lx.pos; i < len(lx.src); i++ {
		if m, stripBefore, stripA, keepA := matchRawTag(lx.src[i:], "endraw"); m > 0 {
			body := lx.src[lx.pos:i]
			if stripBefore {
				body = rstripSpace(body)
			}
			lx.emitText(body)
			lx.advance(i - lx.pos + m)
			switch {
			case stripA:
				lx.advance(len(lx.src[lx.pos:]) - len(strings.TrimLeftFunc(lx.src[lx.pos:], pySpace)))
			case !keepA && strings.HasPrefix(lx.src[lx.pos:], "\n"):
				lx.advance(1)
			}
			lx.lineStarting = lx.pos > 0 && lx.src[lx.pos-1] == '\n'
			return nil
		}
	}
	return syntaxErr(lx.line, "Missing end of raw directive")
}

var operators = []string{"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"}

// inside lexes the expression tokens of a tag up to its closing delimiter.
func (lx *lexer) inside(closer string, endKind tokKind) error {
	depth := 0 // like jinja2, a closing delimiter only counts outside brackets
	for {
		for lx.pos < len(lx.src) && pySpaceByte(lx.src[lx.pos]) {
			lx.advance(1)
		}
		rest := lx.src[lx.pos:]
		if rest == "" {
			return syntaxErr(lx.line, "unexpected end of template, expected %q", closer)
		}
		// The end delimiter, with its whitespace control.
		switch {
		case depth > 0:
		case strings.HasPrefix(rest, "-"+closer):
			n := 1 + len(closer)
			n += len(rest[n:]) - len(strings.TrimLeftFunc(rest[n:], pySpace))
			lx.lineStarting = n > 0 && rest[n-1] == '\n'
			lx.toks = append(lx.toks, token{kind: endKind, line: lx.line})
			lx.advance(n)
			return nil
		case endKind == tBlockEnd && strings.HasPrefix(rest, "+"+closer):
			lx.toks = append(lx.toks, token{kind: endKind, line: lx.line})
			lx.lineStarting = false
			lx.advance(1 + len(closer))
			return nil
		case strings.HasPrefix(rest, closer):
			n := len(closer)
			if endKind == tBlockEnd && strings.HasPrefix(rest[n:], "\n") {
				n++
			}
			lx.lineStarting = rest[n-1] == '\n'
			lx.toks = append(lx.toks, token{kind: endKind, line: lx.line})
			lx.advance(n)
			return nil
		}
		c := rest[0]
		switch {
		case c == '\'' || c == '"':
			s, n, err := lexString(rest)
			if err != nil {
				return syntaxErr(lx.line, "%v", err)
			}
			lx.toks = append(lx.toks, token{kind: tString, s: s, line: lx.line})
			lx.advance(n)
		case c >= '0' && c <= '9':
			t, n := lexNumber(rest)
			t.line = lx.line
			lx.toks = append(lx.toks, t)
			lx.advance(n)
		case c == '_' || (c < utf8.RuneSelf && unicode.IsLetter(rune(c))) || c >= utf8.RuneSelf:
			n := 0
			for n < len(rest) {
				r, sz := utf8.DecodeRuneInString(rest[n:])
				if r == '_' || unicode.IsLetter(r) || (n > 0 && unicode.IsDigit(r)) {
					n += sz
					continue
				}
				break
			}
			if n == 0 {
				return syntaxErr(lx.line, "unexpected char %q", rest[:1])
			}
			lx.toks = append(lx.toks, token{kind: tName, s: rest[:n], line: lx.line})
			lx.advance(n)
		default:
			matched := false
			for _, op := range operators {
				if strings.HasPrefix(rest, op) {
					switch op {
					case "(", "[", "{":
						depth++
					case ")", "]", "}":
						if depth > 0 {
							depth--
						}
					}
					lx.toks = append(lx.toks, token{kind: tOp, s: op, line: lx.line})
					lx.advance(len(op))
					matched = true
					break
				}
			}
			if !matched {
				r, _ := utf8.DecodeRuneInString(rest)
				return syntaxErr(lx.line, "unexpected char %q", r)
			}
		}
	}
}

func pySpaceByte(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)
}

// lexNumber reads an integer or float literal (underscores allowed between digits).
func lexNumber(s string) (token, int) {
	digits := func(i int) int {
		start := i
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || (s[i] == '_' && i > start && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9')) {
			i++
		}
		return i
	}
	n := digits(0)
	isFloat := false
	if n+1 < len(s) && s[n] == '.' && s[n+1] >= '0' && s[n+1] <= '9' {
		n = digits(n + 1)
		isFloat = true
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		j := n + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			n = digits(j)
			isFloat = true
		}
	}
	lit := strings.ReplaceAll(s[:n], "_", "")
	if isFloat {
		f, _ := strconv.ParseFloat(lit, 64)
		return token{kind: tFloat, f: f, s: s[:n]}, n
	}
	i, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		f, _ := strconv.ParseFloat(lit, 64)
		return token{kind: tFloat, f: f, s: s[:n]}, n
	}
	return token{kind: tInt, i: i, s: s[:n]}, n
}

// lexString reads a quoted literal and decodes Python's escapes the way
// jinja2 does (unicode-escape; unknown escapes stay as written).
func lexString(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == q:
			return normalizeNewlines(b.String()), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			e := s[i]
			switch e {
			case '\n':
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'a':
				b.WriteByte(7)
			case 'b':
				b.WriteByte(8)
			case 'f':
				b.WriteByte(12)
			case 'v':
				b.WriteByte(11)
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if i+1+n > len(s) {
					return "", 0, fmt.Errorf("truncated \\%c escape in string literal", e)
				}
				v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
				if err != nil || v > unicode.MaxRune {
					return "", 0, fmt.Errorf("invalid \\%c escape in string literal", e)
				}
				b.WriteRune(rune(v))
				i += n
			case '0', '1', '2', '3', '4', '5', '6', '7':
				j := i
				for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(s[i:j], 8, 32)
				b.WriteRune(rune(v))
				i = j - 1
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, fmt.Errorf("unterminated string literal")
}
