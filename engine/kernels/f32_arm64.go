//go:build arm64

package kernels

//go:noescape
func dotF32NEON(a, b *float32, n int) float32

//go:noescape
func axpyF32NEON(y *float32, alpha float32, x *float32, n int)

//go:noescape
func scaleF32NEON(x *float32, s float32, n int)

// The assembly covers whole groups of four elements; the last len%4 are
// finished here.

func dotF32NEONSlice(a, b []float32) float32 {
	n4 := len(a) &^ 3
	var s float32
	if n4 > 0 {
		s = dotF32NEON(&a[0], &b[0], n4)
	}
	b = b[:len(a)]
	for i := n4; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

func axpyF32NEONSlice(y []float32, alpha float32, x []float32) {
	n4 := len(y) &^ 3
	if n4 > 0 {
		axpyF32NEON(&y[0], alpha, &x[0], n4)
	}
	x = x[:len(y)]
	for i := n4; i < len(y); i++ {
		y[i] += alpha * x[i]
	}
}

func scaleF32NEONSlice(x []float32, s float32) {
	n4 := len(x) &^ 3
	if n4 > 0 {
		scaleF32NEON(&x[0], s, n4)
	}
	for i := n4; i < len(x); i++ {
		x[i] *= s
	}
}
