//go:build amd64

package kernels

import "math"

//go:noescape
func siluAVX(dst, x *float32, n int)

//go:noescape
func swigluAVX(dst, gate, up *float32, n int)

//go:noescape
func expSubSumAVX(x *float32, n int, m float32) float64

//go:noescape
func maxF32AVX(x *float32, n int) float32

//go:noescape
func sumSquaresAVX(x *float32, n int) float64

//go:noescape
func scaleMulAVX(dst, x, w *float32, s float32, n int)

// The element-wise kernels run whole groups of eight in assembly. The last
// n%8 elements take ggml's scalar route (see activ.go), shared with the
// generic code, except in RMSNorm, where padding with zeros is exact.

// pad8 copies the tail of x (fewer than 8 elements) into a zeroed buffer.
func pad8(x []float32) (buf [8]float32) {
	copy(buf[:], x)
	return buf
}

func siluSIMD(dst, x []float32) {
	n8 := len(x) &^ 7
	if n8 > 0 {
		siluAVX(&dst[0], &x[0], n8)
	}
	for i := n8; i < len(x); i++ {
		dst[i] = x[i] / (1 + expF32(-x[i]))
	}
}

func swigluSIMD(dst, gate, up []float32) {
	n8 := len(dst) &^ 7
	if n8 > 0 {
		swigluAVX(&dst[0], &gate[0], &up[0], n8)
	}
	for i := n8; i < len(dst); i++ {
		g := gate[i]
		s := g / (1 + expF32(-g))
		dst[i] = s * up[i]
	}
}

func rmsNormSIMD(dst, x, w []float32, eps float32) {
	if len(x) == 0 {
		return
	}
	n8 := len(x) &^ 7
	var sum float64
	if n8 > 0 {
		sum = sumSquaresAVX(&x[0], n8)
	}
	if n8 < len(x) {
		buf := pad8(x[n8:])
		sum += sumSquaresAVX(&buf[0], 8)
	}
	scale := rmsScale(sum, len(x), eps)
	if n8 > 0 {
		scaleMulAVX(&dst[0], &x[0], &w[0], scale, n8)
	}
	if n8 < len(x) {
		xb, wb := pad8(x[n8:]), pad8(w[n8:])
		scaleMulAVX(&xb[0], &xb[0], &wb[0], scale, 8)
		copy(dst[n8:], xb[:])
	}
}

func softmaxSIMD(x []float32) {
	if len(x) == 0 {
		return
	}
	n8 := len(x) &^ 7
	mx := float32(math.Inf(-1))
	if n8 > 0 {
		mx = maxF32AVX(&x[0], n8)
	}
	for _, v := range x[n8:] {
		mx = max(mx, v)
	}
	var sum float64
	if n8 > 0 {
		sum = expSubSumAVX(&x[0], n8, mx)
	}
	for i := n8; i < len(x); i++ {
		e := expF32(x[i] - mx)
		x[i] = e
		sum += float64(e)
	}
	scaleF32SIMD(x, float32(1/sum))
}
