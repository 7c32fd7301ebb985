//go:build amd64

package kernels

import "testing"

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
