//go:build amd64

package kernels

import (
	"sync"
	"unsafe"
)

//go:noescape
func tileF32x3x4AVX(w *[3]unsafe.Pointer, x *float32, ldx, k int, dst *float32, ldd int, scratch *[384]float32)

//go:noescape
func tileF16x3x4AVX(w *[3]unsafe.Pointer, x *float32, ldx, k int, dst *float32, ldd int, scratch *[384]float32)

//go:noescape
func tileQ8x2x4AVX(wq *byte, wd *float32, aq *byte, ad *float32, n, nb int, dst *float32, ldd int)

//go:noescape
func rowsF32x3AVX(w *unsafe.Pointer, nrows int, x *float32, ldx, k int, dst *float32, ldd int)

//go:noescape
func rowsF16x3AVX(w *unsafe.Pointer, nrows int, x *float32, ldx, k int, dst *float32, ldd int)

// smallK is the longest row the register-only 1×3 kernels take; longer
// rows go to the 3×4 tiles, whose phase passes pay off once each pass has
// several chunks of 32 to sum.
const smallK = 128

//go:noescape
func tileTailF32AVX(w *byte, x *float32, n int, acc float32) float32

//go:noescape
func tileTailF16AVX(w *byte, x *float32, n int, acc float32) float32

//go:noescape
func tileBF16x3x4AVX(w *[3]unsafe.Pointer, x *float32, ldx, k int, dst *float32, ldd int, scratch *[384]float32)

//go:noescape
func rowsBF16x3AVX(w *unsafe.Pointer, nrows int, x *float32, ldx, k int, dst *float32, ldd int)

//go:noescape
func tileTailBF16AVX(w *byte, x *float32, n int, acc float32) float32

//go:noescape
func tileF16x3x4AVX512(w *[3]unsafe.Pointer, x *float32, ldx, k int, dst *float32, ldd int)

//go:noescape
func tileBF16x3x4AVX512(w *[3]unsafe.Pointer, x *float32, ldx, k int, dst *float32, ldd int)

func matMulF32SIMD(dst []float32, ldd int, w [][]float32, x []float32, n, k int) {
	if k <= smallK {
		matMulF32Rows(dst, ldd, w, x, n, k)
		return
	}
	matMulF32Tiles(dst, ldd, w, x, n, k)
}

func matMulF16SIMD(dst []float32, ldd int, w [][]byte, x []float32, n, k int) {
	matMulHalf(dst, ldd, w, x, n, k, halfF16)
}

// matMulBF16SIMD is matMulF16SIMD for bfloat16 rows, against dotBF16SIMD.
func matMulBF16SIMD(dst []float32, ldd int, w [][]byte, x []float32, n, k int) {
	matMulHalf(dst, ldd, w, x, n, k, halfBF16)
}

// matMulF16AVX512 is matMulF16SIMD with the tiles on 512-bit registers,
// bit-identical to it.
func matMulF16AVX512(dst []float32, ldd int, w [][]byte, x []float32, n, k int) {
	matMulHalf(dst, ldd, w, x, n, k, halfF16Z)
}

// matMulBF16AVX512 is matMulBF16SIMD with the tiles on 512-bit registers.
func matMulBF16AVX512(dst []float32, ldd int, w [][]byte, x []float32, n, k int) {
	matMulHalf(dst, ldd, w, x, n, k, halfBF16Z)
}

// matMulHalf runs short rows through the register-only row kernels and
// longer ones through the tiles of the given kind.
func matMulHalf(dst []float32, ldd int, w [][]byte, x []float32, n, k int, kind halfTile) {
	if k <= smallK {
		matMulF16Rows(dst, ldd, w, x, n, k, kind.bf16())
		return
	}
	matMulF16Tiles(dst, ldd, w, x, n, k, kind)
}

