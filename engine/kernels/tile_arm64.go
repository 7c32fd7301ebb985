//go:build arm64

package kernels

import (
	"encoding/binary"
	"math"
)

// arm64's matrix products run four activation rows at a time through
// kernels that repeat the single dot's arithmetic for each (the weights
// are loaded and widened or decoded once for the four), and the rest
// through the single dots, so every element is bit-identical to its single
// dot. They go in cache blocks: a block of weight rows (as
// many as rowsPerBlock keeps in L2) meets every token of a block of
// activation rows (tokensPerBlock's L3 budget) before the next block of
// rows is read, instead of every weight row coming from memory once per
// token.

// blocked calls dot(r, t) for every row r < rows and token t < n, in cache
// blocks; rowBytes and tokBytes are the sizes of one weight row and one
// activation row.
func blocked(rows, n, rowBytes, tokBytes int, dot func(r, t int)) {
	rb, tb := rowsPerBlock(rowBytes), tokensPerBlock(tokBytes)
	for t0 := 0; t0 < n; t0 += tb {
		t1 := min(t0+tb, n)
		for r0 := 0; r0 < rows; r0 += rb {
			r1 := min(r0+rb, rows)
			for t := t0; t < t1; t++ {
				for r := r0; r < r1; r++ {
					dot(r, t)
				}
			}
		}
	}
}

func blockedMatMulF32(dotF32 func(a, b []float32) float32) func(dst []float32, ldd int, w [][]float32, x []float32, n, k int) {
	return func(dst []float32, ldd int, w [][]float32, x []float32, n, k int) {
		blocked(len(w), n, 4*k, 4*k, func(r, t int) {
			dst[t*ldd+r] = dotF32(w[r], x[t*k:(t+1)*k])
		})
	}
}

// blockedMatMulHalf serves F16 and BF16 rows (two bytes per element):
// groups of four tokens go through four, which does the first k&^7
// elements of each dot exactly as the single kernel's assembly does, and
// the last k%8 products are added here as the single kernel's wrapper
// adds them (widen reads one weight). Leftover tokens use one.
func blockedMatMulHalf(one func(w []byte, x []float32) float32,
	four func(w *byte, x0, x1, x2, x3 *float32, n int, out *[4]float32),
	widen func(b []byte) float32) func(dst []float32, ldd int, w [][]byte, x []float32, n, k int) {
	return func(dst []float32, ldd int, w [][]byte, x []float32, n, k int) {
		k8, n4 := k&^7, n&^3
		blocked(len(w), n4/4, 2*k, 16*k, func(r, g int) {
			t := 4 * g
			wr := w[r][:2*k]
			var out [4]float32
			if k8 > 0 {
				four(&wr[0], &x[t*k], &x[(t+1)*k], &x[(t+2)*k], &x[(t+3)*k], k8, &out)
			}
			for i, s := range out {
				xt := x[(t+i)*k : (t+i+1)*k]
				for j := k8; j < k; j++ {
					s += float32(widen(wr[2*j:]) * xt[j])
				}
				dst[(t+i)*ldd+r] = s
			}
		})
		for t := n4; t < n; t++ {
			xt := x[t*k : (t+1)*k]
			for r, wr := range w {
				dst[t*ldd+r] = one(wr, xt)
			}
		}
	}
}

// q8Dots are a level's single and four-token dots of one Q8Format.
type q8Dots struct {
	one  func(w, a []byte, n int) float32
	four dot4
}

// blockedMatMulQ8 runs groups of four tokens through the four-token
// kernels (each weight block decoded once for the four) and the rest
// through the single dots, in cache blocks. dots is indexed by Q8Format.
func blockedMatMulQ8(dots [3]q8Dots) func(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	return func(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
		d := dots[f]
		k, n := a.k, a.n
		nb, ab := k/qk, k/qk*bQ8_0
		n4 := n &^ 3
		var out [4]float32
		blocked(len(w), n4/4, nb*f.blockBytes(), 4*ab, func(r, g int) {
			t := 4 * g
			rows := a.rows[t*ab:]
			d.four(&w[r][0], &rows[0], &rows[ab], &rows[2*ab], &rows[3*ab], nb, &out)
			for i, v := range out {
				dst[(t+i)*ldd+r] = v
			}
		})
		for t := n4; t < n; t++ {
			at := a.rows[t*ab : (t+1)*ab]
			for r, wr := range w {
				dst[t*ldd+r] = d.one(wr, at, k)
			}
		}
	}
}

