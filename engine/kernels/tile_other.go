//go:build !amd64

package kernels

// Without assembly every kernel set is the generic one, so the MatMul
// functions never reach these.

func matMulF32SIMD(dst []float32, ldd int, w [][]float32, x []float32, n, k int) {
	panic("kernels: no SIMD tiles on this architecture")
}

func matMulF16SIMD(dst []float32, ldd int, w [][]byte, x []float32, n, k int) {
	panic("kernels: no SIMD tiles on this architecture")
}

func matMulQ8SIMD(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts) {
	panic("kernels: no SIMD tiles on this architecture")
}