// matMulF32Rows runs every weight row against three tokens at a time.
func matMulF32Rows(dst []float32, ldd int, w [][]float32, x []float32, n, k int) {
	k8 := k &^ 7
	t := 0
	for ; t+3 <= n; t += 3 {
		rowsF32x3AVX((*unsafe.Pointer)(unsafe.Pointer(&w[0])), len(w), &x[t*k], 4*k, k, &dst[t*ldd], 4*ldd)
		if k8 != k {
			for i := t; i < t+3; i++ {
				xt := x[i*k+k8:]
				for r, wr := range w {
					e := &dst[i*ldd+r]
					*e = tileTailF32AVX((*byte)(unsafe.Pointer(&wr[k8])), &xt[0], k-k8, *e)
				}
			}
		}
	}
	for ; t < n; t++ {
		xt := x[t*k : (t+1)*k]
		for r, wr := range w {
			dst[t*ldd+r] = dotF32SIMD(wr, xt)
		}
	}
}

// matMulF16Rows runs every weight row against three tokens at a time;
// bf says the rows are bfloat16, not IEEE half precision. (The kernels are
// called directly, not through function values, so that their pointer
// arguments stay on the stack.)
func matMulF16Rows(dst []float32, ldd int, w [][]byte, x []float32, n, k int, bf bool) {
	k8 := k &^ 7
	t := 0
	for ; t+3 <= n; t += 3 {
		if bf {
			rowsBF16x3AVX((*unsafe.Pointer)(unsafe.Pointer(&w[0])), len(w), &x[t*k], 4*k, k, &dst[t*ldd], 4*ldd)
		} else {
			rowsF16x3AVX((*unsafe.Pointer)(unsafe.Pointer(&w[0])), len(w), &x[t*k], 4*k, k, &dst[t*ldd], 4*ldd)
		}
		if k8 != k {
			for i := t; i < t+3; i++ {
				xt := x[i*k+k8:]
				for r, wr := range w {
					e := &dst[i*ldd+r]
					*e = halfTail(bf, &wr[2*k8], &xt[0], k-k8, *e)
				}
			}
		}
	}
	for ; t < n; t++ {
		xt := x[t*k : (t+1)*k]
		for r, wr := range w {
			dst[t*ldd+r] = halfDot(bf, wr, xt)
		}
	}
}

func matMulF32Tiles(dst []float32, ldd int, w [][]float32, x []float32, n, k int) {
	var scratch [384]float32
	var ptrs [3]unsafe.Pointer
	k8 := k &^ 7
	tb := tokensPerBlock(4 * k)
	rb := rowsPerBlock(4 * k)
	for t0 := 0; t0 < n; t0 += tb {
		t1 := min(n, t0+tb)
		t4 := t0 + (t1-t0)&^3
		nr3 := len(w) - len(w)%3
		for r0 := 0; r0 < nr3; r0 += rb {
			r1 := min(nr3, r0+rb)
			for t := t0; t < t4; t += 4 {
				for r := r0; r < r1; r += 3 {
					ptrs[0], ptrs[1], ptrs[2] = unsafe.Pointer(&w[r][0]), unsafe.Pointer(&w[r+1][0]), unsafe.Pointer(&w[r+2][0])
					tileF32x3x4AVX(&ptrs, &x[t*k], 4*k, k, &dst[t*ldd+r], 4*ldd, &scratch)
					if k8 != k {
						for i := 0; i < 4; i++ {
							xt := x[(t+i)*k+k8:]
							for j := 0; j < 3; j++ {
								e := &dst[(t+i)*ldd+r+j]
								*e = tileTailF32AVX((*byte)(unsafe.Pointer(&w[r+j][k8])), &xt[0], k-k8, *e)
							}
						}
					}
				}
			}
		}
		r := nr3
		for ; r < len(w); r++ {
			for t := t0; t < t4; t++ {
				dst[t*ldd+r] = dotF32SIMD(w[r], x[t*k:(t+1)*k])
			}
		}
		for t := t4; t < t1; t++ {
			xt := x[t*k : (t+1)*k]
			for r, wr := range w {
				dst[t*ldd+r] = dotF32SIMD(wr, xt)
			}
		}
	}
}

