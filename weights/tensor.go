package weights

import (
	"fmt"
)

// Tensor is one named tensor of an opened model. Its bytes stay in the file's
// memory map; nothing is copied or converted when a model is opened.
//
// Shape is outermost first, as in PyTorch: a weight matrix is [rows, cols]
// = [out_features, in_features], and cols is the contiguous axis. (GGUF writes
// the same matrix with ne = [cols, rows]; the package reverses it.)
type Tensor struct {
	Name  string // canonical (GGUF-style) name, e.g. "blk.0.attn_q.weight"
	DType DType
	Shape []int
	// Data holds the tensor's raw little-endian bytes exactly as stored in the
	// file, rows back to back. It aliases the memory map: do not write to it.
	Data []byte
	// RowOrder, when not nil, maps a logical row to the physical row that
	// holds it: logical row i is stored at Data row RowOrder[i]. It expresses
	// the GGUF llama q/k permutation without copying (see the package doc).
	RowOrder []int32
	// File is the path of the file the tensor lives in, for error messages.
	File string
}

// Elems returns the number of elements of the tensor.
func (t *Tensor) Elems() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Cols returns the length of the innermost (contiguous) axis, or 1 for a scalar.
func (t *Tensor) Cols() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Shape[len(t.Shape)-1]
}

// Rows returns the product of all axes but the innermost one.
func (t *Tensor) Rows() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Elems() / t.Cols()
}

// RowBytes returns the byte size of one row.
func (t *Tensor) RowBytes() int {
	n, _ := t.DType.RowBytes(t.Cols())
	return n
}

// PhysicalRow returns the index of the stored row that holds logical row i.
func (t *Tensor) PhysicalRow(i int) int {
	if t.RowOrder != nil {
		return int(t.RowOrder[i])
	}
	return i
}

// Row returns the raw bytes of logical row i.
func (t *Tensor) Row(i int) []byte {
	rb := t.RowBytes()
	p := t.PhysicalRow(i)
	return t.Data[p*rb : (p+1)*rb : (p+1)*rb]
}

// DequantizeRow writes logical row i as float32 into dst, which must hold Cols() values.
func (t *Tensor) DequantizeRow(dst []float32, i int) error {
	if i < 0 || i >= t.Rows() {
		return fmt.Errorf("tensor %q: row %d out of range [0, %d)", t.Name, i, t.Rows())
	}
	if len(dst) < t.Cols() {
		return fmt.Errorf("tensor %q: destination holds %d values, a row has %d", t.Name, len(dst), t.Cols())
	}
	if err := Dequantize(dst[:t.Cols()], t.Row(i), t.DType); err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return nil
}

// Float32 returns the whole tensor as float32 in logical row order (a new slice).
func (t *Tensor) Float32() ([]float32, error) {
	rows, cols := t.Rows(), t.Cols()
	out := make([]float32, rows*cols)
	if t.RowOrder == nil {
		if err := Dequantize(out, t.Data, t.DType); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		return out, nil
	}
	for r := 0; r < rows; r++ {
		if err := t.DequantizeRow(out[r*cols:(r+1)*cols], r); err != nil {
			return nil, err
		}
	}
	return out, nil
}
