package torchfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Tensor is a strided view into a torch storage, as rebuilt by
// torch._utils._rebuild_tensor_v2. Data is the whole storage in
// little-endian byte order (tensors may share it); Offset and Stride count
// elements, not bytes.
//
// A tensor returned by a read keeps that read's memory budget (Options):
// Int64s, Int32s and Float64s charge their result against it, so widening
// a storage (int32 to int64, or an expanded view) cannot go beyond the
// read's total. A Tensor built by hand has no budget.
type Tensor struct {
	DType  string // "float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"
	Shape  []int
	Stride []int
	Offset int
	Data   []byte
	budget *budget
}

// charge takes the result of a conversion to elemSize-byte values from
// the tensor's budget.
func (t *Tensor) charge(elemSize int) error {
	return t.budget.charge(int64(t.Numel())*int64(elemSize), fmt.Sprintf("converting a %v %s tensor", t.Shape, t.DType))
}

// ElemSize returns the size in bytes of one element of dtype, or 0 for an
// unknown dtype.
func ElemSize(dtype string) int {
	switch dtype {
	case "float64", "int64":
		return 8
	case "float32", "int32":
		return 4
	case "float16", "bfloat16", "int16":
		return 2
	case "int8", "uint8", "bool":
		return 1
	}
	return 0
}

// Numel returns the number of elements the tensor views.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// maxExpandedElems is the largest view allowed to exceed its storage's size.
const maxExpandedElems = 1 << 20

// check verifies that every element the view can address lies inside the
// storage, so the accessors can index without further bounds reasoning.
func (t *Tensor) check() error {
	es := ElemSize(t.DType)
	if es == 0 {
		return fmt.Errorf("unknown dtype %q", t.DType)
	}
	if len(t.Shape) != len(t.Stride) {
		return fmt.Errorf("shape %v and stride %v differ in rank", t.Shape, t.Stride)
	}
	if t.Offset < 0 {
		return fmt.Errorf("negative storage offset %d", t.Offset)
	}
	numel := int64(1)
	last := int64(t.Offset)
	for i, d := range t.Shape {
		if d < 0 || t.Stride[i] < 0 {
			return fmt.Errorf("shape %v stride %v: negative entries are not supported", t.Shape, t.Stride)
		}
		numel *= int64(d)
		if numel > math.MaxInt32*int64(64) {
			return fmt.Errorf("shape %v has too many elements", t.Shape)
		}
		if d > 0 {
			last += int64(d-1) * int64(t.Stride[i])
		}
	}
	if numel == 0 {
		return nil
	}
	have := int64(len(t.Data) / es)
	if last >= have {
		return fmt.Errorf("shape %v stride %v offset %d reaches element %d of a storage of %d", t.Shape, t.Stride, t.Offset, last, have)
	}
	// Zero strides (expanded views) can make a view far larger than its
	// storage; cap that so a tiny forged file cannot demand gigabytes.
	if numel > max(have, maxExpandedElems) {
		return fmt.Errorf("shape %v stride %v: %d elements from a storage of %d", t.Shape, t.Stride, numel, have)
	}
	return nil
}

// forEach calls f with the storage element index of every element in
// row-major order of the view.
func (t *Tensor) forEach(f func(elem int)) {
	n := t.Numel()
	if n == 0 {
		return
	}
	rank := len(t.Shape)
	idx := make([]int, rank)
	pos := t.Offset
	for range n {
		f(pos)
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			pos += t.Stride[d]
			if idx[d] < t.Shape[d] {
				break
			}
			pos -= idx[d] * t.Stride[d]
			idx[d] = 0
		}
	}
}

var errDType = errors.New("dtype not convertible")

// Int64s returns the elements of an integer or bool tensor in row-major
// order as int64.
func (t *Tensor) Int64s() ([]int64, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	get, err := t.intGetter()
	if err != nil {
		return nil, err
	}
	if err := t.charge(8); err != nil {
		return nil, err
	}
	out := make([]int64, 0, t.Numel())
	t.forEach(func(e int) { out = append(out, get(e)) })
	return out, nil
}

// Int32s returns the elements of an integer or bool tensor in row-major
// order as int32; int64 values outside the int32 range are an error.
func (t *Tensor) Int32s() ([]int32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	get, err := t.intGetter()
	if err != nil {
		return nil, err
	}
	if err := t.charge(4); err != nil {
		return nil, err
	}
	out := make([]int32, 0, t.Numel())
	var bad error
	t.forEach(func(e int) {
		v := get(e)
		if v < math.MinInt32 || v > math.MaxInt32 {
			if bad == nil {
				bad = fmt.Errorf("element %d = %d overflows int32", len(out), v)
			}
		}
		out = append(out, int32(v))
	})
	if bad != nil {
		return nil, bad
	}
	return out, nil
}

// Float64s returns the elements of any numeric tensor in row-major order as
// float64 (exact for every dtype except int64 beyond 2^53).
func (t *Tensor) Float64s() ([]float64, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var get func(int) float64
	d := t.Data
	switch t.DType {
	case "float64":
		get = func(e int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(d[8*e:])) }
	case "float32":
		get = func(e int) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(d[4*e:]))) }
	case "float16":
		get = func(e int) float64 { return halfToFloat64(binary.LittleEndian.Uint16(d[2*e:])) }
	case "bfloat16":
		get = func(e int) float64 {
			return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(d[2*e:])) << 16))
		}
	default:
		ig, err := t.intGetter()
		if err != nil {
			return nil, err
		}
		get = func(e int) float64 { return float64(ig(e)) }
	}
	if err := t.charge(8); err != nil {
		return nil, err
	}
	out := make([]float64, 0, t.Numel())
	t.forEach(func(e int) { out = append(out, get(e)) })
	return out, nil
}

func (t *Tensor) intGetter() (func(int) int64, error) {
	d := t.Data
	switch t.DType {
	case "int64":
		return func(e int) int64 { return int64(binary.LittleEndian.Uint64(d[8*e:])) }, nil
	case "int32":
		return func(e int) int64 { return int64(int32(binary.LittleEndian.Uint32(d[4*e:]))) }, nil
	case "int16":
		return func(e int) int64 { return int64(int16(binary.LittleEndian.Uint16(d[2*e:]))) }, nil
	case "int8":
		return func(e int) int64 { return int64(int8(d[e])) }, nil
	case "uint8":
		return func(e int) int64 { return int64(d[e]) }, nil
	case "bool":
		return func(e int) int64 {
			if d[e] != 0 {
				return 1
			}
			return 0
		}, nil
	}
	return nil, fmt.Errorf("%w: %s tensor read as integers", errDType, t.DType)
}

// halfToFloat64 decodes an IEEE 754 binary16 value.
func halfToFloat64(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}
