package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The header grammar, a subset of JSON:
//
//	header   = ws "{" ws [ member *( ws "," ws member ) ] ws "}" ws
//	member   = string ws ":" ws ( entry | metadata )   ; metadata under "__metadata__"
//	entry    = "{" [ field *( "," field ) ] "}"        ; dtype, shape, data_offsets, each once
//	metadata = "null" | "{" [ string ":" (string | "null") *( "," ... ) ] "}"
//
// Anything else (unknown fields, nested arrays, numbers that are not
// integers) is an error. A scanner for this grammar allocates only the names,
// the dtype strings of unknown types, the shapes and the metadata strings,
// where a general JSON decoder built a tree of the whole header first (40
// bytes per header byte for small entries).

// hdrScanner reads a header.
type hdrScanner struct {
	b []byte
	i int
}

var errHeaderEnd = errors.New("unexpected end of the header")

func (s *hdrScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (s *hdrScanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *hdrScanner) errAt(format string, a ...any) error {
	return fmt.Errorf("at byte %d: %s", s.i, fmt.Sprintf(format, a...))
}

func (s *hdrScanner) unexpected(want string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("%w (want %s)", errHeaderEnd, want)
	}
	return s.errAt("invalid character %q, want %s", s.b[s.i], want)
}

func (s *hdrScanner) expect(c byte) error {
	if s.peek() != c {
		return s.unexpected(strconv.QuoteRune(rune(c)))
	}
	s.i++
	return nil
}

// literal consumes word (null) if it comes next.
func (s *hdrScanner) literal(word string) bool {
	s.ws()
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// str reads a JSON string. Without escapes it is one allocation of its
// length; with escapes encoding/json decodes just this string.
func (s *hdrScanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.unexpected("a string")
	}
	start := s.i
	s.i++
	escaped := false
	for {
		if s.i >= len(s.b) {
			return "", errHeaderEnd
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !escaped {
				return string(s.b[start+1 : s.i-1]), nil
			}
			var v string
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				return "", fmt.Errorf("at byte %d: bad string: %w", start, err)
			}
			return v, nil
		case c == '\\':
			escaped = true
			s.i += 2
		case c < 0x20:
			return "", s.errAt("control character %#02x in a string", c)
		default:
			s.i++
		}
	}
}

// integer reads a JSON number that must be an integer that fits int64.
func (s *hdrScanner) integer() (int64, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits {
		return 0, s.unexpected("an integer")
	}
	if s.b[digits] == '0' && s.i-digits > 1 {
		return 0, fmt.Errorf("at byte %d: number %s has a leading zero", start, s.b[start:s.i])
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		end := s.i + 1
		for end < len(s.b) && (s.b[end] >= '0' && s.b[end] <= '9' || s.b[end] == '+' || s.b[end] == '-') {
			end++
		}
		return 0, fmt.Errorf("at byte %d: number %s is not an integer", start, s.b[start:end])
	}
	v, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("at byte %d: number %s does not fit in 64 bits", start, s.b[start:s.i])
	}
	return v, nil
}

// ints reads null (ok false) or an array of integers, of which it keeps at
// most limit; n is how many there were.
func (s *hdrScanner) ints(limit int) (v []int64, n int, ok bool, err error) {
	if s.literal("null") {
		return nil, 0, false, nil
	}
	if err := s.expect('['); err != nil {
		return nil, 0, false, err
	}
	v = []int64{}
	if s.peek() == ']' {
		s.i++
		return v, 0, true, nil
	}
	for {
		x, err := s.integer()
		if err != nil {
			return nil, 0, false, err
		}
		if n++; n <= limit {
			v = append(v, x)
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return v, n, true, nil
		default:
			return nil, 0, false, s.unexpected(`"," or "]"`)
		}
	}
}

// knownDType returns the constant string of a dtype the package knows, so
// that a header of a million entries does not hold a million copies of "F32".
func knownDType(b []byte) (string, bool) {
	for _, d := range [...]string{"F64", "I64", "U64", "F32", "I32", "U32", "F16", "BF16", "I16", "U16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2"} {
		if string(b) == d {
			return d, true
		}
	}
	return "", false
}

// entryError marks an error in a tensor's entry (wrong types, unknown or
// repeated fields) as opposed to a syntax error of the header.
type entryError struct {
	name   string
	err    error
	syntax bool // a "bad header entry" rather than a bad value
}

func (e *entryError) Error() string {
	if e.syntax {
		return fmt.Sprintf("tensor %q: bad header entry: %v", e.name, e.err)
	}
	return fmt.Sprintf("tensor %q: %v", e.name, e.err)
}

// metaError is an __metadata__ value that is not a string map.
type metaError struct{ err error }

func (e *metaError) Error() string { return fmt.Sprintf("__metadata__ is not a string map: %v", e.err) }

