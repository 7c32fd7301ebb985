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

type headerEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

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

	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("safetensors: bad JSON header: %w", err)
	}
	if len(raw) > MaxTensors {
		return nil, fmt.Errorf("safetensors: %d header entries exceed the limit of %d", len(raw), MaxTensors)
	}
	f := &File{Metadata: map[string]string{}, byName: map[string]int{}}
	type span struct{ lo, hi int64 }
	var spans []span
	for name, msg := range raw {
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
		ti, err := checkEntry(name, e, data)
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, ti)
		spans = append(spans, span{e.DataOffsets[0], e.DataOffsets[1]})
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
				return nil, fmt.Errorf("safetensors: tensor %q overlaps tensor %q", sorted[i].Name, maxName)
			}
			maxHi, maxName = cur.hi, sorted[i].Name
		}
		f.byName[sorted[i].Name] = i
	}
	f.Tensors = sorted
	return f, nil
}

func checkEntry(name string, e headerEntry, data []byte) (TensorInfo, error) {
	size := ElemSize(e.DType)
	if size == 0 {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, e.DType)
	}
	if len(e.Shape) > MaxDims {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: %d dimensions exceed the limit of %d", name, len(e.Shape), MaxDims)
	}
	n := int64(1)
	shape := make([]int, len(e.Shape))
	for i, d := range e.Shape {
		if d < 0 {
			return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: negative dimension %d", name, d)
		}
		if d != 0 && n > math.MaxInt64/8/d {
			return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: shape %v overflows", name, e.Shape)
		}
		n *= d
		shape[i] = int(d)
	}
	lo, hi := e.DataOffsets[0], e.DataOffsets[1]
	if lo < 0 || hi < lo || hi > int64(len(data)) {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: data offsets [%d, %d) outside the %d-byte data section", name, lo, hi, len(data))
	}
	if hi-lo != n*int64(size) {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: %s shape %v needs %d bytes, data offsets give %d", name, e.DType, e.Shape, n*int64(size), hi-lo)
	}
	return TensorInfo{Name: name, DType: e.DType, Shape: shape, Data: data[lo:hi:hi]}, nil
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