// halfTail adds the last k%8 products of a half-precision row as the
// single dot does.
func halfTail(bf bool, w *byte, x *float32, n int, acc float32) float32 {
	if bf {
		return tileTailBF16AVX(w, x, n, acc)
	}
	return tileTailF16AVX(w, x, n, acc)
}

func halfDot(bf bool, w []byte, x []float32) float32 {
	if bf {
		return dotBF16SIMD(w, x)
	}
	return dotF16SIMD(w, x)
}

// halfTile names the tile kernel matMulF16Tiles runs: the weights' format
// and the register width.
type halfTile uint8

const (
	halfF16   halfTile = iota // tileF16x3x4AVX
	halfBF16                  // tileBF16x3x4AVX
	halfF16Z                  // tileF16x3x4AVX512
	halfBF16Z                 // tileBF16x3x4AVX512
)

// bf16 says the kind's weights are bfloat16.
func (kind halfTile) bf16() bool { return kind == halfBF16 || kind == halfBF16Z }

func matMulF16Tiles(dst []float32, ldd int, w [][]byte, x []float32, n, k int, kind halfTile) {
	bf := kind.bf16()
	var scratch [384]float32
	var ptrs [3]unsafe.Pointer
	k8 := k &^ 7
	tb := tokensPerBlock(4 * k)
	rb := rowsPerBlock(2 * k)
	for t0 := 0; t0 < n; t0 += tb {
		t1 := min(n, t0+tb)
		t4 := t0 + (t1-t0)&^3
		nr3 := len(w) - len(w)%3
		for r0 := 0; r0 < nr3; r0 += rb {
			r1 := min(nr3, r0+rb)
			for t := t0; t < t4; t += 4 {
				for r := r0; r < r1; r += 3 {
					ptrs[0], ptrs[1], ptrs[2] = unsafe.Pointer(&w[r][0]), unsafe.Pointer(&w[r+1][0]), unsafe.Pointer(&w[r+2][0])
					switch kind {
					case halfF16:
						tileF16x3x4AVX(&ptrs, &x[t*k], 4*k, k, &dst[t*ldd+r], 4*ldd, &scratch)
					case halfBF16:
						tileBF16x3x4AVX(&ptrs, &x[t*k], 4*k, k, &dst[t*ldd+r], 4*ldd, &scratch)
					case halfF16Z:
						tileF16x3x4AVX512(&ptrs, &x[t*k], 4*k, k, &dst[t*ldd+r], 4*ldd)
					case halfBF16Z:
						tileBF16x3x4AVX512(&ptrs, &x[t*k], 4*k, k, &dst[t*ldd+r], 4*ldd)
					}
					if k8 != k {
						for i := 0; i < 4; i++ {
							xt := x[(t+i)*k+k8:]
							for j := 0; j < 3; j++ {
								e := &dst[(t+i)*ldd+r+j]
								*e = halfTail(bf, &w[r+j][2*k8], &xt[0], k-k8, *e)
							}
						}
					}
				}
			}
		}
		r := nr3
		for ; r < len(w); r++ {
			for t := t0; t < t4; t++ {
				dst[t*ldd+r] = halfDot(bf, w[r], x[t*k:(t+1)*k])
			}
		}
		for t := t4; t < t1; t++ {
			xt := x[t*k : (t+1)*k]
			for r, wr := range w {
				dst[t*ldd+r] = halfDot(bf, wr, xt)
			}
		}
	}
}

// q8Panel is the unpacked weight rows of one row block (see unpackQ8),
// kept between calls so that small batches do not allocate them each time.
type q8Panel struct {
	q []byte
	d []float32
}

var q8Panels = sync.Pool{New: func() any { return new(q8Panel) }}

func matMulQ8SIMD(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	matMulQ8Panels(dst, ldd, f, w, a, q8RunAVX2)
}