// entry reads one tensor's entry object.
func (s *hdrScanner) entry(name string) (headerEntry, error) {
	e := headerEntry{name: name}
	bad := func(err error) (headerEntry, error) { return e, &entryError{name, err, true} }
	if s.peek() != '{' {
		if s.i >= len(s.b) {
			return e, errHeaderEnd
		}
		return bad(s.errAt("want an object, got %q", s.b[s.i]))
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return e, nil
	}
	var seen [3]bool
	for {
		key, err := s.str()
		if err != nil {
			return e, err
		}
		if err := s.expect(':'); err != nil {
			return e, err
		}
		field := -1
		switch key {
		case "dtype":
			field = 0
		case "shape":
			field = 1
		case "data_offsets":
			field = 2
		default:
			return bad(fmt.Errorf("unknown field %q", key))
		}
		if seen[field] {
			return e, fmt.Errorf("key %q appears twice in entry %q", key, name)
		}
		seen[field] = true
		switch field {
		case 0:
			if s.literal("null") {
				break
			}
			if s.peek() != '"' {
				return bad(s.errAt(`"dtype" must be a string`))
			}
			start := s.i
			d, err := s.str()
			if err != nil {
				return e, err
			}
			if k, ok := knownDType(s.b[start+1 : s.i-1]); ok {
				d = k
			}
			e.dtype, e.hasDType = d, true
		case 1:
			var n int
			var dims []int64
			if dims, n, e.hasShape, err = s.ints(MaxDims); err != nil {
				return bad(fmt.Errorf("shape: %w", err))
			}
			if n > MaxDims {
				return e, &entryError{name, fmt.Errorf("%d dimensions exceed the limit of %d", n, MaxDims), false}
			}
			if e.hasShape {
				e.shape = make([]int, len(dims))
				for k, d := range dims {
					e.shape[k] = int(d) // int is 64 bits wide on every platform that maps models
				}
			}
		case 2:
			var n int
			if e.offsets, n, e.hasOffs, err = s.ints(2); err != nil {
				return bad(fmt.Errorf("data_offsets: %w", err))
			}
			if e.hasOffs && n != 2 {
				return e, &entryError{name, fmt.Errorf("data_offsets must hold two numbers [begin, end], got %d", n), false}
			}
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return e, nil
		default:
			return e, s.unexpected(`"," or "}"`)
		}
	}
}

// metadata reads the __metadata__ value: null or an object of strings.
func (s *hdrScanner) metadata(into map[string]string) error {
	notMap := func(err error) error { return &metaError{err} }
	if s.literal("null") {
		return nil
	}
	if s.peek() != '{' {
		if s.i >= len(s.b) {
			return errHeaderEnd
		}
		return notMap(s.errAt("want an object"))
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if _, dup := into[k]; dup {
			return fmt.Errorf("key %q appears twice in entry %q", k, "__metadata__")
		}
		if len(into) == MaxMetadata {
			return &metaError{fmt.Errorf("more than %d keys", MaxMetadata)}
		}
		v := ""
		if !s.literal("null") {
			if s.peek() != '"' {
				return notMap(s.errAt("value of %q is not a string", k))
			}
			if v, err = s.str(); err != nil {
				return err
			}
		}
		into[k] = v
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.unexpected(`"," or "}"`)
		}
	}
}

// scanHeader reads a whole header: the tensor entries in file order and the
// metadata into meta. It refuses a header of more than MaxTensors entries
// when it meets entry MaxTensors+1, before storing it.
func scanHeader(b []byte, meta map[string]string) ([]headerEntry, error) {
	s := &hdrScanner{b: b}
	syntax := func(err error) ([]headerEntry, error) {
		var ee *entryError
		var me *metaError
		if errors.As(err, &ee) || errors.As(err, &me) {
			return nil, err
		}
		return nil, fmt.Errorf("bad JSON header: %w", err)
	}
	if s.peek() != '{' {
		return nil, errors.New("bad JSON header: the header must be a JSON object")
	}
	s.i++
	// Every entry needs a "data_offsets" key, so counting the string bounds
	// the entries without parsing and lets one allocation hold them all.
	entries := make([]headerEntry, 0, min(bytes.Count(b, []byte(`"data_offsets"`)), MaxTensors)+1)
	sawMeta := false
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			name, err := s.str()
			if err != nil {
				return syntax(err)
			}
			if err := s.expect(':'); err != nil {
				return syntax(err)
			}
			if name == "__metadata__" {
				if sawMeta {
					return syntax(fmt.Errorf("tensor %q appears twice", name))
				}
				sawMeta = true
				if err := s.metadata(meta); err != nil {
					return syntax(err)
				}
			} else {
				if len(entries) == MaxTensors {
					return nil, fmt.Errorf("more than %d header entries exceed the limit", MaxTensors)
				}
				e, err := s.entry(name)
				if err != nil {
					return syntax(err)
				}
				entries = append(entries, e)
			}
			c := s.peek()
			if c == ',' {
				s.i++
				continue
			}
			if c == '}' {
				s.i++
				break
			}
			return syntax(s.unexpected(`"," or "}"`))
		}
	}
	if s.ws(); s.i < len(s.b) {
		return syntax(s.errAt("invalid character %q after top-level value", s.b[s.i]))
	}
	return entries, nil
}
