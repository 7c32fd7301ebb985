package cvoice

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// MaxLineBytes is the longest JSONL line accepted, its newline included
// (16 MiB): items are paragraphs, so a longer line means a broken file, not
// a long story. It is the one line limit of the project's JSONL: ReadJSONL
// (so record, evaluate and every other reader of items) refuses longer
// lines, and WriteJSONL and the xlsx import refuse items whose line would
// be longer, so nothing is written that the readers then refuse. The
// tokenize command's --jsonl reader should use it too.
//
// Memory: ReadJSONL holds one line (at most MaxLineBytes, in a buffer that
// grows to it) and that line's decoded fields (at most about twice the
// line) beyond the items it returns and their ids (a few times the bytes
// of the lines they came from); it keeps at most MaxReportedErrors errors
// and counts the rest. So its peak heap stays under about 4 × the input
// + 4 × MaxLineBytes.
const MaxLineBytes = 16 << 20

// ErrLineTooLong is returned (wrapped) for an item whose JSONL line would
// exceed MaxLineBytes.
var ErrLineTooLong = errors.New("JSONL line too long")

// checkLineLength reports whether the item's JSONL line (with newline)
// fits in MaxLineBytes.
func checkLineLength(it Item) error {
	// JSON escaping at most sextuples a byte ("\u0000"), so short items
	// need no encoding to be sure.
	n := len(it.ID) + len(it.Conflict) + len(it.Context) + len(it.Aligned) + len(it.Violating) + len(it.Rationale) + len(it.Source)
	if 6*n+1024 <= MaxLineBytes {
		return nil
	}
	var buf bytes.Buffer
	if err := encodeItem(&buf, it); err != nil {
		return err
	}
	if buf.Len() > MaxLineBytes {
		return fmt.Errorf("%w: its JSONL line would be %d bytes, over the %d that record, evaluate and every JSONL reader accept", ErrLineTooLong, buf.Len(), MaxLineBytes)
	}
	return nil
}

// The schema's fields, in the order they are written.
const (
	fieldID          = "id"
	fieldValue       = "value"
	fieldLanguage    = "language"
	fieldSplit       = "split"
	fieldConflict    = "conflict"
	fieldContext     = "context"
	fieldAligned     = "aligned"
	fieldViolating   = "violating"
	fieldRationale   = "rationale"
	fieldNoRationale = "no_rationale"
	fieldSource      = "source"
)

var requiredFields = []string{fieldID, fieldValue, fieldLanguage, fieldSplit, fieldConflict, fieldContext, fieldAligned, fieldViolating}

// wireItem is the JSON form; field order here is the order written.
type wireItem struct {
	ID          string `json:"id"`
	Value       string `json:"value"`
	Language    string `json:"language"`
	Split       string `json:"split"`
	Conflict    string `json:"conflict"`
	Context     string `json:"context"`
	Aligned     string `json:"aligned"`
	Violating   string `json:"violating"`
	Rationale   string `json:"rationale,omitempty"`
	NoRationale bool   `json:"no_rationale,omitempty"`
	Source      string `json:"source,omitempty"`
}

// MarshalJSON writes the item in the canonical schema; the value is named in
// the item's language (诚信 for zh, "Integrity" for en).
func (it Item) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeItem(&buf, it); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// UnmarshalJSON parses and strictly validates one item in the canonical
// schema; the error lists every problem found.
func (it *Item) UnmarshalJSON(data []byte) error {
	parsed, errs := parseItem(data)
	if len(errs) > 0 {
		return joinErrors(errs)
	}
	*it = parsed
	return nil
}

func encodeItem(w io.Writer, it Item) error {
	enc := json.NewEncoder(w)
	// Stories contain "<" and "&"; keep them readable.
	enc.SetEscapeHTML(false)
	return enc.Encode(wireItem{
		ID: it.ID, Value: it.Value.Name(it.Language), Language: string(it.Language), Split: string(it.Split),
		Conflict: it.Conflict, Context: it.Context, Aligned: it.Aligned, Violating: it.Violating,
		Rationale: it.Rationale, NoRationale: it.NoRationale, Source: it.Source,
	})
}

// parseItem decodes one JSON object strictly: exact field names, no
// duplicates, strings where strings belong, known value/language/split.
func parseItem(line []byte) (Item, []error) {
	var it Item
	if !utf8.Valid(line) {
		return it, []error{errors.New("invalid UTF-8")}
	}
	fields, order, err := decodeObject(line)
	if err != nil {
		return it, []error{err}
	}
	var errs []error
	reported := map[string]bool{}
	fail := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
		reported[field] = true
	}
	for _, k := range order {
		switch k {
		case fieldID, fieldValue, fieldLanguage, fieldSplit, fieldConflict, fieldContext,
			fieldAligned, fieldViolating, fieldRationale, fieldNoRationale, fieldSource:
		default:
			fail(k, "unknown field")
		}
	}
	str := func(field string) string {
		raw, ok := fields[field]
		if !ok {
			return ""
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			fail(field, "want a string, got %s", abbreviate(string(raw)))
			return ""
		}
		return s
	}
	for _, f := range requiredFields {
		if _, ok := fields[f]; !ok {
			fail(f, "missing")
		}
	}
	it.ID = str(fieldID)
	it.Language = Language(str(fieldLanguage))
	it.Split = Split(str(fieldSplit))
	it.Conflict = str(fieldConflict)
	it.Context = str(fieldContext)
	it.Aligned = str(fieldAligned)
	it.Violating = str(fieldViolating)
	it.Rationale = str(fieldRationale)
	it.Source = str(fieldSource)
	if _, ok := fields[fieldSource]; ok && !reported[fieldSource] && strings.TrimSpace(it.Source) == "" {
		fail(fieldSource, "empty (omit the field instead)")
	}
	if raw, ok := fields[fieldNoRationale]; ok {
		if err := json.Unmarshal(raw, &it.NoRationale); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			fail(fieldNoRationale, "want true or false, got %s", abbreviate(string(raw)))
		}
	}
	if name := str(fieldValue); !reported[fieldValue] {
		v, ok := LookupValue(name)
		switch {
		case strings.TrimSpace(name) == "":
			fail(fieldValue, "empty")
		case !ok:
			fail(fieldValue, "unknown value %q (want one of %s)", name, valueNames())
		default:
			it.Value = v
		}
	}
	errs = append(errs, it.problems(reported)...)
	return it, errs
}

