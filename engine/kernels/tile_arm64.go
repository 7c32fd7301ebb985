//go:build arm64

package kernels

// arm64 has no tile kernels yet: the matrix products run the active single
// dots row by row, which makes every element bit-identical to its single
// dot by construction.

func matMulF32SIMD(dst []float32, ldd int, w [][]float32, x []float32, n, k int) {
	for t := 0; t < n; t++ {
		xt := x[t*k : (t+1)*k]
		for r, wr := range w {
			dst[t*ldd+r] = active.dotF32(wr, xt)
		}
	}
}

func matMulF16SIMD(dst []float32, ldd int, w [][]byte, x []float32, n, k int) {
	for t := 0; t < n; t++ {
		xt := x[t*k : (t+1)*k]
		for r, wr := range w {
			dst[t*ldd+r] = active.dotF16(wr, xt)
		}
	}
}

func matMulQ8SIMD(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	dot, k := f.kernel(), a.k
	ab := k / qk * bQ8_0
	for t := 0; t < a.n; t++ {
		at := a.rows[t*ab : (t+1)*ab]
		for r, wr := range w {
			dst[t*ldd+r] = dot(wr, at, k)
		}
	}
}
