//go:build arm64

package kernels

//go:noescape
func dotF16NEON(w *byte, x *float32, n int) float32

//go:noescape
func dotBF16NEON(w *byte, x *float32, n int) float32

// The four-row kernels set out[t] to what the single kernel returns for w
// and x_t, bit for bit, widening each weight vector once for the four.

//go:noescape
func dotF16x4NEON(w *byte, x0, x1, x2, x3 *float32, n int, out *[4]float32)

//go:noescape
func dotBF16x4NEON(w *byte, x0, x1, x2, x3 *float32, n int, out *[4]float32)

// The assembly covers whole groups of eight elements; the last len%8 are
// finished here.

func dotF16NEONSlice(w []byte, x []float32) float32 {
	n8 := len(x) &^ 7
	var s float32
	if n8 > 0 {
		s = dotF16NEON(&w[0], &x[0], n8)
	}
	w = w[:2*len(x)]
	for i := n8; i < len(x); i++ {
		s += float32(f16(w[2*i:]) * x[i])
	}
	return s
}

func dotBF16NEONSlice(w []byte, x []float32) float32 {
	n8 := len(x) &^ 7
	var s float32
	if n8 > 0 {
		s = dotBF16NEON(&w[0], &x[0], n8)
	}
	w = w[:2*len(x)]
	for i := n8; i < len(x); i++ {
		s += float32(bf16(w[2*i:]) * x[i])
	}
	return s
}
