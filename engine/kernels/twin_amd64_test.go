//go:build amd64

package kernels

import (
	"math"
	"testing"
)

// simdOrSkip returns the assembly set, skipping when the CPU lacks it.
func simdOrSkip(t *testing.T) *kernelSet {
	ks, ok := simdKernels()
	if !ok {
		t.Skip("CPU lacks AVX2/FMA/F16C: no assembly kernels to compare")
	}
	return ks
}

// TestQuantDotTwins compares each assembly quantized dot with its generic
// twin. Both sum every block exactly in integers, so they may differ only
// by the order of the float32 additions across blocks.
func TestQuantDotTwins(t *testing.T) {
	simd := simdOrSkip(t)
	r := newRand(t)
	for _, f := range quantFormats {
		for _, nb := range []int{1, 2, 3, 5, 19, 28} {
			n := nb * f.blockElems
			for trial := range 20 {
				w := randWeights(r, f, nb)
				x := randF32(r, n)
				if trial%5 == 0 {
					for i := range x {
						x[i] = float32(i%3) * 0.25 // exact-tie values and zero runs
					}
				}
				a, _ := quantizeAct(f.act, x)
				g := f.dot(&genericKernels)(w, a, n)
				s := f.dot(simd)(offsetBytes(w), offsetBytes(a), n)
				_, scale := refDot(f, w, a, nb)
				if !near(float64(s), float64(g), scale, 1e-6) {
					t.Errorf("%s nb=%d: avx2 %.9g generic %.9g", f.name, nb, s, g)
				}
			}
		}
	}
}

// TestQuantizeTwins requires the assembly quantizers to match the generic
// ones byte for byte.
func TestQuantizeTwins(t *testing.T) {
	simd := simdOrSkip(t)
	r := newRand(t)
	type qz struct {
		name        string
		elems, size int
		g, s        func(dst []byte, x []float32)
	}
	for _, q := range []qz{
		{"Q8_0", qk, bQ8_0, genericKernels.quantizeQ8_0, simd.quantizeQ8_0},
		{"Q8_1", qk, bQ8_1, genericKernels.quantizeQ8_1, simd.quantizeQ8_1},
		{"Q8_K", qkK, bQ8_K, genericKernels.quantizeQ8_K, simd.quantizeQ8_K},
	} {
		for _, nb := range []int{0, 1, 2, 3, 7, 28} {
			for trial := range 10 {
				x := offset(randF32(r, nb*q.elems))
				switch trial {
				case 1:
					clear(x) // all-zero blocks
				case 2:
					for i := range x {
						x[i] = float32(i%9-4) * 0.5 // ties at every half step
					}
				case 3:
					for i := range x {
						x[i] *= 1e-30 // fp16-subnormal scales
					}
				case 4, 5:
					// +m and -m in one block: ggml keeps whichever comes
					// first, which decides the signs of d and every q.
					for b := 0; b+20 <= len(x); b += q.elems {
						x[b+3], x[b+17] = 9, -9
						if trial == 5 {
							x[b+3], x[b+17] = -9, 9
						}
					}
				}
				gd := make([]byte, nb*q.size)
				sd := offsetBytes(make([]byte, nb*q.size))
				q.g(gd, x)
				q.s(sd, x)
				if string(gd) != string(sd) {
					t.Fatalf("%s nb=%d trial %d: assembly output differs from generic", q.name, nb, trial)
				}
			}
		}
	}
}

// TestExpAccuracy sweeps the assembly exp (through expSubSumAVX with m = 0)
// over its whole range and bounds the error against math.Exp.
func TestExpAccuracy(t *testing.T) {
	simdOrSkip(t)
	const n = 1 << 16
	x := make([]float32, n)
	for i := range x {
		x[i] = -86 + 174.5*float32(i)/n
	}
	y := append([]float32(nil), x...)
	expSubSumAVX(&y[0], n, 0)
	worst := 0.0
	for i, v := range x {
		want := math.Exp(float64(v))
		if want > math.MaxFloat32 {
			continue
		}
		worst = max(worst, ulpDiff(y[i], want))
	}
	if worst > 3 {
		t.Errorf("exp worst error %.2f ulp, want <= 3", worst)
	}
	t.Logf("worst exp error over [-86, 88.5]: %.2f ulp", worst)
	z := []float32{-87, -1000, float32(math.Inf(-1)), -86.6, 0, 89, float32(math.Inf(1)), 88.7}
	expSubSumAVX(&z[0], 8, 0)
	for i := range 4 {
		if z[i] != 0 {
			t.Errorf("exp(very negative) = %g, want 0", z[i])
		}
	}
	if z[4] != 1 {
		t.Errorf("exp(0) = %g, want 1", z[4])
	}
	if !math.IsInf(float64(z[5]), 1) || !math.IsInf(float64(z[6]), 1) {
		t.Errorf("exp(89), exp(+inf) = %g, %g, want +inf", z[5], z[6])
	}
	if d := ulpDiff(z[7], math.Exp(float64(float32(88.7)))); d > 3 {
		t.Errorf("exp(88.7) = %g, %.1f ulp off", z[7], d)
	}
}

// TestActivationTwins compares the assembly activations with the generic
// ones on the same inputs.
func TestActivationTwins(t *testing.T) {
	simd := simdOrSkip(t)
	r := newRand(t)
	for _, n := range lengths {
		x, up, w := offset(randF32(r, n)), randF32(r, n), randF32(r, n)
		for i := range x {
			x[i] *= 8
		}
		g, s := make([]float32, n), make([]float32, n)
		genericKernels.silu(g, x)
		simd.silu(s, x)
		for i := range g {
			if ulpDiff(s[i], float64(g[i])) > 4 {
				t.Fatalf("silu n=%d i=%d: avx2 %g generic %g", n, i, s[i], g[i])
			}
		}
		if n == 0 {
			continue
		}
		genericKernels.rmsNorm(g, x, w, 1e-6)
		simd.rmsNorm(s, x, w, 1e-6)
		for i := range g {
			if ulpDiff(s[i], float64(g[i])) > 1 {
				t.Fatalf("rmsnorm n=%d i=%d: avx2 %g generic %g", n, i, s[i], g[i])
			}
		}
		copy(g, x)
		copy(s, x)
		genericKernels.softmax(g)
		simd.softmax(s)
		for i := range g {
			if math.Abs(float64(s[i]-g[i])) > 4e-7*float64(g[i])+1e-37 {
				t.Fatalf("softmax n=%d i=%d: avx2 %g generic %g", n, i, s[i], g[i])
			}
		}
		_ = up
	}
}
