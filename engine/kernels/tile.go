package kernels

import (
	"encoding/binary"
	"fmt"
)

// The matrix-product kernels below multiply a block of weight rows with a
// batch of activation rows. Every output element has exactly the bits of
// the single dot product named in each function's comment, however many
// rows and tokens the call covers and wherever the element falls in a tile;
// so a prefill and a token-by-token decode, or a batch and its rows one at a
// time, agree bit for bit. The speed comes from tiles of several weight
// rows × several activation rows: each weight vector loaded (and for F16
// converted) serves four tokens, each activation vector several rows.

// tokensPerBlock returns how many activation rows of rowBytes bytes one
// pass over the weight rows should cover (a multiple of 4, at least 4).
// Weight rows come from memory once per pass while activations are re-read
// from the caches for every three rows, so a pass covers as many tokens as
// the L3 cache comfortably holds: measured at Qwen2.5-0.5B shapes, 4 MiB
// runs the F16 tiles about 1.6 times as fast as an L2-sized 384 KiB.
func tokensPerBlock(rowBytes int) int {
	const budget = 4 << 20
	t := budget / max(rowBytes, 1)
	return max(4, t&^3)
}

// rowsPerBlock returns how many weight rows of rowBytes bytes to run
// against one tile of activation rows before moving to the next tile: as
// many as stay in the L2 cache together (a multiple of 6, so that both the
// 3-row and the 2-row tiles divide it).
func rowsPerBlock(rowBytes int) int {
	const budget = 192 << 10
	return max(6, budget/max(rowBytes, 1)/6*6)
}

func checkMatMul(kernel string, dst []float32, ldd, rows, n, k, xLen int) {
	if rows == 0 || n == 0 {
		return
	}
	if ldd < rows || len(dst) < (n-1)*ldd+rows {
		panic(fmt.Sprintf("kernels: %s: dst has %d values (ldd %d), %d tokens × %d rows need %d", kernel, len(dst), ldd, n, rows, (n-1)*ldd+rows))
	}
	if xLen < n*k {
		panic(fmt.Sprintf("kernels: %s: %d activation values, %d tokens × %d need %d", kernel, xLen, n, k, n*k))
	}
}

// MatMulF32 sets dst[t*ldd+r] = DotF32(w[r], x[t*k:(t+1)*k]) for every
// weight row r and token t < n, where k = len(w[r]) is the same for every
// row; each element is bit-identical to that DotF32 call.
func MatMulF32(dst []float32, ldd int, w [][]float32, x []float32, n int) {
	if len(w) == 0 || n == 0 {
		return
	}
	k := len(w[0])
	for r := range w {
		sameLen("MatMulF32", len(w[r]), k)
	}
	checkMatMul("MatMulF32", dst, ldd, len(w), n, k, len(x))
	if active.matMulF32 == nil || k == 0 {
		for t := 0; t < n; t++ {
			xt := x[t*k : (t+1)*k]
			for r, wr := range w {
				dst[t*ldd+r] = active.dotF32(wr, xt)
			}
		}
		return
	}
	active.matMulF32(dst, ldd, w, x, n, k)
}

// MatMulF16 sets dst[t*ldd+r] = DotF16(w[r], x[t*k:(t+1)*k]) for every
// weight row r (k half-precision values, 2k bytes, the same for every row)
// and token t < n; each element is bit-identical to that DotF16 call.
func MatMulF16(dst []float32, ldd int, w [][]byte, x []float32, n int) {
	if len(w) == 0 || n == 0 {
		return
	}
	k := len(w[0]) / 2
	for r := range w {
		sameLen("MatMulF16", len(w[r]), 2*k)
	}
	checkMatMul("MatMulF16", dst, ldd, len(w), n, k, len(x))
	if active.matMulF16 == nil || k == 0 {
		for t := 0; t < n; t++ {
			xt := x[t*k : (t+1)*k]
			for r, wr := range w {
				dst[t*ldd+r] = active.dotF16(wr, xt)
			}
		}
		return
	}
	active.matMulF16(dst, ldd, w, x, n, k)
}

// MatMulBF16 sets dst[t*ldd+r] = DotBF16(w[r], x[t*k:(t+1)*k]) for every
// weight row r (k bfloat16 values, 2k bytes, the same for every row) and
// token t < n; each element is bit-identical to that DotBF16 call.
func MatMulBF16(dst []float32, ldd int, w [][]byte, x []float32, n int) {
	if len(w) == 0 || n == 0 {
		return
	}
	k := len(w[0]) / 2
	for r := range w {
		sameLen("MatMulBF16", len(w[r]), 2*k)
	}
	checkMatMul("MatMulBF16", dst, ldd, len(w), n, k, len(x))
	if active.matMulBF16 == nil || k == 0 {
		for t := 0; t < n; t++ {
			xt := x[t*k : (t+1)*k]
			for r, wr := range w {
				dst[t*ldd+r] = active.dotBF16(wr, xt)
			}
		}
		return
	}
	active.matMulBF16(dst, ldd, w, x, n, k)
}

// Q8Format names a weight format whose rows meet Q8_0 activations:
// MatMulQ8 multiplies any of them.
type Q8Format uint8

// The weight formats MatMulQ8 accepts.
const (
	Q8FormatQ8_0 Q8Format = iota // dotted by DotQ8_0
	Q8FormatQ4_0                 // dotted by DotQ4_0
	Q8FormatQ5_0                 // dotted by DotQ5_0
)

// blockBytes is the size of one 32-element weight block in the format.
func (f Q8Format) blockBytes() int {
	switch f {
	case Q8FormatQ4_0:
		return bQ4_0
	case Q8FormatQ5_0:
		return bQ5_0
	}
	return bQ8_0
}

