package weights

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"
)

// Limits that keep a hostile GGUF from exhausting memory before any check can
// fail. Real models stay far below them (a 150k-token vocabulary is one array).
const (
	maxGGUFTensors    = 1 << 20
	maxGGUFKVs        = 1 << 20
	maxGGUFString     = 64 << 20 // bytes in one string (chat templates are a few KiB)
	maxGGUFArray      = 1 << 28  // elements in one array
	maxGGUFArrayDepth = 8
	maxGGUFDims       = 4
	maxGGUFDim        = math.MaxInt32 * 4 // elements along one axis
	// maxGGUFMetadata bounds the memory all metadata values take together
	// (strings, arrays, keys), counted as Go holds them. The largest real
	// metadata, a 256k-token vocabulary with its merges, takes about 50 MiB.
	maxGGUFMetadata = 256 << 20
)

const ggufMagic = 0x46554747 // "GGUF" read as a little-endian uint32

// GGUF value types, as numbered by the specification.
const (
	ggufUint8   = 0
	ggufInt8    = 1
	ggufUint16  = 2
	ggufInt16   = 3
	ggufUint32  = 4
	ggufInt32   = 5
	ggufFloat32 = 6
	ggufBool    = 7
	ggufString  = 8
	ggufArray   = 9
	ggufUint64  = 10
	ggufInt64   = 11
	ggufFloat64 = 12
)

// KV is one metadata entry of a GGUF file. Value holds a Go value of the
// entry's type: uint8, int8, uint16, int16, uint32, int32, uint64, int64,
// float32, float64, bool or string; arrays of those as typed slices ([]uint8,
// ..., []string); and nested arrays as []any.
type KV struct {
	Key   string
	Value any
}

// GGUF is a parsed GGUF file (version 2 or 3).
type GGUF struct {
	Path      string
	Version   uint32
	Alignment int
	// DataOffset is where the aligned data section starts; for a file with
	// no tensors that ends before that point, it is the file's length.
	DataOffset int64
	KV         []KV      // metadata in file order
	Tensors    []*Tensor // in file order; names as stored, Shape outermost first
	kv         []int32   // indices into KV, sorted by key (a map cost 4× more per entry)
	byName     map[string]*Tensor
	release    func() error
}

// OpenGGUF maps a GGUF file into memory and parses its header. Tensor data is
// not read; Close releases the mapping, after which no tensor may be used.
func OpenGGUF(path string) (*GGUF, error) {
	b, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	g, err := ParseGGUF(b, path)
	if err != nil {
		release()
		return nil, err
	}
	g.release = release
	return g, nil
}

// Close releases the file mapping.
func (g *GGUF) Close() error {
	if g.release == nil {
		return nil
	}
	err := g.release()
	g.release = nil
	return err
}

type ggufReader struct {
	b    []byte
	off  int
	name string
	// meta is what the metadata read so far takes in memory (see charge).
	meta int64
}

// charge counts n bytes of metadata memory against maxGGUFMetadata before
// they are allocated.
func (r *ggufReader) charge(n uint64) error {
	if n > maxGGUFMetadata || r.meta+int64(n) > maxGGUFMetadata {
		return fmt.Errorf("at byte %d: metadata would take more than %d MiB of memory", r.off, maxGGUFMetadata>>20)
	}
	r.meta += int64(n)
	return nil
}

var errShort = errors.New("unexpected end of file")

func (r *ggufReader) need(n uint64) error {
	if n > uint64(len(r.b)-r.off) {
		return fmt.Errorf("at byte %d: need %d bytes, %d left: %w", r.off, n, len(r.b)-r.off, errShort)
	}
	return nil
}

func (r *ggufReader) u8() (uint8, error) {
	if err := r.need(1); err != nil {
		return 0, err
	}
	v := r.b[r.off]
	r.off++
	return v, nil
}

func (r *ggufReader) u16() (uint16, error) {
	if err := r.need(2); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v, nil
}

