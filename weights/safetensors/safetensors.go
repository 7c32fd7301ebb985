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
	MaxMetadata    = 1 << 16 // __metadata__ entries (real files have a handful)
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

// headerEntry is one tensor's header entry. The has* flags tell a missing
// (or null) field, which is an error, from a zero one.
type headerEntry struct {
	name                        string
	dtype                       string
	shape                       []int // int64 values: the scanner refuses others
	offsets                     []int64
	hasDType, hasShape, hasOffs bool
}

// Parse parses a whole safetensors file held in b.
//
// Memory: Parse never copies tensor data (every Data aliases b). The header,
// at most MaxHeaderBytes, is read by a scanner for the format's fixed
// grammar (an object of tensor entries and one string map) with no general
// JSON tree, so what it allocates is bounded by what the header holds:
// at most 8 bytes per header byte plus 64 KiB (the smallest possible
// entries come to about 5.5; real ones, with long names, to about 3;
// TestParseMemoryBound measures it on adversarial headers), so at most
// 800 MiB for the largest header allowed, and never more than MaxTensors
// entries or MaxMetadata metadata keys. Nesting beyond the grammar's three
// levels is a syntax error, so deep nesting costs nothing.
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
		// Bad bytes would have to be replaced with U+FFFD, and two
		// different names could then collide.
		return nil, errors.New("safetensors: bad JSON header: not valid UTF-8")
	}
	f := &File{Metadata: map[string]string{}}
	entries, err := scanHeader(header, f.Metadata)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	// Check entries in name order so that the error for a broken file is
	// always the same one; equal neighbours are duplicates.
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	byOff := tensorsByOffset{t: make([]TensorInfo, len(entries)), lo: make([]int64, len(entries)), hi: make([]int64, len(entries))}
	for i := range entries {
		e := &entries[i]
		if i > 0 && e.name == entries[i-1].name {
			return nil, fmt.Errorf("safetensors: bad JSON header: tensor %q appears twice", e.name)
		}
		ti, lo, hi, err := checkEntry(e.name, e, data)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", e.name, err)
		}
		byOff.t[i], byOff.lo[i], byOff.hi[i] = ti, lo, hi
	}
	entries = nil
	// Sort by offset to detect overlaps and give a stable order.
	sort.Sort(byOff)
	f.byName = make(map[string]int, len(byOff.t))
	var maxHi int64
	maxName := ""
	for i, ti := range byOff.t {
		if lo, hi := byOff.lo[i], byOff.hi[i]; hi > lo {
			if lo < maxHi {
				return nil, fmt.Errorf("safetensors: tensor %q (bytes %d..%d) overlaps tensor %q (ending at byte %d)", ti.Name, lo, hi, maxName, maxHi)
			}
			maxHi, maxName = hi, ti.Name
		}
		f.byName[ti.Name] = i
	}
	f.Tensors = byOff.t
	return f, nil
}

// tensorsByOffset sorts tensors and their byte ranges together, by offset
// and then name, in place.
type tensorsByOffset struct {
	t      []TensorInfo
	lo, hi []int64
}

func (s tensorsByOffset) Len() int { return len(s.t) }
func (s tensorsByOffset) Less(a, b int) bool {
	if s.lo[a] != s.lo[b] {
		return s.lo[a] < s.lo[b]
	}
	return s.t[a].Name < s.t[b].Name
}
func (s tensorsByOffset) Swap(a, b int) {
	s.t[a], s.t[b] = s.t[b], s.t[a]
	s.lo[a], s.lo[b] = s.lo[b], s.lo[a]
	s.hi[a], s.hi[b] = s.hi[b], s.hi[a]
}

func checkEntry(name string, e *headerEntry, data []byte) (ti TensorInfo, lo, hi int64, err error) {
	switch {
	case !e.hasDType:
		return ti, 0, 0, errors.New(`header entry has no "dtype"`)
	case !e.hasShape:
		return ti, 0, 0, errors.New(`header entry has no "shape"`)
	case !e.hasOffs:
		return ti, 0, 0, errors.New(`header entry has no "data_offsets"`)
	}
	dtype, dims, offs := e.dtype, e.shape, e.offsets
	size := ElemSize(dtype)
	if size == 0 {
		return ti, 0, 0, fmt.Errorf("unknown dtype %q", dtype)
	}
	if len(dims) > MaxDims {
		return ti, 0, 0, fmt.Errorf("%d dimensions exceed the limit of %d", len(dims), MaxDims)
	}
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return ti, 0, 0, fmt.Errorf("negative dimension %d in shape %v", d, dims)
		}
		if d != 0 && n > math.MaxInt64/8/int64(d) {
			return ti, 0, 0, fmt.Errorf("shape %v overflows", dims)
		}
		n *= int64(d)
	}
	shape := dims
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
