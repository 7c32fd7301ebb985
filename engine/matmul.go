package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/valueexploration/valueexp/engine/kernels"
	"github.com/valueexploration/valueexp/weights"
)

// actFormat is the form an activation row takes before it meets a weight row:
// plain float32, or quantized to 8-bit blocks the way ggml does it, so that
// quantized weights are multiplied with integer dot products.
type actFormat uint8

const (
	actF32 actFormat = iota
	actQ8_0
	actQ8_1
	actQ8_K
)

// matrix is one weight matrix [rows = out features, cols = in features] in
// its file dtype, with the dot product that multiplies one of its rows with
// an activation row in the matching format.
type matrix struct {
	name       string
	t          *weights.Tensor
	rows, cols int
	act        actFormat
	f32        []float32 // F32 weights viewed as float32 (no copy where aligned)
	dotF       func(w []byte, x []float32) float32
	dotQ       func(w, a []byte, n int) float32

	// The logical rows as slices, so that a range of rows is handed to the
	// tile kernels without building anything per call.
	rowsF32   [][]float32
	rowsBytes [][]byte
	tiled     tileKind
	q8        kernels.Q8Format
	kf        kernels.KFormat
}

// tileKind says which multi-row kernel multiplies the matrix.
type tileKind uint8

const (
	tileNone tileKind = iota // one dot product per element
	tileF32
	tileF16
	tileBF16
	tileQ8 // Q8_0, Q4_0, Q5_0 weights against Q8_0 activations
	tileK  // K-quants against Q8_K activations
)

func newMatrix(t *weights.Tensor) (*matrix, error) {
	if len(t.Shape) != 2 {
		return nil, fmt.Errorf("tensor %q: want a matrix, got shape %v", t.Name, t.Shape)
	}
	m := &matrix{name: t.Name, t: t, rows: t.Shape[0], cols: t.Shape[1]}
	switch t.DType {
	case weights.F32:
		m.f32 = f32View(t.Data)
	case weights.F16:
		m.dotF = kernels.DotF16
	case weights.BF16:
		m.dotF = kernels.DotBF16
	case weights.Q8_0:
		m.act, m.dotQ = actQ8_0, kernels.DotQ8_0
	case weights.Q4_0:
		m.act, m.dotQ = actQ8_0, kernels.DotQ4_0
	case weights.Q5_0:
		m.act, m.dotQ = actQ8_0, kernels.DotQ5_0
	case weights.Q4_1:
		m.act, m.dotQ = actQ8_1, kernels.DotQ4_1
	case weights.Q5_1:
		m.act, m.dotQ = actQ8_1, kernels.DotQ5_1
	case weights.Q2_K:
		m.act, m.dotQ = actQ8_K, kernels.DotQ2_K
	case weights.Q3_K:
		m.act, m.dotQ = actQ8_K, kernels.DotQ3_K
	case weights.Q4_K:
		m.act, m.dotQ = actQ8_K, kernels.DotQ4_K
	case weights.Q5_K:
		m.act, m.dotQ = actQ8_K, kernels.DotQ5_K
	case weights.Q6_K:
		m.act, m.dotQ = actQ8_K, kernels.DotQ6_K
	default:
		return nil, fmt.Errorf("tensor %q: the engine cannot multiply %v weights", t.Name, t.DType)
	}
	if m.act == actQ8_K && m.cols%weights.QKK != 0 || (m.act == actQ8_0 || m.act == actQ8_1) && m.cols%weights.QK != 0 {
		return nil, fmt.Errorf("tensor %q: row length %d does not fit %v blocks", t.Name, m.cols, t.DType)
	}
	switch t.DType {
	case weights.F32:
		m.tiled = tileF32
		m.rowsF32 = make([][]float32, m.rows)
		for r := range m.rowsF32 {
			p := t.PhysicalRow(r)
			m.rowsF32[r] = m.f32[p*m.cols : (p+1)*m.cols : (p+1)*m.cols]
		}
		return m, nil
	case weights.F16:
		m.tiled = tileF16
	case weights.BF16:
		m.tiled = tileBF16
	case weights.Q8_0:
		m.tiled, m.q8 = tileQ8, kernels.Q8FormatQ8_0
	case weights.Q4_0:
		m.tiled, m.q8 = tileQ8, kernels.Q8FormatQ4_0
	case weights.Q5_0:
		m.tiled, m.q8 = tileQ8, kernels.Q8FormatQ5_0
	case weights.Q2_K:
		m.tiled, m.kf = tileK, kernels.KFormatQ2_K
	case weights.Q3_K:
		m.tiled, m.kf = tileK, kernels.KFormatQ3_K
	case weights.Q4_K:
		m.tiled, m.kf = tileK, kernels.KFormatQ4_K
	case weights.Q5_K:
		m.tiled, m.kf = tileK, kernels.KFormatQ5_K
	case weights.Q6_K:
		m.tiled, m.kf = tileK, kernels.KFormatQ6_K
	}
	m.rowsBytes = make([][]byte, m.rows)
	for r := range m.rowsBytes {
		m.rowsBytes[r] = t.Row(r)
	}
	return m, nil
}

