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
		s += float32(a[i] * b[i])
	}
	return s
}

// axpyF32NEONSlice runs the last len%4 elements through the assembly too,
// padded to four, so that every element is one fused multiply-add.
func axpyF32NEONSlice(y []float32, alpha float32, x []float32) {
	n4 := len(y) &^ 3
	if n4 > 0 {
		axpyF32NEON(&y[0], alpha, &x[0], n4)
	}
	if n4 == len(y) {
		return
	}
	var yt, xt [4]float32
	copy(yt[:], y[n4:])
	copy(xt[:], x[n4:len(y)])
	axpyF32NEON(&yt[0], alpha, &xt[0], 4)
	copy(y[n4:], yt[:])
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