// decodeQ8NEON returns the level's decodeQ8: each of the few activation
// rows against the weight rows four at a time (rows4, by Q8Format: four
// independent accumulator chains), the rows left over through the level's
// single dots (one).
func decodeQ8NEON(rows4 [3]func(w *[4]*byte, a *byte, nb int, dst *float32), one [3]func(w, a []byte, n int) float32) func(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	return func(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
		nb := a.k / qk
		ab := nb * bQ8_0
		var ptrs [4]*byte
		r4 := len(w) &^ 3
		for t := 0; t < a.n; t++ {
			at := a.rows[t*ab : (t+1)*ab]
			for r := 0; r < r4; r += 4 {
				ptrs[0], ptrs[1], ptrs[2], ptrs[3] = &w[r][0], &w[r+1][0], &w[r+2][0], &w[r+3][0]
				rows4[f](&ptrs, &at[0], nb, &dst[t*ldd+r])
			}
			for r := r4; r < len(w); r++ {
				dst[t*ldd+r] = one[f](w[r], at, a.k)
			}
		}
	}
}

// matMulKNEON returns the level's matMulK (Q4_K and Q6_K batches of at
// least kTileMin tokens): Q4_K runs four tokens per pass through lanes4,
// each super-block's nibbles decoded once for the four and the float32
// arithmetic per token exactly dotQ4_KGeneric's; Q6_K runs the single dots
// in cache blocks.
func matMulKNEON(lanes4 func(qs *byte, q8 *[4]*byte, sc *[8]int32, out *[4][8]int32), dotQ4K, dotQ6K func(w, a []byte, n int) float32) func(dst []float32, ldd int, f KFormat, w [][]byte, a *Q8KActs) {
	return func(dst []float32, ldd int, f KFormat, w [][]byte, a *Q8KActs) {
		k, n := a.k, a.n
		nsb := k / qkK
		ab := nsb * bQ8_K
		one := dotQ4K
		if f != KFormatQ4_K {
			one = dotQ6K
			blocked(len(w), n, nsb*f.blockBytes(), ab, func(r, t int) {
				dst[t*ldd+r] = one(w[r], a.rows[t*ab:(t+1)*ab], k)
			})
			return
		}
		n4 := n &^ 3
		blocked(len(w), n4/4, nsb*bQ4_K, 4*ab, func(r, g int) {
			t := 4 * g
			var acc [4]lanes8
			var accM [4][4]float32
			var ptrs [4]*byte
			var sc, mins [8]int32
			var lanes [4][8]int32
			for b := 0; b < nsb; b++ {
				wb := w[r][b*bQ4_K : (b+1)*bQ4_K]
				for j := range 8 {
					sc[j], mins[j] = scaleMinK4(j, wb[4:16])
				}
				for i := range ptrs {
					ptrs[i] = &a.rows[(t+i)*ab+b*bQ8_K+4]
				}
				lanes4(&wb[16], &ptrs, &sc, &lanes)
				dw, dminw := f16(wb), f16(wb[2:])
				for i := range acc {
					blk := a.rows[(t+i)*ab+b*bQ8_K:]
					dy := math.Float32frombits(binary.LittleEndian.Uint32(blk))
					prod := q4KBlockSums(&mins, blk)
					d := dy * dw
					dmin := -dy * dminw
					for m := range accM[i] {
						accM[i][m] = fma32(dmin, float32(prod[m]), accM[i][m])
					}
					acc[i].add(d, &lanes[i])
				}
			}
			for i := range acc {
				dst[(t+i)*ldd+r] = acc[i].hsum() + hsum4(accM[i])
			}
		})
		for t := n4; t < n; t++ {
			at := a.rows[t*ab : (t+1)*ab]
			for r, wr := range w {
				dst[t*ldd+r] = one(wr, at, k)
			}
		}
	}
}
