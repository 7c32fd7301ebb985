package kernels

import "fmt"

// Block sizes, in elements and bytes, of the layouts the kernels read.
const (
	qk    = 32  // elements in a Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q8_1 block
	qkK   = 256 // elements in a K-quant super-block
	bQ8_0 = 34
	bQ8_1 = 36
	bQ4_0 = 18
	bQ4_1 = 20
	bQ5_0 = 22
	bQ5_1 = 24
	bQ8_K = 292
	bQ2_K = 84
	bQ3_K = 110
	bQ4_K = 144
	bQ5_K = 176
	bQ6_K = 210
)

func sameLen(kernel string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("kernels: %s: operand lengths %d and %d differ", kernel, a, b))
	}
}

// checkBlocks panics unless n is a multiple of blockElems and each byte
// slice holds at least the n/blockElems blocks the kernel will read.
func checkBlocks(kernel string, n, blockElems int, w []byte, wBlock int, a []byte, aBlock int) {
	if n < 0 || n%blockElems != 0 {
		panic(fmt.Sprintf("kernels: %s: n=%d is not a multiple of the block size %d", kernel, n, blockElems))
	}
	nb := n / blockElems
	if len(w) < nb*wBlock {
		panic(fmt.Sprintf("kernels: %s: weight row has %d bytes, %d elements need %d", kernel, len(w), n, nb*wBlock))
	}
	if len(a) < nb*aBlock {
		panic(fmt.Sprintf("kernels: %s: activation row has %d bytes, %d elements need %d", kernel, len(a), n, nb*aBlock))
	}
}

func checkQuantize(kernel string, dst []byte, n, blockElems, blockBytes int) {
	if n%blockElems != 0 {
		panic(fmt.Sprintf("kernels: %s: %d elements is not a multiple of the block size %d", kernel, n, blockElems))
	}
	if need := n / blockElems * blockBytes; len(dst) < need {
		panic(fmt.Sprintf("kernels: %s: destination has %d bytes, %d elements need %d", kernel, len(dst), n, need))
	}
}

// DotF32 returns the dot product of a and b, which must have equal lengths.
func DotF32(a, b []float32) float32 {
	sameLen("DotF32", len(a), len(b))
	return active.dotF32(a, b)
}

// AxpyF32 adds alpha*x to y element-wise; x and y must have equal lengths.
func AxpyF32(y []float32, alpha float32, x []float32) {
	sameLen("AxpyF32", len(y), len(x))
	active.axpyF32(y, alpha, x)
}

// ScaleF32 multiplies every element of x by s.
func ScaleF32(x []float32, s float32) { active.scaleF32(x, s) }

// GemmF32 computes C = A·Bᵀ, where A is m×k, B is n×k and C is m×n, all
// row-major with no padding. Each output element is the dot product of a row
// of A and a row of B, which is the layout of a weight matrix stored one
// output row after another (as in GGUF) multiplied by a batch of activation
// rows. C is overwritten.
func GemmF32(c, a, b []float32, m, n, k int) {
	if m < 0 || n < 0 || k < 0 || len(a) < m*k || len(b) < n*k || len(c) < m*n {
		panic(fmt.Sprintf("kernels: GemmF32: m=%d n=%d k=%d need len(a)>=%d len(b)>=%d len(c)>=%d, have %d %d %d",
			m, n, k, m*k, n*k, m*n, len(a), len(b), len(c)))
	}
	active.gemmF32(c, a, b, m, n, k)
}

// DotF16 returns the dot product of a row of IEEE half-precision values (w,
// little-endian, two bytes per element) with x.
func DotF16(w []byte, x []float32) float32 {
	sameLen("DotF16", len(w), 2*len(x))
	return active.dotF16(w, x)
}

// DotBF16 returns the dot product of a row of bfloat16 values (w,
// little-endian, two bytes per element) with x.
func DotBF16(w []byte, x []float32) float32 {
	sameLen("DotBF16", len(w), 2*len(x))
	return active.dotBF16(w, x)
}

// QuantizeQ8_0 quantizes x (a multiple of 32 elements) into Q8_0 blocks of
// 34 bytes: an fp16 scale d = amax/127 and 32 int8 values round(x*127/amax).
// It reproduces ggml's AVX2 quantize_row_q8_0, which llama.cpp runs for the
// activations on x86: the inverse scale is 127/amax (not 1/d) and values round
// half to even. ggml's scalar quantize_row_q8_0_ref differs from it in both
// points (1/d, and roundf's half away from zero), which changes an element
// by one step in rare cases.
func QuantizeQ8_0(dst []byte, x []float32) {
	checkQuantize("QuantizeQ8_0", dst, len(x), qk, bQ8_0)
	active.quantizeQ8_0(dst, x)
}

// QuantizeQ8_1 quantizes x (a multiple of 32 elements) into Q8_1 blocks of
// 36 bytes: fp16 d, fp16 s = d*sum(q), and 32 int8 values, rounded as in
// QuantizeQ8_0 (ggml's AVX2 quantize_row_q8_1).
func QuantizeQ8_1(dst []byte, x []float32) {
	checkQuantize("QuantizeQ8_1", dst, len(x), qk, bQ8_1)
	active.quantizeQ8_1(dst, x)
}

// QuantizeQ8_K quantizes x (a multiple of 256 elements) into Q8_K blocks of
// 292 bytes: a float32 scale d = max/-127 (max is the signed element of
// largest magnitude), 256 int8 values nearest(x*-127/max) capped at 127, and
// 16 int16 sums of 16 consecutive values. It is bit-exact with ggml's
// quantize_row_q8_K_ref, which ggml also uses on x86.
func QuantizeQ8_K(dst []byte, x []float32) {
	checkQuantize("QuantizeQ8_K", dst, len(x), qkK, bQ8_K)
	active.quantizeQ8_K(dst, x)
}

