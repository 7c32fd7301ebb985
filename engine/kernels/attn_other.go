//go:build !amd64

package kernels

func weightedSumSIMD(out, p, v []float32, ldv int) {
	panic("kernels: no SIMD weighted sum on this architecture")
}