func (r *ggufReader) u32() (uint32, error) {
	if err := r.need(4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v, nil
}

func (r *ggufReader) u64() (uint64, error) {
	if err := r.need(8); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v, nil
}

func (r *ggufReader) str() (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	if n > maxGGUFString {
		return "", fmt.Errorf("at byte %d: string length %d exceeds the limit of %d", r.off-8, n, maxGGUFString)
	}
	if err := r.need(n); err != nil {
		return "", err
	}
	if err := r.charge(n); err != nil {
		return "", err
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s, nil
}

// ParseGGUF parses a GGUF file held in memory. name is used in error messages.
// The tensors' Data slices alias b.
//
// Memory: tensor data is never copied. Every count and length in the header
// is checked against the bytes left before anything of that size is
// allocated, so what ParseGGUF allocates is bounded by the header it actually
// reads: at most 16 bytes per header byte plus 1 MiB (the
// worst cases, masses of tiny metadata entries or tensor infos, come to
// about 14; TestGGUFMemoryBound measures them). On top of that, metadata values
// together may take at most maxGGUFMetadata (256 MiB), at most
// maxGGUFTensors tensor infos and maxGGUFKVs entries are read, and every
// shape's element and byte counts and every offset+size are checked for
// overflow.
func ParseGGUF(b []byte, name string) (*GGUF, error) {
	g, err := parseGGUF(b, name)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", name, err)
	}
	return g, nil
}

func parseGGUF(b []byte, name string) (*GGUF, error) {
	r := &ggufReader{b: b, name: name}
	magic, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("reading magic: %w", err)
	}
	if magic != ggufMagic {
		return nil, fmt.Errorf("bad magic %#08x: not a GGUF file", magic)
	}
	version, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("reading version: %w", err)
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, errors.New("GGUF version 1 is not supported (re-convert the model with a current llama.cpp)")
	case version&0xFFFF == 0 && version>>16 != 0:
		return nil, fmt.Errorf("version %#x looks byte-swapped: big-endian GGUF files are not supported", version)
	default:
		return nil, fmt.Errorf("unsupported GGUF version %d (want 2 or 3)", version)
	}
	nTensors, err := r.u64()
	if err != nil {
		return nil, fmt.Errorf("reading tensor count: %w", err)
	}
	nKV, err := r.u64()
	if err != nil {
		return nil, fmt.Errorf("reading metadata count: %w", err)
	}
	if nTensors > maxGGUFTensors {
		return nil, fmt.Errorf("tensor count %d exceeds the limit of %d", nTensors, maxGGUFTensors)
	}
	if nKV > maxGGUFKVs {
		return nil, fmt.Errorf("metadata count %d exceeds the limit of %d", nKV, maxGGUFKVs)
	}
	// Preallocate only what the bytes left can hold (a metadata entry takes
	// at least 13 bytes: key length, type, a one-byte value), and no more
	// than a real model has, so that a huge declared count costs nothing.
	kvCap := min(nKV, uint64(len(b)-r.off)/13, 4096)
	g := &GGUF{Path: name, Version: version, Alignment: 32}
	g.KV = make([]KV, 0, kvCap)
	for i := uint64(0); i < nKV; i++ {
		key, err := r.str()
		if err != nil {
			return nil, fmt.Errorf("metadata entry %d: key: %w", i, err)
		}
		if !utf8.ValidString(key) {
			return nil, fmt.Errorf("metadata entry %d: key is not valid UTF-8", i)
		}
		typ, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("metadata key %q: type: %w", key, err)
		}
		// The KV and its index entry.
		if err := r.charge(40); err != nil {
			return nil, fmt.Errorf("metadata key %q: %w", key, err)
		}
		v, err := r.value(typ, 0)
		if err != nil {
			return nil, fmt.Errorf("metadata key %q: %w", key, err)
		}
		g.KV = append(g.KV, KV{Key: key, Value: v})
	}
	g.kv = make([]int32, len(g.KV))
	for i := range g.kv {
		g.kv[i] = int32(i)
	}
	sort.SliceStable(g.kv, func(a, b int) bool { return g.KV[g.kv[a]].Key < g.KV[g.kv[b]].Key })
	for i := 1; i < len(g.kv); i++ {
		if k := g.KV[g.kv[i]].Key; k == g.KV[g.kv[i-1]].Key {
			return nil, fmt.Errorf("metadata key %q appears twice", k)
		}
	}
	if v, ok := g.Get("general.alignment"); ok {
		a, isU32 := v.(uint32)
		if !isU32 || a == 0 || a&(a-1) != 0 || a > 1<<20 {
			return nil, fmt.Errorf("metadata key %q: alignment %v must be a uint32 power of two", "general.alignment", v)
		}
		g.Alignment = int(a)
	}

	type pending struct {
		t      *Tensor
		offset uint64
		size   uint64
	}
	// A tensor info takes at least 32 bytes (name length, dimension count,
	// one dimension, type, offset).
	tCap := min(nTensors, uint64(len(b)-r.off)/32, 4096)
	infos := make([]pending, 0, tCap)
	g.byName = make(map[string]*Tensor, tCap)
	for i := uint64(0); i < nTensors; i++ {
		tname, err := r.str()
		if err != nil {
			return nil, fmt.Errorf("tensor info %d: name: %w", i, err)
		}
		if !utf8.ValidString(tname) {
			return nil, fmt.Errorf("tensor info %d: name %q is not valid UTF-8", i, tname)
		}
		if _, dup := g.byName[tname]; dup {
			return nil, fmt.Errorf("tensor %q appears twice", tname)
		}
		nd, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: dimension count: %w", tname, err)
		}
		if nd == 0 || nd > maxGGUFDims {
			return nil, fmt.Errorf("tensor %q: %d dimensions (want 1 to %d)", tname, nd, maxGGUFDims)
		}
		ne := make([]uint64, nd)
		elems := uint64(1)
		for d := range ne {
			if ne[d], err = r.u64(); err != nil {
				return nil, fmt.Errorf("tensor %q: dimension %d: %w", tname, d, err)
			}
			if ne[d] == 0 || ne[d] > maxGGUFDim {
				return nil, fmt.Errorf("tensor %q: dimension %d is %d (want 1 to %d)", tname, d, ne[d], uint64(maxGGUFDim))
			}
			if elems > math.MaxInt64/ne[d] {
				return nil, fmt.Errorf("tensor %q: shape %v overflows", tname, ne)
			}
			elems *= ne[d]
		}
		typ, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: type: %w", tname, err)
		}
		dt := DType(typ)
		if !dt.Known() {
			return nil, fmt.Errorf("tensor %q: unsupported tensor type %v", tname, dt)
		}
		if ne[0]%uint64(dt.BlockElems()) != 0 {
			return nil, fmt.Errorf("tensor %q: row length %d is not a multiple of the %v block size %d", tname, ne[0], dt, dt.BlockElems())
		}
		size := elems / uint64(dt.BlockElems())
		if size > math.MaxInt64/uint64(dt.BlockBytes()) {
			return nil, fmt.Errorf("tensor %q: byte size overflows", tname)
		}
		size *= uint64(dt.BlockBytes())
		off, err := r.u64()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: offset: %w", tname, err)
		}
		if off%uint64(g.Alignment) != 0 {
			return nil, fmt.Errorf("tensor %q: offset %d is not a multiple of the alignment %d", tname, off, g.Alignment)
		}
		shape := make([]int, nd)
		for d := range ne {
			shape[int(nd)-1-d] = int(ne[d])
		}
		t := &Tensor{Name: tname, DType: dt, Shape: shape, File: name}
		g.byName[tname] = t
		infos = append(infos, pending{t, off, size})
	}
	dataOff := (uint64(r.off) + uint64(g.Alignment) - 1) / uint64(g.Alignment) * uint64(g.Alignment)
	if dataOff > uint64(len(b)) {
		if nTensors > 0 {
			return nil, fmt.Errorf("data section at byte %d starts past the end of the %d-byte file", dataOff, len(b))
		}
		dataOff = uint64(len(b))
	}
	g.DataOffset = int64(dataOff)
	data := b[dataOff:]
	// Check every range against the file, then look for overlaps in offset order.
	order := make([]int, len(infos))
	for i, p := range infos {
		if p.offset > uint64(len(data)) || p.size > uint64(len(data))-p.offset {
			return nil, fmt.Errorf("tensor %q: %d bytes at data offset %d run past the end of the file (data section holds %d bytes)", p.t.Name, p.size, p.offset, len(data))
		}
		p.t.Data = data[p.offset : p.offset+p.size : p.offset+p.size]
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return infos[order[a]].offset < infos[order[b]].offset })
	for k := 1; k < len(order); k++ {
		prev, cur := infos[order[k-1]], infos[order[k]]
		if cur.offset < prev.offset+prev.size {
			return nil, fmt.Errorf("tensor %q (bytes %d..%d) overlaps tensor %q (bytes %d..%d)", cur.t.Name, cur.offset, cur.offset+cur.size, prev.t.Name, prev.offset, prev.offset+prev.size)
		}
	}
	for _, p := range infos {
		g.Tensors = append(g.Tensors, p.t)
	}
	return g, nil
}