func matMulQ8AVX512(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	matMulQ8Panels(dst, ldd, f, w, a, q8RunAVX512)
}

// A q8Run multiplies npairs consecutive row pairs of an unpacked panel (q,
// d as unpackQ8 writes them, nb blocks a row) with one group of four
// activation rows (aq, ad in Q8Acts' panel), writing dst[t*ldd+r].
type q8Run func(q []byte, d []float32, nb, npairs int, aq *byte, ad *float32, dst []float32, ldd int)

func q8RunAVX2(q []byte, d []float32, nb, npairs int, aq *byte, ad *float32, dst []float32, ldd int) {
	for p := 0; p < npairs; p++ {
		tileQ8x2x4AVX(&q[p*nb*64], &d[p*nb*2], aq, ad, 4, nb, &dst[2*p], 4*ldd)
	}
}

func matMulQ8AVXVNNI(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	matMulQ8Panels(dst, ldd, f, w, a, q8RunAVXVNNI)
}

func q8RunAVXVNNI(q []byte, d []float32, nb, npairs int, aq *byte, ad *float32, dst []float32, ldd int) {
	for p := 0; p < npairs; p++ {
		tileQ8x2x4AVXVNNI(&q[p*nb*64], &d[p*nb*2], aq, ad, 4, nb, &dst[2*p], 4*ldd)
	}
}

func q8RunAVX512(q []byte, d []float32, nb, npairs int, aq *byte, ad *float32, dst []float32, ldd int) {
	p := 0
	for ; p+3 <= npairs; p += 3 {
		tileQ8x6x4AVX512(&q[p*nb*64], &d[p*nb*2], aq, ad, nb, &dst[2*p], 4*ldd)
	}
	for ; p < npairs; p++ {
		tileQ8x2x4AVX512(&q[p*nb*64], &d[p*nb*2], aq, ad, nb, &dst[2*p], 4*ldd)
	}
}

// matMulQ8Panels unpacks the weight rows, a block of rows at a time, into
// two-row panels and runs them against every group of four activation rows
// with run; odd rows and tokens take the single dots.
func matMulQ8Panels(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts, run q8Run) {
	n, k := a.n, a.k
	nb := k / qk
	ab := nb * bQ8_0
	rb := min(rowsPerBlock(nb*36), (len(w)+1)&^1)
	pn := q8Panels.Get().(*q8Panel)
	defer q8Panels.Put(pn)
	if cap(pn.q) < rb/2*nb*64 {
		pn.q, pn.d = make([]byte, rb/2*nb*64), make([]float32, rb/2*nb*2)
	}
	q, d := pn.q[:rb/2*nb*64], pn.d[:rb/2*nb*2]
	n4 := n &^ 3
	nr2 := len(w) &^ 1
	for r0 := 0; r0 < nr2; r0 += rb {
		r1 := min(nr2, r0+rb)
		for r := r0; r < r1; r += 2 {
			p := (r - r0) / 2
			unpackQ8(q[p*nb*64:], d[p*nb*2:], 0, f, w[r], nb)
			unpackQ8(q[p*nb*64:], d[p*nb*2:], 1, f, w[r+1], nb)
		}
		for t := 0; t < n4; t += 4 {
			run(q, d, nb, (r1-r0)/2, &a.panel[t*nb*32], &a.scale[t*nb], dst[t*ldd+r0:], ldd)
		}
	}
	for r := nr2; r < len(w); r++ {
		for t := 0; t < n4; t++ {
			dst[t*ldd+r] = f.dot(w[r], a.rows[t*ab:(t+1)*ab], k)
		}
	}
	for t := n4; t < n; t++ {
		at := a.rows[t*ab : (t+1)*ab]
		for r, wr := range w {
			dst[t*ldd+r] = f.dot(wr, at, k)
		}
	}
}

//go:noescape
func tileQ8x6x4AVX512(wq *byte, wd *float32, aq *byte, ad *float32, nb int, dst *float32, ldd int)

