//go:build amd64

package kernels

import (
	"math"
	"testing"
)

// simdOrSkip returns the assembly levels the CPU runs, skipping when it
// has none.
func simdOrSkip(t *testing.T) []*kernelSet {
	ks := simdLevels()
	if len(ks) == 0 {
		t.Skip("CPU lacks AVX2/FMA/F16C: no assembly kernels to compare")
	}
	return ks
}

// eachLevel runs f once per assembly level, as a subtest named after it.
func eachLevel(t *testing.T, f func(t *testing.T, simd *kernelSet)) {
	for _, ks := range simdOrSkip(t) {
		t.Run(ks.name, func(t *testing.T) { f(t, ks) })
	}
}

// ggmlLaneFormats are the formats whose generic kernel emulates the AVX2
// lanes and reduction order, so the two must agree bit for bit.
var ggmlLaneFormats = map[string]bool{"Q8_0": true, "Q4_0": true, "Q5_0": true, "Q4_1": true, "Q5_1": true, "Q4_K": true, "Q6_K": true}

// TestQuantDotTwins compares each assembly quantized dot with its generic
// twin: bit for bit where both follow ggml's lane arithmetic, otherwise
// (both sum every block exactly in integers) up to float32 summation order.
func TestQuantDotTwins(t *testing.T) {
	eachLevel(t, func(t *testing.T, simd *kernelSet) {
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
					if ggmlLaneFormats[f.name] {
						if math.Float32bits(s) != math.Float32bits(g) {
							t.Errorf("%s nb=%d: assembly %.9g generic %.9g, want bit-identical", f.name, nb, s, g)
						}
						continue
					}
					_, scale := refDot(f, w, a, nb)
					if !near(float64(s), float64(g), scale, 1e-6) {
						t.Errorf("%s nb=%d: assembly %.9g generic %.9g", f.name, nb, s, g)
					}
				}
			}
		}
	})
}

// TestQuantizeTwins requires the assembly quantizers to match the generic
// ones byte for byte.
func TestQuantizeTwins(t *testing.T) {
	eachLevel(t, func(t *testing.T, simd *kernelSet) {
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
	})
}

// TestExpAccuracy sweeps the assembly exp (through expSubSumAVX with m = 0)
// over [-110, 95], which covers its scaled path (|n| > 126), overflow and
// flush to zero: it must equal the Go ggmlExp bit for bit, and stay within
// 2 ulp of math.Exp wherever the result is a normal float32.
func TestExpAccuracy(t *testing.T) {
	simdOrSkip(t)
	const n = 1 << 17
	x := make([]float32, n)
	for i := range x {
		x[i] = -110 + 205*float32(i)/n
	}
	special := []float32{0, -0.0, 1, -1, 88.3, 88.4, 89, -87.3, -103.9, -104, -1000, 1000}
	copy(x, special)
	x = append(x, float32(math.Inf(1)), float32(math.Inf(-1)), 0, 0, 0, 0, 0, 0)
	y := append([]float32(nil), x...)
	expSubSumAVX(&y[0], len(y), 0)
	worst, mismatches := 0.0, 0
	for i, v := range x {
		g := ggmlExp(v)
		if math.Float32bits(y[i]) != math.Float32bits(g) {
			if mismatches++; mismatches <= 5 {
				t.Errorf("exp(%g): assembly %g, Go %g", v, y[i], g)
			}
		}
		want := math.Exp(float64(v))
		if want < 0x1p-126 || want > math.MaxFloat32 {
			continue
		}
		worst = max(worst, ulpDiff(y[i], want))
	}
	if worst > 2 {
		t.Errorf("exp worst error %.2f ulp, want <= 2", worst)
	}
	t.Logf("worst exp error: %.2f ulp; %d of %d differ from the Go version", worst, mismatches, len(x))
	last := y[len(y)-8:]
	if !math.IsInf(float64(y[len(y)-8]), 1) || last[1] != 0 {
		t.Errorf("exp(+inf), exp(-inf) = %g, %g, want +inf, 0", last[0], last[1])
	}
}

// TestActivationTwins compares the assembly activations with the generic
// ones on the same inputs.
func TestActivationTwins(t *testing.T) {
	eachLevel(t, func(t *testing.T, simd *kernelSet) {
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
				if ulpDiff(s[i], float64(g[i])) > 1 {
					t.Fatalf("silu n=%d i=%d: assembly %g generic %g", n, i, s[i], g[i])
				}
			}
			if n == 0 {
				continue
			}
			genericKernels.rmsNorm(g, x, w, 1e-6)
			simd.rmsNorm(s, x, w, 1e-6)
			for i := range g {
				if ulpDiff(s[i], float64(g[i])) > 1 {
					t.Fatalf("rmsnorm n=%d i=%d: assembly %g generic %g", n, i, s[i], g[i])
				}
			}
			copy(g, x)
			copy(s, x)
			genericKernels.softmax(g)
			simd.softmax(s)
			for i := range g {
				if ulpDiff(s[i], float64(g[i])) > 1 && math.Abs(float64(s[i]-g[i])) > 1e-37 {
					t.Fatalf("softmax n=%d i=%d: assembly %g generic %g", n, i, s[i], g[i])
				}
			}
			_ = up
		}
	})
}