func (r *ggufReader) value(typ uint32, depth int) (any, error) {
	switch typ {
	case ggufUint8:
		return r.u8()
	case ggufInt8:
		v, err := r.u8()
		return int8(v), err
	case ggufUint16:
		return r.u16()
	case ggufInt16:
		v, err := r.u16()
		return int16(v), err
	case ggufUint32:
		return r.u32()
	case ggufInt32:
		v, err := r.u32()
		return int32(v), err
	case ggufFloat32:
		v, err := r.u32()
		return math.Float32frombits(v), err
	case ggufBool:
		v, err := r.u8()
		if err == nil && v > 1 {
			return nil, fmt.Errorf("bool value %d (want 0 or 1)", v)
		}
		return v == 1, err
	case ggufString:
		return r.str()
	case ggufUint64:
		return r.u64()
	case ggufInt64:
		v, err := r.u64()
		return int64(v), err
	case ggufFloat64:
		v, err := r.u64()
		return math.Float64frombits(v), err
	case ggufArray:
		if depth >= maxGGUFArrayDepth {
			return nil, fmt.Errorf("arrays nested deeper than %d", maxGGUFArrayDepth)
		}
		et, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("array element type: %w", err)
		}
		n, err := r.u64()
		if err != nil {
			return nil, fmt.Errorf("array length: %w", err)
		}
		if n > maxGGUFArray {
			return nil, fmt.Errorf("array of %d elements exceeds the limit of %d", n, maxGGUFArray)
		}
		return r.array(et, n, depth)
	}
	return nil, fmt.Errorf("unknown value type %d", typ)
}

