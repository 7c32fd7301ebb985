// Package safetensors reads and writes the safetensors file format: an 8-byte
// little-endian header length, a JSON header mapping tensor names to dtype,
// shape and byte offsets (plus an optional "__metadata__" string map), then
// the raw little-endian tensor bytes.
//
// Parse works on a byte slice (typically a memory map) and never copies tensor
// data. Every tensor's byte range is checked against the file and against its
// shape and dtype, ranges may not overlap, and every count is bounded, so a
// corrupt or hostile file gives an error, never a panic.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Limits on what Parse accepts.
const (
	MaxHeaderBytes = 100 << 20 // 100 MiB of JSON header
	MaxDims        = 8
	MaxTensors     = 1 << 20
)

// TensorInfo is one tensor of a parsed file.
type TensorInfo struct {
	Name  string
	DType string // "F32", "F16", "BF16", "I64", ...
	Shape []int
	Data  []byte // aliases the parsed buffer
}

// File is a parsed safetensors file.
type File struct {
	Tensors  []TensorInfo // in data-offset order
	Metadata map[string]string
	byName   map[string]int
}

// Tensor returns the named tensor.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// ElemSize returns the byte size of one element of a safetensors dtype, or 0
// for an unknown one.
func ElemSize(dtype string) int {
	switch dtype {
	case "F64", "I64", "U64":
		return 8
	case "F32", "I32", "U32":
		return 4
	case "F16", "BF16", "I16", "U16":
		return 2
	case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2":
		return 1
	}
	return 0
}

// headerEntry is one tensor's header entry. The fields are pointers so that a
// missing field is an error instead of a silent zero.
type headerEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// maxHeaderDepth bounds JSON nesting in a header: a valid one nests three
// deep (header object, entry object, shape array).
const maxHeaderDepth = 16

// Parse parses a whole safetensors file held in b.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes is too short for the header length", len(b))
	}
	hlen := binary.LittleEndian.Uint64(b[:8])
	if hlen > MaxHeaderBytes {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", hlen, MaxHeaderBytes)
	}
	if uint64(len(b)-8) < hlen {
		return nil, fmt.Errorf("safetensors: header length %d runs past the end of the %d-byte file", hlen, len(b))
	}
	header := b[8 : 8+hlen]
	data := b[8+hlen:]
	if !utf8.Valid(header) {
		// encoding/json would replace bad bytes with U+FFFD, and two
		// different names could then collide.
		return nil, errors.New("safetensors: bad JSON header: not valid UTF-8")
	}
	if i := bytes.IndexFunc(header, func(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\r' }); i < 0 || header[i] != '{' {
		return nil, errors.New("safetensors: bad JSON header: the header must be a JSON object")
	}
	// Unmarshal checks the whole header, so data after the object (other
	// than the space padding) is an error too.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: bad JSON header: %w", err)
	}
	if err := checkDuplicateKeys(header); err != nil {
		return nil, fmt.Errorf("safetensors: bad JSON header: %w", err)
	}
	if len(raw) > MaxTensors {
		return nil, fmt.Errorf("safetensors: %d header entries exceed the limit of %d", len(raw), MaxTensors)
	}
	f := &File{Metadata: map[string]string{}, byName: map[string]int{}}
	type span struct{ lo, hi int64 }
	var spans []span
	// Check entries in name order so that the error for a broken file is
	// always the same one.
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		msg := raw[name]
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__ is not a string map: %w", err)
			}
			continue
		}
		var e headerEntry
		d := json.NewDecoder(bytes.NewReader(msg))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: bad header entry: %w", name, err)
		}
		ti, lo, hi, err := checkEntry(name, e, data)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		f.Tensors = append(f.Tensors, ti)
		spans = append(spans, span{lo, hi})
	}
	// Sort by offset to detect overlaps and give a stable order.
	idx := make([]int, len(f.Tensors))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		if spans[idx[a]].lo != spans[idx[b]].lo {
			return spans[idx[a]].lo < spans[idx[b]].lo
		}
		return f.Tensors[idx[a]].Name < f.Tensors[idx[b]].Name
	})
	sorted := make([]TensorInfo, len(idx))
	var maxHi int64
	maxName := ""
	for i, j := range idx {
		sorted[i] = f.Tensors[j]
		cur := spans[j]
		if cur.hi > cur.lo {
			if cur.lo < maxHi {
				return nil, fmt.Errorf("safetensors: tensor %q (bytes %d..%d) overlaps tensor %q (ending at byte %d)", sorted[i].Name, cur.lo, cur.hi, maxName, maxHi)
			}
			maxHi, maxName = cur.hi, sorted[i].Name
		}
		f.byName[sorted[i].Name] = i
	}
	f.Tensors = sorted
	return f, nil
}