// maxObjectFields bounds the fields of one item object (the schema has
// 11), so a line of a million tiny fields costs neither a million map
// entries nor a million "unknown field" errors.
const maxObjectFields = 64

// decodeObject reads one JSON object into its raw fields, refusing
// duplicate keys (encoding/json would silently keep the last) and anything
// after the closing brace.
func decodeObject(line []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errors.New("not a JSON object")
	}
	fields := map[string]json.RawMessage{}
	var order []string
	for dec.More() {
		if len(order) >= maxObjectFields {
			return nil, nil, fmt.Errorf("more than %d fields", maxObjectFields)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("bad JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, errors.New("bad JSON: object key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("field %q: bad JSON: %w", key, err)
		}
		if _, dup := fields[key]; dup {
			return nil, nil, &FieldError{Field: key, Msg: "appears twice"}
		}
		fields[key] = raw
		order = append(order, key)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("bad JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("bad JSON: data after the object")
	}
	return fields, order, nil
}

func abbreviate(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// ReadJSONL reads items, one JSON object per line, validating each strictly
// and checking ids are unique. name labels errors ("data.jsonl:17: ...").
// Blank lines are skipped and a leading UTF-8 byte-order mark is ignored. It
// reports up to MaxReportedErrors problems at once.
func ReadJSONL(r io.Reader, name string) ([]Item, error) {
	return readJSONL(r, name, map[string]string{})
}

// readJSONL is ReadJSONL with ids seen in earlier files (id → "file:line").
func readJSONL(r io.Reader, name string, seen map[string]string) ([]Item, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	var items []Item
	var errs errorList
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Bytes()
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		it, problems := parseItem(line)
		for _, p := range problems {
			errs.add(&LineError{File: name, Line: lineNo, Err: p})
		}
		if it.ID != "" {
			if first, dup := seen[it.ID]; dup {
				errs.add(&LineError{File: name, Line: lineNo, Err: &FieldError{Field: fieldID, Msg: fmt.Sprintf("duplicate id %q (first at %s)", it.ID, first)}})
			} else {
				seen[it.ID] = fmt.Sprintf("%s:%d", name, lineNo)
			}
		}
		if len(problems) == 0 && errs.len() == 0 {
			items = append(items, it)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("%w: over %d bytes", ErrLineTooLong, MaxLineBytes)
		}
		errs.add(&LineError{File: name, Line: lineNo + 1, Err: err})
	}
	if errs.len() > 0 {
		return nil, errs.err()
	}
	return items, nil
}

// ReadJSONLFile reads a JSONL file; errors carry its path and line.
func ReadJSONLFile(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cvoice: %w", err)
	}
	defer f.Close()
	return ReadJSONL(f, path)
}

// WriteJSONL validates items and writes them one per line in the canonical
// field order. Nothing is written when any item is invalid or ids repeat.
func WriteJSONL(w io.Writer, items []Item) error {
	if err := checkItems(items); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for i, it := range items {
		if err := encodeItem(bw, it); err != nil {
			return fmt.Errorf("cvoice: item %d (id %q): %w", i, it.ID, err)
		}
	}
	return bw.Flush()
}

// WriteJSONLFile writes items to path (created or truncated).
func WriteJSONLFile(path string, items []Item) error {
	if err := checkItems(items); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cvoice: %w", err)
	}
	if err := WriteJSONL(f, items); err != nil {
		f.Close()
		return fmt.Errorf("cvoice: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cvoice: %s: %w", path, err)
	}
	return nil
}

// checkItems validates items and id uniqueness, naming items by position.
func checkItems(items []Item) error {
	var errs []error
	seen := make(map[string]int, len(items))
	for i, it := range items {
		for _, p := range it.problems(nil) {
			errs = append(errs, fmt.Errorf("item %d (id %q): %w", i, it.ID, p))
		}
		if err := checkLineLength(it); err != nil {
			errs = append(errs, fmt.Errorf("item %d (id %q): %w", i, it.ID, err))
		}
		if first, dup := seen[it.ID]; dup && it.ID != "" {
			errs = append(errs, fmt.Errorf("item %d: %w", i, &FieldError{Field: fieldID, Msg: fmt.Sprintf("duplicate id %q (first at item %d)", it.ID, first)}))
		} else {
			seen[it.ID] = i
		}
	}
	return joinErrors(errs)
}
