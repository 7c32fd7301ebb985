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

// The element-wise kernels run whole vectors of eight in assembly; the last
// n%8 elements go through the same assembly in a padded stack buffer, so
// every element gets the same arithmetic wherever it sits.

// pad8 copies the tail of x (fewer than 8 elements) into a buffer filled
// with fill.
func pad8(x []float32, fill float32) (buf [8]float32) {
	for i := range buf {
		buf[i] = fill
	}
	copy(buf[:], x)
	return buf
}

func siluSIMD(dst, x []float32) {
	n8 := len(x) &^ 7
	if n8 > 0 {
		siluAVX(&dst[0], &x[0], n8)
	}
	if n8 < len(x) {
		buf := pad8(x[n8:], 0)
		siluAVX(&buf[0], &buf[0], 8)
		copy(dst[n8:], buf[:])
	}
}

func swigluSIMD(dst, gate, up []float32) {
	n8 := len(dst) &^ 7
	if n8 > 0 {
		swigluAVX(&dst[0], &gate[0], &up[0], n8)
	}
	if n8 < len(dst) {
		g, u := pad8(gate[n8:], 0), pad8(up[n8:], 0)
		swigluAVX(&g[0], &g[0], &u[0], 8)
		copy(dst[n8:], g[:])
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
		buf := pad8(x[n8:], 0)
		sum += sumSquaresAVX(&buf[0], 8)
	}
	scale := rmsScale(sum, len(x), eps)
	if n8 > 0 {
		scaleMulAVX(&dst[0], &x[0], &w[0], scale, n8)
	}
	if n8 < len(x) {
		xb, wb := pad8(x[n8:], 0), pad8(w[n8:], 0)
		scaleMulAVX(&xb[0], &xb[0], &wb[0], scale, 8)
		copy(dst[n8:], xb[:])
	}
}

func softmaxSIMD(x []float32) {
	if len(x) == 0 {
		return
	}
	n8 := len(x) &^ 7
	negInf := float32(math.Inf(-1))
	var tail [8]float32
	mx := negInf
	if n8 > 0 {
		mx = maxF32AVX(&x[0], n8)
	}
	if n8 < len(x) {
		tail = pad8(x[n8:], negInf)
		mx = max(mx, maxF32AVX(&tail[0], 8))
	}
	var sum float64
	if n8 > 0 {
		sum = expSubSumAVX(&x[0], n8, mx)
	}
	if n8 < len(x) {
		sum += expSubSumAVX(&tail[0], 8, mx) // padding adds exp(-inf) = 0
		copy(x[n8:], tail[:])
	}
	scaleF32SIMD(x, float32(1/sum))
}
