//go:build amd64

package kernels

//go:noescape
func dotF16AVX(w *byte, x *float32, n int) float32

//go:noescape
func dotBF16AVX(w *byte, x *float32, n int) float32

func dotF16SIMD(w []byte, x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return dotF16AVX(&w[0], &x[0], len(x))
}

func dotBF16SIMD(w []byte, x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return dotBF16AVX(&w[0], &x[0], len(x))
}