// kernel returns the active single dot for the format.
func (f Q8Format) kernel() func(w, a []byte, n int) float32 {
	switch f {
	case Q8FormatQ4_0:
		return active.dotQ4_0
	case Q8FormatQ5_0:
		return active.dotQ5_0
	}
	return active.dotQ8_0
}

func (f Q8Format) dot(w, a []byte, n int) float32 { return f.kernel()(w, a, n) }

// Q8Acts is a batch of activation rows quantized to Q8_0 (as QuantizeQ8_0
// writes them), together with the block-major copy the tile kernels read.
// The zero value is ready to use; Set reuses its memory.
type Q8Acts struct {
	rows  []byte // n rows of nb Q8_0 blocks
	n, k  int
	panel []byte    // [n/4][nb][4][32] int8 values of whole groups of 4 rows
	scale []float32 // [n/4][nb][4] their block scales
}

// Set makes a hold the n Q8_0 rows of k elements in rows (which a keeps,
// without copying, until the next Set).
func (a *Q8Acts) Set(rows []byte, n, k int) {
	if k%qk != 0 || n < 0 || len(rows) < n*(k/qk)*bQ8_0 {
		panic(fmt.Sprintf("kernels: Q8Acts.Set: %d bytes cannot hold %d Q8_0 rows of %d elements", len(rows), n, k))
	}
	a.rows, a.n, a.k = rows, n, k
	if !useQ8Tiles(n) {
		return
	}
	nb, n4 := k/qk, n&^3
	if cap(a.panel) < nb*n4*32 {
		a.panel = make([]byte, nb*n4*32)
	}
	if cap(a.scale) < nb*n4 {
		a.scale = make([]float32, nb*n4)
	}
	a.panel, a.scale = a.panel[:nb*n4*32], a.scale[:nb*n4]
	// A tile's four rows lie together, block after block, so the tile
	// kernel reads one contiguous run.
	for t := 0; t < n4; t++ {
		row := rows[t*nb*bQ8_0:]
		base := (t/4)*nb*4 + t%4
		for b := 0; b < nb; b++ {
			blk := row[b*bQ8_0 : (b+1)*bQ8_0]
			i := base + b*4
			a.scale[i] = f16(blk)
			*(*[32]byte)(a.panel[i*32:]) = *(*[32]byte)(blk[2:])
		}
	}
}

// useQ8Tiles says whether a batch of n rows is worth the panels: below a
// few tokens unpacking the weights costs more than the tiles save.
func useQ8Tiles(n int) bool { return active.matMulQ8 != nil && n >= 8 }

// MatMulQ8 sets dst[t*ldd+r] to the dot product of weight row w[r] (in
// format f, a.k elements) with activation row t of a, for every row and
// token; each element is bit-identical to the single dot (DotQ8_0,
// DotQ4_0 or DotQ5_0) of the same two rows.
func MatMulQ8(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	n, k := a.n, a.k
	if len(w) == 0 || n == 0 {
		return
	}
	nb := k / qk
	wb := nb * f.blockBytes()
	for r := range w {
		if len(w[r]) < wb {
			panic(fmt.Sprintf("kernels: MatMulQ8: weight row %d has %d bytes, %d elements need %d", r, len(w[r]), k, wb))
		}
	}
	checkMatMul("MatMulQ8", dst, ldd, len(w), n, 0, 0)
	ab := nb * bQ8_0
	if !useQ8Tiles(n) && active.decodeQ8 != nil && k > 0 {
		active.decodeQ8(dst, ldd, f, w, a)
		return
	}
	if !useQ8Tiles(n) || k == 0 {
		dot := f.kernel()
		for t := 0; t < n; t++ {
			at := a.rows[t*ab : (t+1)*ab]
			for r, wr := range w {
				dst[t*ldd+r] = dot(wr, at, k)
			}
		}
		return
	}
	active.matMulQ8(dst, ldd, f, w, a)
}

// unpackQ8 writes weight row w's blocks (format f) into the two-row panel
// slot s (0 or 1): block b's 32 signed values at q[b*64+s*32:] and its scale
// at d[b*2+s]. The values are the integers the single dot kernel multiplies
// (Q4_0 nibbles less 8, Q5_0 five-bit values less 16).
func unpackQ8(q []byte, d []float32, s int, f Q8Format, w []byte, nb int) {
	switch f {
	case Q8FormatQ8_0:
		for b := 0; b < nb; b++ {
			blk := w[b*bQ8_0 : (b+1)*bQ8_0]
			d[b*2+s] = f16(blk)
			// An array assignment, not copy: copy calls memmove, which
			// for 32 bytes cost as much as the prefill tile's work on them.
			*(*[32]byte)(q[b*64+s*32:]) = *(*[32]byte)(blk[2:])
		}
	case Q8FormatQ4_0:
		for b := 0; b < nb; b++ {
			blk := w[b*bQ4_0 : (b+1)*bQ4_0]
			d[b*2+s] = f16(blk)
			out := q[b*64+s*32 : b*64+s*32+32]
			for j, v := range blk[2:18] {
				out[j] = byte(int8(v&15) - 8)
				out[j+16] = byte(int8(v>>4) - 8)
			}
		}
	case Q8FormatQ5_0:
		for b := 0; b < nb; b++ {
			blk := w[b*bQ5_0 : (b+1)*bQ5_0]
			d[b*2+s] = f16(blk)
			qh := binary.LittleEndian.Uint32(blk[2:])
			out := q[b*64+s*32 : b*64+s*32+32]
			for j, v := range blk[6:22] {
				out[j] = byte(int8(v&15|byte(qh>>j&1)<<4) - 16)
				out[j+16] = byte(int8(v>>4|byte(qh>>(j+16)&1)<<4) - 16)
			}
		}
	}
}