// DotQ8_0 returns the dot product of n elements of a Q8_0 weight row w with
// a Q8_0 activation a (see QuantizeQ8_0).
func DotQ8_0(w, a []byte, n int) float32 {
	checkBlocks("DotQ8_0", n, qk, w, bQ8_0, a, bQ8_0)
	return active.dotQ8_0(w, a, n)
}

// DotQ4_0 returns the dot product of n elements of a Q4_0 weight row w with
// a Q8_0 activation a.
func DotQ4_0(w, a []byte, n int) float32 {
	checkBlocks("DotQ4_0", n, qk, w, bQ4_0, a, bQ8_0)
	return active.dotQ4_0(w, a, n)
}

// DotQ5_0 returns the dot product of n elements of a Q5_0 weight row w with
// a Q8_0 activation a.
func DotQ5_0(w, a []byte, n int) float32 {
	checkBlocks("DotQ5_0", n, qk, w, bQ5_0, a, bQ8_0)
	return active.dotQ5_0(w, a, n)
}

// DotQ4_1 returns the dot product of n elements of a Q4_1 weight row w with
// a Q8_1 activation a (see QuantizeQ8_1).
func DotQ4_1(w, a []byte, n int) float32 {
	checkBlocks("DotQ4_1", n, qk, w, bQ4_1, a, bQ8_1)
	return active.dotQ4_1(w, a, n)
}

// DotQ5_1 returns the dot product of n elements of a Q5_1 weight row w with
// a Q8_1 activation a.
func DotQ5_1(w, a []byte, n int) float32 {
	checkBlocks("DotQ5_1", n, qk, w, bQ5_1, a, bQ8_1)
	return active.dotQ5_1(w, a, n)
}

// DotQ2_K returns the dot product of n elements of a Q2_K weight row w with
// a Q8_K activation a (see QuantizeQ8_K).
func DotQ2_K(w, a []byte, n int) float32 {
	checkBlocks("DotQ2_K", n, qkK, w, bQ2_K, a, bQ8_K)
	return active.dotQ2_K(w, a, n)
}

// DotQ3_K returns the dot product of n elements of a Q3_K weight row w with
// a Q8_K activation a.
func DotQ3_K(w, a []byte, n int) float32 {
	checkBlocks("DotQ3_K", n, qkK, w, bQ3_K, a, bQ8_K)
	return active.dotQ3_K(w, a, n)
}

// DotQ4_K returns the dot product of n elements of a Q4_K weight row w with
// a Q8_K activation a.
func DotQ4_K(w, a []byte, n int) float32 {
	checkBlocks("DotQ4_K", n, qkK, w, bQ4_K, a, bQ8_K)
	return active.dotQ4_K(w, a, n)
}

// DotQ5_K returns the dot product of n elements of a Q5_K weight row w with
// a Q8_K activation a.
func DotQ5_K(w, a []byte, n int) float32 {
	checkBlocks("DotQ5_K", n, qkK, w, bQ5_K, a, bQ8_K)
	return active.dotQ5_K(w, a, n)
}

// DotQ6_K returns the dot product of n elements of a Q6_K weight row w with
// a Q8_K activation a.
func DotQ6_K(w, a []byte, n int) float32 {
	checkBlocks("DotQ6_K", n, qkK, w, bQ6_K, a, bQ8_K)
	return active.dotQ6_K(w, a, n)
}

// SiLU sets dst[i] = x[i]/(1+exp(-x[i])) exactly as ggml computes it on an
// AVX2 machine: elements in whole groups of eight from the start of the
// slice use ggml's vector exp approximation (under 2 ulp), the last len%8
// a correctly rounded exp, as ggml's scalar tail loop does. On llama.cpp's
// own tensors the result is bit-identical. dst and x must have equal
// lengths and may be the same slice.
func SiLU(dst, x []float32) {
	sameLen("SiLU", len(dst), len(x))
	active.silu(dst, x)
}

// SwiGLU sets dst[i] = silu(gate[i])*up[i], with silu as in SiLU and
// rounded to float32 before the product, as llama.cpp's separate silu and
// mul ops do. dst may alias gate or up.
func SwiGLU(dst, gate, up []float32) {
	sameLen("SwiGLU", len(dst), len(gate))
	sameLen("SwiGLU", len(dst), len(up))
	active.swiglu(dst, gate, up)
}

// RMSNorm sets dst[i] = (x[i]*scale)*w[i] with scale =
// 1/sqrt(mean(x²)+eps), as ggml's rms_norm followed by mul: the squares are
// summed in float64, the mean and scale are float32. dst may alias x.
func RMSNorm(dst, x, w []float32, eps float32) {
	sameLen("RMSNorm", len(dst), len(x))
	sameLen("RMSNorm", len(w), len(x))
	active.rmsNorm(dst, x, w, eps)
}

// Softmax replaces x with exp(x-max(x))/sum as ggml_vec_soft_max_f32 does
// on AVX2: exps as in SiLU (ggml's vector exp for whole groups of eight,
// a rounded exp for the tail), each group of eight summed in float32 and
// added to a float64 total, then every element multiplied by the float32
// 1/sum. -Inf entries (masked positions) come out as exactly 0. An empty
// slice is left alone.
func Softmax(x []float32) { active.softmax(x) }