// checkDuplicateKeys scans a header that encoding/json has already accepted
// and rejects a key that appears twice in one object: encoding/json keeps the
// last value silently, so two readers could disagree about a tensor. It also
// bounds the nesting depth. A byte scan is used because json.Decoder.Token
// allocates for every token, which made opening a large model several times
// slower.
func checkDuplicateKeys(header []byte) error {
	type frame struct {
		object    bool
		expectKey bool
		name      string   // the key this container is the value of
		keys      []string // small objects: searched linearly
		set       map[string]bool
	}
	var stack []frame
	lastKey := ""
	for i := 0; i < len(header); i++ {
		switch c := header[i]; c {
		case '{', '[':
			if len(stack) >= maxHeaderDepth {
				return fmt.Errorf("nested deeper than %d levels", maxHeaderDepth)
			}
			stack = append(stack, frame{object: c == '{', expectKey: c == '{', name: lastKey})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := &stack[len(stack)-1]; top.object {
				top.expectKey = true
			}
		case '"':
			j := i + 1
			for j < len(header) && header[j] != '"' {
				if header[j] == '\\' {
					j++
				}
				j++
			}
			top := &stack[len(stack)-1]
			if top.object && top.expectKey {
				key := string(header[i+1 : j])
				if bytes.IndexByte(header[i+1:j], '\\') >= 0 {
					// Escapes: compare the decoded key, as json does.
					if err := json.Unmarshal(header[i:j+1], &key); err != nil {
						return err
					}
				}
				if seen(top.keys, top.set, key) {
					if len(stack) == 1 {
						return fmt.Errorf("tensor %q appears twice", key)
					}
					return fmt.Errorf("key %q appears twice in entry %q", key, stack[1].name)
				}
				if top.set != nil {
					top.set[key] = true
				} else if top.keys = append(top.keys, key); len(top.keys) > 16 {
					top.set = map[string]bool{}
					for _, k := range top.keys {
						top.set[k] = true
					}
				}
				top.expectKey = false
				lastKey = key
			}
			i = j
		}
	}
	return nil
}

func seen(keys []string, set map[string]bool, key string) bool {
	if set != nil {
		return set[key]
	}
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

func checkEntry(name string, e headerEntry, data []byte) (ti TensorInfo, lo, hi int64, err error) {
	switch {
	case e.DType == nil:
		return ti, 0, 0, errors.New(`header entry has no "dtype"`)
	case e.Shape == nil:
		return ti, 0, 0, errors.New(`header entry has no "shape"`)
	case e.DataOffsets == nil:
		return ti, 0, 0, errors.New(`header entry has no "data_offsets"`)
	}
	dtype, dims, offs := *e.DType, *e.Shape, *e.DataOffsets
	size := ElemSize(dtype)
	if size == 0 {
		return ti, 0, 0, fmt.Errorf("unknown dtype %q", dtype)
	}
	if len(dims) > MaxDims {
		return ti, 0, 0, fmt.Errorf("%d dimensions exceed the limit of %d", len(dims), MaxDims)
	}
	n := int64(1)
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d < 0 {
			return ti, 0, 0, fmt.Errorf("negative dimension %d in shape %v", d, dims)
		}
		if d != 0 && n > math.MaxInt64/8/d {
			return ti, 0, 0, fmt.Errorf("shape %v overflows", dims)
		}
		n *= d
		shape[i] = int(d)
	}
	if len(offs) != 2 {
		return ti, 0, 0, fmt.Errorf("data_offsets %v must hold two numbers [begin, end]", offs)
	}
	lo, hi = offs[0], offs[1]
	if lo < 0 || hi < lo || hi > int64(len(data)) {
		return ti, 0, 0, fmt.Errorf("data offsets [%d, %d) outside the %d-byte data section", lo, hi, len(data))
	}
	if hi-lo != n*int64(size) {
		return ti, 0, 0, fmt.Errorf("%s shape %v needs %d bytes, data offsets give %d", dtype, dims, n*int64(size), hi-lo)
	}
	return TensorInfo{Name: name, DType: dtype, Shape: shape, Data: data[lo:hi:hi]}, lo, hi, nil
}

// Tensor is one tensor to write.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// Write writes tensors (in the order given) and metadata as a safetensors file.
// The header is padded with spaces to a multiple of 8 bytes, as the reference
// implementation does, so the data section stays aligned.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	var hb bytes.Buffer
	hb.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			hb.WriteByte(',')
		}
		first = false
	}
	if len(metadata) > 0 {
		mb, err := json.Marshal(metadata)
		if err != nil {
			return fmt.Errorf("safetensors: metadata: %w", err)
		}
		sep()
		hb.WriteString(`"__metadata__":`)
		hb.Write(mb)
	}
	seen := map[string]bool{}
	var off int64
	for _, t := range tensors {
		if t.Name == "__metadata__" || seen[t.Name] {
			return fmt.Errorf("safetensors: tensor %q: duplicate or reserved name", t.Name)
		}
		seen[t.Name] = true
		size := ElemSize(t.DType)
		if size == 0 {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n*size != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: %s shape %v needs %d bytes, got %d", t.Name, t.DType, t.Shape, n*size, len(t.Data))
		}
		nb, _ := json.Marshal(t.Name)
		sep()
		hb.Write(nb)
		hb.WriteString(`:{"dtype":"` + t.DType + `","shape":[`)
		for i, d := range t.Shape {
			if i > 0 {
				hb.WriteByte(',')
			}
			hb.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&hb, `],"data_offsets":[%d,%d]}`, off, off+int64(len(t.Data)))
		off += int64(len(t.Data))
	}
	hb.WriteByte('}')
	for hb.Len()%8 != 0 {
		hb.WriteByte(' ')
	}
	var lenb [8]byte
	binary.LittleEndian.PutUint64(lenb[:], uint64(hb.Len()))
	if _, err := w.Write(lenb[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb.Bytes()); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// Float32s returns the data of an F32 tensor as float32 values (a copy).
func (t *TensorInfo) Float32s() ([]float32, error) {
	if t.DType != "F32" {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, not F32", t.Name, t.DType)
	}
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Int64s returns the data of an I64 or I32 tensor as int64 values (a copy).
func (t *TensorInfo) Int64s() ([]int64, error) {
	switch t.DType {
	case "I64":
		out := make([]int64, len(t.Data)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	case "I32":
		out := make([]int64, len(t.Data)/4)
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		return out, nil
	}
	return nil, errors.New("safetensors: tensor " + strconv.Quote(t.Name) + " is " + t.DType + ", not an integer type")
}

// Float32Bytes encodes float32 values as little-endian bytes, for Write.
func Float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// Int64Bytes encodes int64 values as little-endian bytes, for Write.
func Int64Bytes(v []int64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return b
}