// fixedSize returns the encoded size of a fixed-size value type, or 0.
func fixedSize(typ uint32) uint64 {
	switch typ {
	case ggufUint8, ggufInt8, ggufBool:
		return 1
	case ggufUint16, ggufInt16:
		return 2
	case ggufUint32, ggufInt32, ggufFloat32:
		return 4
	case ggufUint64, ggufInt64, ggufFloat64:
		return 8
	}
	return 0
}

func (r *ggufReader) array(et uint32, n uint64, depth int) (any, error) {
	if sz := fixedSize(et); sz != 0 {
		// Check the whole byte range first so a huge count cannot allocate.
		if err := r.need(n * sz); err != nil {
			return nil, err
		}
		// Go holds each element in as many bytes as the file.
		if err := r.charge(n * sz); err != nil {
			return nil, err
		}
	} else if et == ggufString || et == ggufArray {
		// Each element takes at least 8 bytes (a length) or 12 (a type
		// and a length).
		minBytes := uint64(8)
		if et == ggufArray {
			minBytes = 12
		}
		if n > uint64(len(r.b)-r.off)/minBytes {
			return nil, fmt.Errorf("array of %d elements cannot fit in the %d bytes left: %w", n, len(r.b)-r.off, errShort)
		}
		// A string header is 16 bytes; a nested array an interface (16)
		// holding a slice header (24).
		goSize := uint64(16)
		if et == ggufArray {
			goSize = 40
		}
		if err := r.charge(n * goSize); err != nil {
			return nil, err
		}
	} else {
		return nil, fmt.Errorf("unknown array element type %d", et)
	}
	switch et {
	case ggufUint8:
		out := make([]uint8, n)
		copy(out, r.b[r.off:])
		r.off += int(n)
		return out, nil
	case ggufInt8:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(r.b[r.off+i])
		}
		r.off += int(n)
		return out, nil
	case ggufBool:
		out := make([]bool, n)
		for i := range out {
			v := r.b[r.off+i]
			if v > 1 {
				return nil, fmt.Errorf("array element %d: bool value %d", i, v)
			}
			out[i] = v == 1
		}
		r.off += int(n)
		return out, nil
	case ggufUint16:
		out := make([]uint16, n)
		for i := range out {
			out[i], _ = r.u16()
		}
		return out, nil
	case ggufInt16:
		out := make([]int16, n)
		for i := range out {
			v, _ := r.u16()
			out[i] = int16(v)
		}
		return out, nil
	case ggufUint32:
		out := make([]uint32, n)
		for i := range out {
			out[i], _ = r.u32()
		}
		return out, nil
	case ggufInt32:
		out := make([]int32, n)
		for i := range out {
			v, _ := r.u32()
			out[i] = int32(v)
		}
		return out, nil
	case ggufFloat32:
		out := make([]float32, n)
		for i := range out {
			v, _ := r.u32()
			out[i] = math.Float32frombits(v)
		}
		return out, nil
	case ggufUint64:
		out := make([]uint64, n)
		for i := range out {
			out[i], _ = r.u64()
		}
		return out, nil
	case ggufInt64:
		out := make([]int64, n)
		for i := range out {
			v, _ := r.u64()
			out[i] = int64(v)
		}
		return out, nil
	case ggufFloat64:
		out := make([]float64, n)
		for i := range out {
			v, _ := r.u64()
			out[i] = math.Float64frombits(v)
		}
		return out, nil
	case ggufString:
		out := make([]string, n)
		for i := range out {
			s, err := r.str()
			if err != nil {
				return nil, fmt.Errorf("array element %d: %w", i, err)
			}
			out[i] = s
		}
		return out, nil
	default: // nested arrays
		out := make([]any, n)
		for i := range out {
			v, err := r.value(ggufArray, depth+1)
			if err != nil {
				return nil, fmt.Errorf("array element %d: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	}
}

// Get returns the value of a metadata key.
func (g *GGUF) Get(key string) (any, bool) {
	i := sort.Search(len(g.kv), func(i int) bool { return g.KV[g.kv[i]].Key >= key })
	if i == len(g.kv) || g.KV[g.kv[i]].Key != key {
		return nil, false
	}
	return g.KV[g.kv[i]].Value, true
}

// String returns a string metadata value.
func (g *GGUF) String(key string) (string, bool) {
	v, _ := g.Get(key)
	s, ok := v.(string)
	return s, ok
}

// Int returns an integer metadata value of any integer type.
func (g *GGUF) Int(key string) (int64, bool) {
	v, _ := g.Get(key)
	return asInt(v)
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// Float returns a floating-point (or integer) metadata value as float64.
func (g *GGUF) Float(key string) (float64, bool) {
	v, _ := g.Get(key)
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	i, ok := asInt(v)
	return float64(i), ok
}

// Bool returns a boolean metadata value.
func (g *GGUF) Bool(key string) (bool, bool) {
	v, _ := g.Get(key)
	b, ok := v.(bool)
	return b, ok
}

// Strings returns a string-array metadata value.
func (g *GGUF) Strings(key string) ([]string, bool) {
	v, _ := g.Get(key)
	s, ok := v.([]string)
	return s, ok
}

// Float32s returns a float32-array metadata value.
func (g *GGUF) Float32s(key string) ([]float32, bool) {
	v, _ := g.Get(key)
	s, ok := v.([]float32)
	return s, ok
}

// Int32s returns an integer-array metadata value of any integer element type,
// converted to int32; false if a value does not fit.
func (g *GGUF) Int32s(key string) ([]int32, bool) {
	v, ok := g.Get(key)
	if !ok {
		return nil, false
	}
	conv := func(n int, at func(int) int64) ([]int32, bool) {
		out := make([]int32, n)
		for i := range out {
			x := at(i)
			if x < math.MinInt32 || x > math.MaxInt32 {
				return nil, false
			}
			out[i] = int32(x)
		}
		return out, true
	}
	switch x := v.(type) {
	case []int32:
		return x, true
	case []uint8:
		return conv(len(x), func(i int) int64 { return int64(x[i]) })
	case []int8:
		return conv(len(x), func(i int) int64 { return int64(x[i]) })
	case []uint16:
		return conv(len(x), func(i int) int64 { return int64(x[i]) })
	case []int16:
		return conv(len(x), func(i int) int64 { return int64(x[i]) })
	case []uint32:
		return conv(len(x), func(i int) int64 { return int64(x[i]) })
	case []int64:
		return conv(len(x), func(i int) int64 { return x[i] })
	case []uint64:
		return conv(len(x), func(i int) int64 {
			if x[i] > math.MaxInt64 {
				return math.MaxInt64
			}
			return int64(x[i])
		})
	}
	return nil, false
}

// Tensor returns the tensor stored under name (the file's own name).
func (g *GGUF) Tensor(name string) (*Tensor, bool) {
	t, ok := g.byName[name]
	return t, ok
}
