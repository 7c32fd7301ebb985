package kernels

import "math"

// expF32 is exp rounded to float32 (math.Exp is accurate to under one ulp of
// float64, so this is the correctly rounded result in all but rare ties).
func expF32(x float32) float32 { return float32(math.Exp(float64(x))) }

func siluGeneric(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = v / (1 + expF32(-v))
	}
}

func swigluGeneric(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	for i := range dst {
		g := gate[i]
		s := g / (1 + expF32(-g))
		dst[i] = s * up[i]
	}
}

func rmsNormGeneric(dst, x, w []float32, eps float32) {
	if len(x) == 0 {
		return
	}
	x, w = x[:len(dst)], w[:len(dst)]
	var sum float64
	for _, v := range x {
		sum += float64(v * v)
	}
	scale := rmsScale(sum, len(x), eps)
	for i, v := range x {
		dst[i] = float32(v*scale) * w[i]
	}
}

// rmsScale turns a float64 sum of squares into ggml's float32 scale
// 1/sqrtf(mean+eps).
func rmsScale(sum float64, n int, eps float32) float32 {
	mean := float32(sum / float64(n))
	return 1 / float32(math.Sqrt(float64(mean+eps)))
}

func softmaxGeneric(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := float32(math.Inf(-1))
	for _, v := range x {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range x {
		e := expF32(v - mx)
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}