// actBytes returns the size of one quantized activation row for this matrix.
func (m *matrix) actBytes() int {
	switch m.act {
	case actQ8_0:
		return m.cols / weights.QK * 34
	case actQ8_1:
		return m.cols / weights.QK * 36
	case actQ8_K:
		return m.cols / weights.QKK * 292
	}
	return 0
}

// quantizeActs converts n activation rows to the matrix's activation format.
func (m *matrix) quantizeActs(dst []byte, x []float32, n int) {
	qb := m.actBytes()
	for i := 0; i < n; i++ {
		row := x[i*m.cols : (i+1)*m.cols]
		out := dst[i*qb : (i+1)*qb]
		switch m.act {
		case actQ8_0:
			kernels.QuantizeQ8_0(out, row)
		case actQ8_1:
			kernels.QuantizeQ8_1(out, row)
		case actQ8_K:
			kernels.QuantizeQ8_K(out, row)
		}
	}
}

// matmul computes dst[n×rows] = x[n×cols] · Wᵀ, split over output rows.
// Each output element is one dot product of one weight row with one
// activation row, computed by the tile kernels bit-identically to the
// single dot, so the result does not depend on n, on where a row or token
// falls in a tile, or on the thread count.
func (e *Model) matmul(ws *workspace, dst, x []float32, n int, m *matrix) {
	rows, cols := m.rows, m.cols
	var qx []byte
	qb := m.actBytes()
	if m.act != actF32 {
		qx = ws.bytes(n * qb)
		m.quantizeActs(qx, x, n)
	}
	var acts *kernels.Q8Acts
	var actsK *kernels.Q8KActs
	switch m.tiled {
	case tileQ8:
		acts = &ws.q8
		acts.Set(qx, n, cols)
	case tileK:
		actsK = &ws.q8k
		actsK.Set(qx, n, cols)
	}
	// Chunks start on multiples of 6 so that the 3-row float tiles and
	// 2-row quantized tiles are never split; a decode step (n = 1) has no
	// tiles and shares rows finely.
	align, minChunk := 6, 48
	if n == 1 {
		align, minChunk = 1, 16
	}
	x = x[:n*cols]
	e.pool.parallel(rows, minChunk, align, func(lo, hi int) {
		out := dst[lo:]
		switch m.tiled {
		case tileF32:
			kernels.MatMulF32(out, rows, m.rowsF32[lo:hi], x, n)
		case tileF16:
			kernels.MatMulF16(out, rows, m.rowsBytes[lo:hi], x, n)
		case tileBF16:
			kernels.MatMulBF16(out, rows, m.rowsBytes[lo:hi], x, n)
		case tileQ8:
			kernels.MatMulQ8(out, rows, m.q8, m.rowsBytes[lo:hi], acts)
		case tileK:
			kernels.MatMulQ8K(out, rows, m.kf, m.rowsBytes[lo:hi], actsK)
		default:
			for r := lo; r < hi; r++ {
				w := m.rowsBytes[r]
				if m.dotF != nil {
					for i := 0; i < n; i++ {
						dst[i*rows+r] = m.dotF(w, x[i*cols:(i+1)*cols])
					}
					continue
				}
				for i := 0; i < n; i++ {
					dst[i*rows+r] = m.dotQ(w, qx[i*qb:(i+1)*qb], cols)
				}
			}
		}
	})
}

// f32View returns the bytes of an F32 tensor as float32 values, without a copy
// when the bytes are suitably aligned and the machine is little-endian.
func f32View(b []byte) []float32 {
	n := len(b) / 4
	if n == 0 {
		return []float32{}
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
