package kernels

import "math"

// The activations reproduce what ggml computes on an AVX2 machine, so that
// the engine's FFN activations and attention weights match llama.cpp bit
// for bit (refdata confirms this for SiLU on llama-tiny): every full group
// of eight elements from the start of the slice goes through ggml's vector
// exp (ggmlExp8), and the last len%8 elements through a scalar exp, as
// ggml's own tail loops do.

// fma32 is a float32 fused multiply-add. The float32 product is exact in
// float64, so only the final rounding can differ from a true float32 FMA,
// and then only when the float64 sum lands exactly on a float32 tie.
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// ggmlExp is the exp approximation of ggml's AVX2 ggml_v_expf (adapted
// there from Arm's optimized-routines): n = round(x/ln 2) by the 1.5·2²³
// trick, a two-part ln 2 reduction, a degree-5 polynomial in the reduced
// argument, and 2^n assembled in the exponent field, with a scaled path for
// |n| > 126 that overflows to +inf above about 88.38 and flushes to 0 below
// about -103.97. Its error is under 2 ulp.
func ggmlExp(x float32) float32 {
	const shift = 0x1.8p23
	z := fma32(x, 0x1.715476p+0, shift)
	n := z - shift
	b := fma32(-n, 0x1.7f7d1cp-20, fma32(-n, 0x1.62e4p-1, x))
	e := math.Float32bits(z) << 23
	k := math.Float32frombits(e + 0x3f800000)
	u := float32(b * b)
	j := fma32(fma32(fma32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma32(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u, float32(0x1.ffffecp-1*b))
	if absF32(n) <= 126 || n != n {
		return fma32(k, j, k)
	}
	var g uint32
	if n <= 0 {
		g = 0x82000000
	}
	s1 := math.Float32frombits(g + 0x7f000000)
	if absF32(n) > 192 {
		return float32(s1 * s1)
	}
	s2 := math.Float32frombits(e - g)
	return float32(fma32(s2, j, s2) * s1)
}

// expF32 is exp rounded to float32, for the scalar tails (ggml calls expf).
func expF32(x float32) float32 { return float32(math.Exp(float64(x))) }

func siluGeneric(dst, x []float32) {
	x = x[:len(dst)]
	n8 := len(x) &^ 7
	for i, v := range x[:n8] {
		dst[i] = v / (1 + ggmlExp(0-v))
	}
	for i := n8; i < len(x); i++ {
		dst[i] = x[i] / (1 + expF32(-x[i]))
	}
}

func swigluGeneric(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	n8 := len(dst) &^ 7
	for i := range dst {
		g := gate[i]
		var s float32
		if i < n8 {
			s = g / (1 + ggmlExp(0-g))
		} else {
			s = g / (1 + expF32(-g))
		}
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
		sum += float64(float32(v * v))
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

// softmaxGeneric follows ggml_vec_soft_max_f32: each group of eight exps is
// summed in float32 in the vector code's order and then added to a float64
// total; tail elements are added one by one.
func softmaxGeneric(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := float32(math.Inf(-1))
	for _, v := range x {
		mx = max(mx, v)
	}
	var sum float64
	n8 := len(x) &^ 7
	for i := 0; i < n8; i += 8 {
		v := x[i : i+8 : i+8]
		for l := range v {
			v[l] = ggmlExp(v[l] - mx)
		}
		sum += float64(((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7])))
	}
	for i := n8; i < len(x); i++ {
		e := expF32(x[i] - mx)
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}
