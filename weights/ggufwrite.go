package weights

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// WriteGGUF writes a version-3 GGUF file: the metadata in the order given,
// then the tensors (Shape outermost first, Data already in the tensor's dtype
// and in the file's row order; RowOrder is ignored). general.alignment, if
// present in kv, must be a uint32 power of two; otherwise 32 is used.
func WriteGGUF(w io.Writer, kv []KV, tensors []*Tensor) error {
	header, _, align, err := EncodeGGUFHeader(kv, tensors)
	if err != nil {
		return err
	}
	for _, t := range tensors {
		if want := t.byteSize(); want != len(t.Data) {
			return fmt.Errorf("gguf: tensor %q: %v %v needs %d bytes, got %d", t.Name, t.DType, t.Shape, want, len(t.Data))
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	cw.Write(header)
	zeros := make([]byte, align)
	for _, t := range tensors {
		cw.Write(t.Data)
		cw.Write(zeros[:(int64(align)-cw.n%int64(align))%int64(align)])
	}
	if cw.err != nil {
		return fmt.Errorf("gguf: write: %w", cw.err)
	}
	return bw.Flush()
}

// EncodeGGUFHeader returns a version-3 GGUF header (magic, counts, the
// metadata in the order given, the tensor infos, and zero padding up to the
// data section), each tensor's offset within the data section, and the
// alignment. Only the tensors' Name, DType and Shape are read, so a writer
// can stream tensor data it does not hold in memory: each tensor's bytes,
// padded with zeros to a multiple of the alignment, in the order given.
func EncodeGGUFHeader(kv []KV, tensors []*Tensor) (header []byte, offsets []uint64, align uint64, err error) {
	align = 32
	for _, e := range kv {
		if e.Key == "general.alignment" {
			a, ok := e.Value.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return nil, nil, 0, fmt.Errorf("gguf: general.alignment must be a uint32 power of two, got %v", e.Value)
			}
			align = uint64(a)
		}
	}
	var buf sliceBuf
	put := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	putStr := func(s string) { put(uint64(len(s))); buf.Write([]byte(s)) }
	put(uint32(ggufMagic))
	put(uint32(3))
	put(uint64(len(tensors)))
	put(uint64(len(kv)))
	for _, e := range kv {
		putStr(e.Key)
		if err := writeValue(&buf, e.Value, put, putStr); err != nil {
			return nil, nil, 0, fmt.Errorf("gguf: metadata key %q: %w", e.Key, err)
		}
	}
	var off uint64
	offsets = make([]uint64, len(tensors))
	for i, t := range tensors {
		if t == nil {
			return nil, nil, 0, fmt.Errorf("gguf: tensor #%d is nil", i)
		}
		size := t.byteSize()
		if size < 0 {
			return nil, nil, 0, fmt.Errorf("gguf: tensor %q: %v cannot hold shape %v", t.Name, t.DType, t.Shape)
		}
		putStr(t.Name)
		put(uint32(len(t.Shape)))
		for d := len(t.Shape) - 1; d >= 0; d-- { // GGUF lists the innermost axis first
			put(uint64(t.Shape[d]))
		}
		put(uint32(t.DType))
		put(off)
		offsets[i] = off
		off += (uint64(size) + align - 1) / align * align
	}
	for uint64(len(buf.b))%align != 0 {
		buf.b = append(buf.b, 0)
	}
	return buf.b, offsets, align, nil
}

// byteSize is the size of the tensor's data as its dtype and shape say, or
// -1 when the row length does not fit the dtype's blocks.
func (t *Tensor) byteSize() int {
	rb, err := t.DType.RowBytes(t.Cols())
	if err != nil {
		return -1
	}
	return rb * t.Rows()
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

func valueType(v any) (uint32, bool) {
	switch v.(type) {
	case uint8, []uint8:
		return ggufUint8, true
	case int8, []int8:
		return ggufInt8, true
	case uint16, []uint16:
		return ggufUint16, true
	case int16, []int16:
		return ggufInt16, true
	case uint32, []uint32:
		return ggufUint32, true
	case int32, []int32:
		return ggufInt32, true
	case float32, []float32:
		return ggufFloat32, true
	case bool, []bool:
		return ggufBool, true
	case string, []string:
		return ggufString, true
	case uint64, []uint64:
		return ggufUint64, true
	case int64, []int64:
		return ggufInt64, true
	case float64, []float64:
		return ggufFloat64, true
	case []any:
		return ggufArray, true
	}
	return 0, false
}

func writeValue(w io.Writer, v any, put func(any), putStr func(string)) error {
	typ, ok := valueType(v)
	if !ok {
		return fmt.Errorf("unsupported value type %T", v)
	}
	isArray := false
	switch v.(type) {
	case []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32, []bool, []string, []uint64, []int64, []float64, []any:
		isArray = true
	}
	if !isArray {
		put(typ)
		switch x := v.(type) {
		case string:
			putStr(x)
		case bool:
			b := uint8(0)
			if x {
				b = 1
			}
			put(b)
		default:
			put(x)
		}
		return nil
	}
	put(uint32(ggufArray))
	switch x := v.(type) {
	case []string:
		put(uint32(ggufString))
		put(uint64(len(x)))
		for _, s := range x {
			putStr(s)
		}
	case []bool:
		put(uint32(ggufBool))
		put(uint64(len(x)))
		for _, b := range x {
			if b {
				put(uint8(1))
			} else {
				put(uint8(0))
			}
		}
	case []any:
		if len(x) == 0 {
			put(uint32(ggufUint8))
			put(uint64(0))
			return nil
		}
		put(uint32(ggufArray))
		put(uint64(len(x)))
		for i, e := range x {
			if _, ok := valueType(e); !ok {
				return fmt.Errorf("array element %d: unsupported type %T", i, e)
			}
			// Nested arrays are written without their outer type tag.
			var buf sliceBuf
			if err := writeValue(&buf, e, func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }, func(s string) {
				_ = binary.Write(&buf, binary.LittleEndian, uint64(len(s)))
				buf.Write([]byte(s))
			}); err != nil {
				return err
			}
			w.Write(buf.b[4:]) // drop the ARRAY type tag
		}
	default:
		put(typ)
		n := reflectLen(x)
		put(uint64(n))
		put(x)
	}
	return nil
}

type sliceBuf struct{ b []byte }

func (s *sliceBuf) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }

func reflectLen(v any) int {
	switch x := v.(type) {
	case []uint8:
		return len(x)
	case []int8:
		return len(x)
	case []uint16:
		return len(x)
	case []int16:
		return len(x)
	case []uint32:
		return len(x)
	case []int32:
		return len(x)
	case []float32:
		return len(x)
	case []uint64:
		return len(x)
	case []int64:
		return len(x)
	case []float64:
		return len(x)
	}
	return 0
}

// Float32Bytes encodes float32 values as little-endian bytes (F32 tensor data).
func Float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