//go:noescape
func tileQ8x2x4AVX512(wq *byte, wd *float32, aq *byte, ad *float32, nb int, dst *float32, ldd int)

//go:noescape
func tileQ8x2x4AVXVNNI(wq *byte, wd *float32, aq *byte, ad *float32, n, nb int, dst *float32, ldd int)

//go:noescape
func rowsQ8_0x4AVX(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ8_0x4AVXVNNI(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ8_0x4AVX512(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ4_0x4AVX(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ4_0x4AVXVNNI(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ4_0x4AVX512(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ5_0x4AVX(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ5_0x4AVXVNNI(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ5_0x4AVX512(w *[4]*byte, a *byte, nb int, dst *float32)

// Levels of the rows kernels, for decodeQ8.
const (
	rowsAVX = iota
	rowsAVXVNNI
	rowsAVX512
)

// rowsQ8x4 runs the rows kernel of format f at the level.
func rowsQ8x4(level int, f Q8Format, w *[4]*byte, a *byte, nb int, dst *float32) {
	switch f {
	case Q8FormatQ8_0:
		switch level {
		case rowsAVX512:
			rowsQ8_0x4AVX512(w, a, nb, dst)
		case rowsAVXVNNI:
			rowsQ8_0x4AVXVNNI(w, a, nb, dst)
		default:
			rowsQ8_0x4AVX(w, a, nb, dst)
		}
	case Q8FormatQ4_0:
		switch level {
		case rowsAVX512:
			rowsQ4_0x4AVX512(w, a, nb, dst)
		case rowsAVXVNNI:
			rowsQ4_0x4AVXVNNI(w, a, nb, dst)
		default:
			rowsQ4_0x4AVX(w, a, nb, dst)
		}
	default:
		switch level {
		case rowsAVX512:
			rowsQ5_0x4AVX512(w, a, nb, dst)
		case rowsAVXVNNI:
			rowsQ5_0x4AVXVNNI(w, a, nb, dst)
		default:
			rowsQ5_0x4AVX(w, a, nb, dst)
		}
	}
}

func decodeQ8AVX(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	decodeQ8(dst, ldd, f, w, a, rowsAVX)
}

func decodeQ8AVXVNNI(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	decodeQ8(dst, ldd, f, w, a, rowsAVXVNNI)
}

func decodeQ8AVX512(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	decodeQ8(dst, ldd, f, w, a, rowsAVX512)
}

// rowsKernelMaxGroup is the largest four rows (in bytes) the rows kernels
// take. They prefetch the next group of rows themselves (the hardware
// prefetcher loses track of four interleaved streams), and past this size
// that reaches too far ahead: on a DRAM-resident matrix with 4864-wide
// Q8_0 rows they read 23.8 GB/s against the single dots' 25.9, while on
// 896-wide rows they read 33.6 against 24.4 (Zen 5, one thread).
const rowsKernelMaxGroup = 8192

// decodeQ8 runs each of the n activation rows (n below the tiles'
// minimum) against the weight rows four at a time with the level's rows
// kernel; the rows left over take single dots.
func decodeQ8(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts, level int) {
	nb := a.k / qk
	ab := nb * bQ8_0
	var ptrs [4]*byte
	r4 := len(w) &^ 3
	if 4*nb*f.blockBytes() >= rowsKernelMaxGroup {
		r4 = 0
	}
	for t := 0; t < a.n; t++ {
		at := a.rows[t*ab : (t+1)*ab]
		for r := 0; r < r4; r += 4 {
			ptrs[0], ptrs[1], ptrs[2], ptrs[3] = &w[r][0], &w[r+1][0], &w[r+2][0], &w[r+3][0]
			rowsQ8x4(level, f, &ptrs, &at[0], nb, &dst[t*ldd+r])
		}
		for r := r4; r < len(w); r++ {
			dst[t*ldd+r] = f.dot(w[r], at, a.k)
		}
	}
}
